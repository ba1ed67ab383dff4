"""Pre-flight checks: reported in step 6, and each failing one stops the run with its own message
before anything is written (asserted on the sandbox's request log)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from nim_widget.cluster.api import Api
from nim_widget.cluster.connect import connect
from nim_widget.cluster.discovery import gather
from nim_widget.cluster.errors import (
    AlreadyExists,
    Forbidden,
    NimAccountError,
    NimWidgetError,
    PreflightFailed,
    RequestInvalid,
    TemplateError,
    UnknownNameError,
)
from nim_widget.deploy import DeployResult, deploy
from nim_widget.deploy.actions import writes_for
from nim_widget.deploy.cache_sizes import KNOWN_CACHE_SIZES, known_cache_size
from nim_widget.deploy.preflight import Preflight
from nim_widget.deploy.steps import Step, StepEvent, StepState
from nim_widget.manifests import assemble
from nim_widget.request import DeploymentRequest
from nim_widget.sandbox import Rule, Sandbox

ACCOUNTS = "accounts.nim.opendatahub.io"
REVIEWS = "selfsubjectaccessreviews"
SPEC: dict[str, Any] = {
    "project": "demo",
    "displayName": "Llama 3.1 8B",
    "model": "llama-3.1-8b-instruct",
    "storage": {"mode": "new", "pvcName": "llama-cache", "size": "50Gi", "subPath": "llama"},
    "hardwareProfile": "nvidia-gpu-1x",
}
CHECKS = [
    "account",
    "template",
    "secrets",
    "storage class",
    "cache size",
    "accelerators",
    "model format",
    "name",
    "permissions",
]


@pytest.fixture
def api(sandbox: Sandbox, tmp_path: Path) -> Iterator[Api]:
    with connect(kubeconfig=sandbox.write_kubeconfig(tmp_path / "kubeconfig", namespace="demo")) as conn:
        yield Api(api_client=conn.api_client, sleep=lambda _seconds: None)


def writes(sandbox: Sandbox) -> list[str]:
    """Real writes in the log (dry runs and access reviews store nothing)."""
    return [
        f"{e.verb} {e.resource}"
        for e in sandbox.log.entries
        if e.is_write and not e.dry_run and e.resource != REVIEWS
    ]


def attempt(
    api: Api, sandbox: Sandbox, **changes: Any
) -> tuple[DeployResult | NimWidgetError, list[StepEvent]]:
    events: list[StepEvent] = []
    sandbox.log.clear()
    try:
        return deploy(
            api=api, request={**SPEC, **changes}, on_event=events.append, clock=sandbox.clock
        ), events
    except NimWidgetError as error:
        return error, events


def step6(events: list[StepEvent]) -> str:
    return "\n".join(e.detail for e in events if e.step == Step.DRY_RUN)


def test_every_check_is_reported_in_the_dry_run_step(api: Api, sandbox: Sandbox) -> None:
    result, events = attempt(api, sandbox)
    assert isinstance(result, DeployResult)
    assert [c.name for c in result.preflight] == CHECKS
    states = {c.name: c.state for c in result.preflight}
    assert states == dict.fromkeys(CHECKS, "passed"), result.preflight
    report = step6(events)
    for check in result.preflight:
        assert check.line() in report
    assert "pre-flight: 9 passed, 0 skipped" in report
    assert "NIM account demo/odh-nim-account is ready" in report
    assert "storage class managed-csi exists" in report
    assert "50Gi holds Llama 3.1 8B Instruct (about 16 GB)" in report
    assert "nvidia.com/gpu on 2 node(s)" in report
    assert "rollback allowed (delete servingruntimes.serving.kserve.io, delete inferenceservices" in report
    # the checks ride with the dry runs: every access review and the node list come before any write
    entries = sandbox.log.entries
    first_write = next(
        i for i, e in enumerate(entries) if e.is_write and not e.dry_run and e.resource != REVIEWS
    )
    assert {e.resource for e in entries[first_write:]}.isdisjoint({REVIEWS, "nodes"})


def test_a_dry_run_reports_the_checks_too(api: Api, sandbox: Sandbox) -> None:
    events: list[StepEvent] = []
    result = deploy(api=api, request=SPEC, dry_run=True, on_event=events.append)
    assert result.dry_run and len(result.preflight) == len(CHECKS)
    assert "pre-flight: 9 passed" in step6(events)
    assert writes(sandbox) == []


# -- each failing check: its message, its step, and no write ----------------------------------------


def _invalid_key(sandbox: Sandbox) -> None:
    account = sandbox.store.get(ACCOUNTS, "demo", "odh-nim-account")
    status = account["status"]
    status["conditions"] = [
        {
            "type": "AccountStatus",
            "status": "False",
            "reason": "AccountNotSuccessful",
            "message": "api key failed validation",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        },
    ]
    sandbox.store.update_status(ACCOUNTS, "demo", "odh-nim-account", status)


def _no_template(sandbox: Sandbox) -> None:
    sandbox.store.delete("templates.template.openshift.io", "demo", "odh-nim-account-template")


def _unreadable_pull_secret(sandbox: Sandbox) -> None:
    sandbox.faults.add(
        verb="get",
        resource="secrets",
        name="odh-nim-account-pull",
        status=403,
        times=100,
        message='secrets "odh-nim-account-pull" is forbidden: User "demo-user" cannot get '
        'resource "secrets" in API group "" in the namespace "demo"',
    )


def _no_gpu_nodes(sandbox: Sandbox) -> None:
    nodes, _ = sandbox.store.list("nodes")
    for node in nodes:
        status = node["status"]
        for section in ("capacity", "allocatable"):
            status[section].pop("nvidia.com/gpu", None)
        sandbox.store.update_status("nodes", None, node["metadata"]["name"], status)


def _cannot_delete_pvcs(sandbox: Sandbox) -> None:
    sandbox.access.set_rules(
        [
            Rule.of(verbs="*", resources="*", namespaces=("opendatahub", "redhat-ods-applications", "")),
            Rule.of(
                verbs=("get", "list", "watch", "create", "update", "patch"), resources="*", namespaces="demo"
            ),
            Rule.of(
                verbs="delete",
                resources=("servingruntimes", "inferenceservices", "secrets"),
                namespaces="demo",
            ),
        ]
    )


Prepare = Callable[[Sandbox], None] | None
FAILING: dict[str, tuple[Prepare, dict[str, Any], type[NimWidgetError], int, str]] = {
    "account unhealthy": (_invalid_key, {}, NimAccountError, Step.LOAD_TEMPLATE, "api key failed validation"),
    "template missing": (
        _no_template,
        {},
        TemplateError,
        Step.LOAD_TEMPLATE,
        "Unable to find NIM ServingRuntime Template",
    ),
    "secret unreadable": (
        _unreadable_pull_secret,
        {},
        Forbidden,
        Step.LOAD_TEMPLATE,
        "Failed at step 2/12 (Load NIM template) on Secret demo/odh-nim-account-pull.",
    ),
    "storage class missing": (
        None,
        {"storage": {**SPEC["storage"], "storageClass": "gold"}},
        UnknownNameError,
        Step.RESOLVE_NAMES,
        'Storage class "gold" was not found',
    ),
    "new cache too small": (
        None,
        {"model": "llama-3.1-70b-instruct"},
        RequestInvalid,
        Step.DRY_RUN,
        'The model cache "llama-cache" is 50Gi, but Llama 3.1 70B Instruct needs about 280 GB '
        "(NVIDIA's guideline of about 4 GB per billion parameters). Choose at least 261Gi.",
    ),
    "existing cache too small": (
        None,
        {"model": "llama-3.1-70b-instruct", "storage": {"mode": "existing", "pvcName": "llama-3-1-8b-cache"}},
        RequestInvalid,
        Step.DRY_RUN,
        'The model cache "llama-3-1-8b-cache" is 50Gi, but Llama 3.1 70B Instruct needs',
    ),
    "no node has the accelerator": (
        _no_gpu_nodes,
        {},
        PreflightFailed,
        Step.DRY_RUN,
        "No node in the cluster offers nvidia.com/gpu",
    ),
    "name taken": (None, {"displayName": "taken"}, AlreadyExists, Step.RESOLVE_NAMES, "already exists"),
    "cannot delete for a rollback": (
        _cannot_delete_pvcs,
        {},
        Forbidden,
        Step.DRY_RUN,
        'You cannot delete resource "persistentvolumeclaims" in project demo',
    ),
}


@pytest.mark.parametrize("case", list(FAILING))
def test_a_failing_check_stops_the_run_before_any_write(api: Api, sandbox: Sandbox, case: str) -> None:
    prepare, changes, error_type, step, message = FAILING[case]
    if case == "name taken":
        deploy(
            api=api, request={**SPEC, "displayName": "taken", "storage": {"mode": "new", "pvcName": "other"}}
        )
    if prepare is not None:
        prepare(sandbox)
    outcome, events = attempt(api, sandbox, **changes)
    assert isinstance(outcome, error_type), outcome
    assert message in str(outcome)
    assert outcome.step == step
    assert [e.step for e in events if e.state == StepState.FAILED] == [step]
    assert writes(sandbox) == []


def test_a_missing_permission_is_named_with_the_verb_resource_and_who_can_grant_it(
    api: Api, sandbox: Sandbox
) -> None:
    _cannot_delete_pvcs(sandbox)
    outcome, _ = attempt(api, sandbox)
    assert isinstance(outcome, Forbidden)
    assert str(outcome) == (
        'Permission denied: You cannot delete resource "persistentvolumeclaims" in project demo, which '
        "nim-widget needs to remove the PersistentVolumeClaim objects it creates if a later step fails. "
        'Ask a project admin for the "delete" permission on persistentvolumeclaims in demo '
        "(the nim-widget-deployer Role in docs/rbac.yaml)."
    )
    assert outcome.causes == {"permissions": outcome.detail}
    reviews = [e for e in sandbox.log.entries if e.resource == REVIEWS]
    assert len(reviews) == 4 and all(
        e.body["spec"]["resourceAttributes"]["verb"] == "delete" for e in reviews
    )


def test_a_missing_create_permission_found_by_the_dry_run_is_named_the_same_way(
    api: Api, sandbox: Sandbox
) -> None:
    sandbox.access.set_rules(
        [
            Rule.of(verbs="*", resources="*", namespaces=("opendatahub", "redhat-ods-applications", "")),
            Rule.of(
                verbs="*", resources=("servingruntimes", "inferenceservices", "secrets"), namespaces="demo"
            ),
            Rule.of(verbs=("get", "list", "delete"), resources="*", namespaces="demo"),
        ]
    )
    outcome, _ = attempt(api, sandbox)
    assert isinstance(outcome, Forbidden) and outcome.step == Step.DRY_RUN
    assert str(outcome).startswith(
        'Permission denied: You cannot create resource "persistentvolumeclaims" in project demo, which '
        'nim-widget needs to create PersistentVolumeClaim llama-cache. Ask a project admin for the "create" '
        "permission"
    )
    assert "Failed at step 6/12 (Dry run) on PersistentVolumeClaim demo/llama-cache." in str(outcome)
    assert writes(sandbox) == []


def test_unreadable_nodes_skip_the_accelerator_check_and_say_so(api: Api, sandbox: Sandbox) -> None:
    sandbox.access.set_rules(
        [
            Rule.of(verbs="*", resources="*", namespaces=("demo", "opendatahub", "redhat-ods-applications")),
            Rule.of(
                verbs="*",
                resources=("storageclasses", "namespaces", "selfsubjectaccessreviews"),
                namespaces="",
            ),
        ]
    )
    result, events = attempt(api, sandbox)
    assert isinstance(result, DeployResult)
    accelerators = next(c for c in result.preflight if c.name == "accelerators")
    assert accelerators.state == "skipped"
    assert "Nodes are not readable with your permissions" in accelerators.message
    assert "pre-flight: 8 passed, 1 skipped (accelerators: Nodes are not readable" in step6(events)


def test_a_request_no_node_can_hold_alone_passes_with_a_note(api: Api, sandbox: Sandbox) -> None:
    result, _ = attempt(api, sandbox, hardwareProfile="nvidia-gpu-4x")
    assert isinstance(result, DeployResult)
    check = next(c for c in result.preflight if c.name == "accelerators")
    assert check.state == "passed"
    assert "no single node has 4 nvidia.com/gpu; the deployment will wait for one" in check.message


def test_models_without_a_known_size_are_not_judged(api: Api, sandbox: Sandbox) -> None:
    result, _ = attempt(
        api, sandbox, model="phi-3-mini-4k-instruct", storage={**SPEC["storage"], "size": "1Gi"}
    )
    assert isinstance(result, DeployResult)
    check = next(c for c in result.preflight if c.name == "cache size")
    assert check.state == "skipped" and "no known cache size for Phi-3 Mini 4K Instruct" in check.message


def test_a_big_enough_cache_passes_for_a_large_model(api: Api, sandbox: Sandbox) -> None:
    result, _ = attempt(
        api, sandbox, model="llama-3.1-70b-instruct", storage={**SPEC["storage"], "size": "261Gi"}
    )
    assert isinstance(result, DeployResult)
    assert next(c for c in result.preflight if c.name == "cache size").state == "passed"


def test_the_size_table_is_keyed_by_repository() -> None:
    assert (
        known_cache_size(repository="nvcr.io/nim/meta/llama-3.1-8b-instruct")
        == KNOWN_CACHE_SIZES["nim/meta/llama-3.1-8b-instruct"]
    )
    assert known_cache_size(repository="nvcr.io/nim/nvidia/llm-nim") is None
    assert all(size.gigabytes > 0 and size.basis for size in KNOWN_CACHE_SIZES.values())


def test_a_runtime_that_cannot_serve_the_model_format_fails_the_check(api: Api, sandbox: Sandbox) -> None:
    """Assembly always pairs them, so a mismatch is built by hand: the check must still catch it."""
    request = DeploymentRequest.model_validate(SPEC)
    facts = gather(api=api, project="demo")
    plan = assemble(request=request, facts=facts)
    runtime = plan.object("runtime")
    assert runtime is not None
    manifest = {
        **runtime.manifest,
        "spec": {**runtime.manifest["spec"], "supportedModelFormats": [{"name": "onnx", "autoSelect": True}]},
    }
    objects = tuple(
        dataclasses.replace(o, manifest=manifest) if o.role == "runtime" else o for o in plan.objects
    )
    odd = dataclasses.replace(plan, objects=objects)
    writes_, _ = writes_for(objects=odd.objects, run_id="t")
    checks, error = _finish(api, request, facts, odd, writes_)
    check = next(c for c in checks if c.name == "model format")
    assert check.state == "failed"
    assert check.message == (
        'The serving runtime llama-31-8b does not support model format "llama-3.1-8b-instruct" '
        "(it supports: onnx)."
    )
    assert isinstance(error, PreflightFailed) and check.message in str(error)


def _finish(api: Api, request: DeploymentRequest, facts: Any, plan: Any, writes_: Any) -> Any:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return Preflight.start(
            api=api, pool=pool, request=request, facts=facts, plan=plan, writes=writes_, update=False
        ).finish()
