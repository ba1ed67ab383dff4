"""docs/rbac.yaml is the least privilege: the whole flow works under exactly its required roles, and
without any single one of their verbs it fails with a message naming that verb and resource.

The roles are turned into the sandbox's access rules (one rule per namespace, resource and verb),
plus what every authenticated user has on a real cluster (creating SelfSubjectAccessReviews).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from nim_widget.cluster.api import Api
from nim_widget.cluster.connect import connect
from nim_widget.cluster.errors import NimWidgetError
from nim_widget.deploy import deploy
from nim_widget.lifecycle import EditSession, delete_deployment, edited, list_deployments, start, stop
from nim_widget.sandbox import FakeClock, Rule, Sandbox

RBAC = Path(__file__).resolve().parents[2] / "docs" / "rbac.yaml"
NAME = "llama-31-8b"
SPEC: dict[str, Any] = {
    "project": "demo",
    "displayName": "Llama 3.1 8B",
    "model": "llama-3.1-8b-instruct",
    "tag": "1.8.6",
    "storage": {"mode": "new", "pvcName": "llama-cache", "size": "50Gi", "subPath": "llama"},
    "hardwareProfile": "nvidia-gpu-1x",
}
# What RBAC's system:basic-user gives every authenticated user.
EVERYONE = [Rule.of(verbs="create", resources="selfsubjectaccessreviews", namespaces="")]


@dataclass(frozen=True)
class Grant:
    """One verb on one resource in one namespace ("" for cluster-scoped), from one role."""

    role: str
    namespace: str
    group: str
    resource: str
    verb: str

    @property
    def rule(self) -> Rule:
        qualified = f"{self.resource}.{self.group}" if self.group else self.resource
        return Rule.of(verbs=self.verb, resources=qualified, namespaces=self.namespace)

    @property
    def label(self) -> str:
        where = self.namespace or "cluster"
        return f"{self.verb} {self.resource}{'.' + self.group if self.group else ''} in {where}"


def load_grants(*, optional: bool = False) -> list[Grant]:
    """Every (namespace, resource, verb) the documented roles grant; optional roles only if asked."""
    grants = []
    for doc in yaml.safe_load_all(RBAC.read_text()):
        if not doc:
            continue
        assert doc["apiVersion"] == "rbac.authorization.k8s.io/v1" and doc["kind"] in ("Role", "ClusterRole")
        meta = doc["metadata"]
        is_optional = (meta.get("annotations") or {}).get("nim-widget/optional") == "true"
        if is_optional and not optional:
            continue
        namespace = meta.get("namespace", "") if doc["kind"] == "Role" else ""
        for rule in doc["rules"]:
            assert set(rule) == {"apiGroups", "resources", "verbs"}, rule  # no resourceNames, no wildcards
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    for verb in rule["verbs"]:
                        assert "*" not in (group, resource, verb)
                        grants.append(Grant(meta["name"], namespace, group, resource, verb))
    return grants


REQUIRED = load_grants()


def whole_flow(api: Api, sandbox: Sandbox) -> str | None:
    """Deploy, list, edit (PUT, then overwrite), stop, start, delete. None on success, else what a
    person was told."""
    try:
        deploy(api=api, request=SPEC, clock=sandbox.clock)
        # Bound, as the storage controller (off here) leaves it: only a bound claim can grow.
        sandbox.store.update_status(
            "persistentvolumeclaims",
            "demo",
            "llama-cache",
            {"phase": "Bound", "capacity": {"storage": "50Gi"}},
        )
        assert [row.name for row in list_deployments(api=api, namespace="demo")] == [NAME]
        session = EditSession.open(api=api, namespace="demo", name=NAME, clock=sandbox.clock)
        session.apply(edited(session.original, tag="1.3.3", replicas=2, storage={"size": "60Gi"}))
        session = EditSession.open(api=api, namespace="demo", name=NAME, clock=sandbox.clock)
        session.apply(edited(session.original, tag="1.2.2", replicas=3), overwrite=True)
        stop(api=api, namespace="demo", name=NAME)
        start(api=api, namespace="demo", name=NAME)
        report = delete_deployment(api=api, namespace="demo", name=NAME, delete_storage=True)
    except NimWidgetError as error:
        return str(error)
    if not report.ok:
        return " ".join(report.errors)
    return None


@pytest.fixture
def quiet_sandbox(tmp_path: Path) -> Iterator[tuple[Sandbox, Api]]:
    with (
        Sandbox(world="demo", clock=FakeClock(), controllers=False) as sb,
        connect(kubeconfig=sb.write_kubeconfig(tmp_path / "kubeconfig", namespace="demo")) as conn,
    ):
        yield sb, Api(api_client=conn.api_client, sleep=lambda _seconds: None)


def test_the_documented_roles_are_enough_for_the_whole_flow(quiet_sandbox: tuple[Sandbox, Api]) -> None:
    sandbox, api = quiet_sandbox
    sandbox.access.set_rules([*EVERYONE, *(g.rule for g in REQUIRED)])
    assert whole_flow(api, sandbox) is None
    # the flow really ran under the rules: optional reads were refused, and it did all it should
    refused = {(e.verb, e.resource) for e in sandbox.log.entries if e.status == 403}
    assert ("list", "nodes") in refused and ("list", "events") in refused
    assert sandbox.store.try_get("inferenceservices.serving.kserve.io", "demo", NAME) is None
    done = {(e.verb, e.resource) for e in sandbox.log.entries if 200 <= e.status < 300}
    assert {
        ("update", "persistentvolumeclaims"),
        ("patch", "servingruntimes"),
        ("patch", "inferenceservices"),
        ("delete", "persistentvolumeclaims"),
    } <= done


def test_the_optional_roles_only_add_checks(quiet_sandbox: tuple[Sandbox, Api]) -> None:
    sandbox, api = quiet_sandbox
    sandbox.access.set_rules([*EVERYONE, *(g.rule for g in load_grants(optional=True))])
    assert whole_flow(api, sandbox) is None
    # (the engine also looks in redhat-ods-applications, the other product's dashboard namespace)
    assert not [
        e for e in sandbox.log.entries if e.status == 403 and e.namespace != "redhat-ods-applications"
    ]


def test_every_role_says_what_needs_it_and_the_file_is_plain_rbac() -> None:
    documents = RBAC.read_text().split("\n---\n")[1:]
    assert len(REQUIRED) == len(set(REQUIRED)) >= 30
    for document in documents:
        rules = document.split("rules:")[1]
        commented = [line for line in document.splitlines() if line.lstrip().startswith("#")]
        assert commented, document  # every role says which feature needs it
        assert rules.count("- apiGroups") >= 1


@pytest.mark.parametrize("missing", REQUIRED, ids=[g.label for g in REQUIRED])
def test_without_any_one_permission_the_flow_fails_naming_it(
    quiet_sandbox: tuple[Sandbox, Api], missing: Grant
) -> None:
    sandbox, api = quiet_sandbox
    sandbox.access.set_rules([*EVERYONE, *(g.rule for g in REQUIRED if g != missing)])
    told = whole_flow(api, sandbox)
    assert told is not None, f"the flow does not need {missing.label}"
    assert missing.verb in told and missing.resource in told, told
