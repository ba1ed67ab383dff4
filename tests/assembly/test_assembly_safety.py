"""Assembly never changes its inputs, always gives the same output, and never shows a secret."""

from __future__ import annotations

import copy
import json
import logging
import pickle
import random
from typing import Any

import pytest
from assembly_world import CLUSTER_KEY, PROJECT_KEY, key_forms, objects, world
from golden_cases import CASES

from nim_widget.catalog import facts_from_objects
from nim_widget.facts import SecretValue
from nim_widget.manifests import REDACTED, RevealedSecret, assemble
from nim_widget.request import load_spec

CLUSTER_CASE = next(c for c in CASES if c.id == "cluster-account-missing-secrets")
PROJECT_CASE = next(c for c in CASES if c.id == "gpu-new-storage-subpath")
UPDATE_CASE = next(c for c in CASES if c.id == "update-overwrite-grow-storage")


def _facts_snapshot(facts: Any) -> Any:
    """Everything mutable reachable from the facts, deep-copied for a later comparison."""
    return copy.deepcopy(
        (
            facts.template.serving_runtime,
            facts.template.raw,
            facts.account.raw,
            dict(facts.existing),
            [p.raw for p in facts.pvcs],
            [p.raw for p in facts.hardware_profiles],
            [(p.tolerations, dict(p.node_selector)) for p in facts.hardware_profiles],
        )
    )


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_assembly_does_not_mutate_request_or_facts(case: Any) -> None:
    request = load_spec(text=case.spec)
    facts = world(**case.world)
    request_before = request.model_dump()
    facts_before = _facts_snapshot(facts)
    plan = assemble(request=request, facts=facts, update=case.update, overwrite=case.overwrite)
    # Changing the plan's manifests must not reach back into the facts either.
    for item in plan.objects:
        manifest: dict[str, Any] = item.manifest  # type: ignore[assignment]  # mutable on purpose
        manifest["metadata"]["name"] = "changed"
        manifest["spec"] = {"changed": True}
    assert request.model_dump() == request_before
    assert _facts_snapshot(facts) == facts_before


def test_parsers_do_not_mutate_the_objects_they_read() -> None:
    raw = objects(account="cluster", with_existing=True)
    before = copy.deepcopy(raw)
    facts = facts_from_objects(**raw)
    assemble(request=load_spec(text=CLUSTER_CASE.spec), facts=facts)
    assert raw == before


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_same_inputs_give_the_same_bytes(case: Any) -> None:
    first = assemble(
        request=load_spec(text=case.spec),
        facts=world(**case.world),
        update=case.update,
        overwrite=case.overwrite,
    ).render_yaml()
    second = assemble(
        request=load_spec(text=case.spec),
        facts=world(**case.world),
        update=case.update,
        overwrite=case.overwrite,
    ).render_yaml()
    assert first == second


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_order_of_discovered_objects_does_not_matter(seed: int) -> None:
    shuffler = random.Random(seed)
    raw = objects(with_existing=True)
    for key in ("hardware_profiles", "storage_classes", "pvcs", "serving_runtimes", "inference_services"):
        items = list(raw[key])
        shuffler.shuffle(items)
        raw[key] = items
    data = list(raw["catalog"]["data"].items())
    shuffler.shuffle(data)
    raw["catalog"] = {**raw["catalog"], "data": dict(data)}
    secret_names = list(raw["secret_names"])
    shuffler.shuffle(secret_names)
    raw["secret_names"] = secret_names
    for case in (PROJECT_CASE, next(c for c in CASES if c.id == "update-replace")):
        expected = assemble(
            request=load_spec(text=case.spec), facts=world(**case.world), update=case.update
        ).render_yaml()
        shuffled_world = facts_from_objects(
            **{**raw, "secret_names": case.world.get("project_secrets", raw["secret_names"])}
        )
        assert (
            assemble(
                request=load_spec(text=case.spec), facts=shuffled_world, update=case.update
            ).render_yaml()
            == expected
        )


def test_secret_bodies_carry_the_account_values() -> None:
    plan = assemble(request=load_spec(text=CLUSTER_CASE.spec), facts=world(account="cluster"))
    api_key = plan.object("api_key_secret")
    pull = plan.object("pull_secret")
    assert api_key is not None and pull is not None
    assert api_key.operation == pull.operation == "create"
    body = json.loads(json.dumps(api_key.manifest))
    assert body == {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": "nvidia-nim-secrets", "namespace": "my-project"},
        "data": {"NGC_API_KEY": key_forms(CLUSTER_KEY)[1]},
    }
    pull_body = json.loads(json.dumps(pull.manifest))
    assert pull_body["type"] == "kubernetes.io/dockerconfigjson"
    assert pull_body["data"] == {".dockerconfigjson": key_forms(CLUSTER_KEY)[2]}


def _leaks(text: str) -> list[str]:
    return [form for key in (PROJECT_KEY, CLUSTER_KEY) for form in key_forms(key) if form in text]


@pytest.mark.parametrize("case", [CLUSTER_CASE, PROJECT_CASE, UPDATE_CASE], ids=lambda c: c.id)
def test_secret_values_never_show(case: Any, caplog: pytest.LogCaptureFixture) -> None:
    facts = world(**case.world)
    plan = assemble(
        request=load_spec(text=case.spec), facts=facts, update=case.update, overwrite=case.overwrite
    )
    shown = [
        plan.render_yaml(),
        repr(plan),
        str(plan),
        repr(plan.redacted()),
        repr(facts),
        str(facts),
        repr(facts.api_key),
        str(facts.docker_config_json),
        f"{facts.api_key}",
        json.dumps([o.redacted_manifest() for o in plan.objects]),
        json.dumps([o.manifest for o in plan.redacted().objects]),
    ]
    for item in plan.objects:
        shown += [
            repr(item),
            str(item),
            repr(item.manifest),
            str(item.manifest),
            f"{item.manifest}",
            "%s" % (item.manifest,),  # noqa: UP031 - %-formatting is one of the ways a leak happens
        ]
    with caplog.at_level(logging.INFO):
        logging.getLogger("nim-widget-test").info("plan objects: %s", [o.manifest for o in plan.objects])
    shown.append(caplog.text)
    for text in shown:
        assert _leaks(text) == [], text[:200]


def test_real_bodies_still_serialise_the_value() -> None:
    plan = assemble(request=load_spec(text=PROJECT_CASE.spec), facts=world())
    pull = plan.object("pull_secret")
    assert pull is not None
    value = pull.manifest["data"][".dockerconfigjson"]
    assert isinstance(value, RevealedSecret)
    assert repr(value) == str(value) == f"{value}" == REDACTED
    assert key_forms(PROJECT_KEY)[2] in json.dumps(pull.manifest)
    assert value == key_forms(PROJECT_KEY)[2]


def test_secret_value_guards_itself() -> None:
    secret = SecretValue(PROJECT_KEY)
    shown = repr(secret) + str(secret) + f"{secret:>20}" + "%s" % secret  # noqa: UP031 - tested on purpose
    assert PROJECT_KEY not in shown
    assert secret.reveal() == PROJECT_KEY
    assert secret == SecretValue(PROJECT_KEY) and secret != SecretValue(CLUSTER_KEY)
    with pytest.raises(TypeError):
        pickle.dumps(secret)
