"""Failures: rollback at every write position, the concurrent race, and problems found before writing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from deploy_support import INFERENCE_SERVICES, SERVING_RUNTIMES, real_writes, settled, snapshot, spec

from nim_widget.cluster.api import Api
from nim_widget.cluster.errors import (
    AlreadyExists,
    Forbidden,
    NimAccountError,
    NimWidgetError,
    RequestInvalid,
    TemplateError,
    Unavailable,
    UnknownNameError,
)
from nim_widget.deploy import DeployResult, deploy
from nim_widget.deploy.steps import Step, StepEvent, StepState
from nim_widget.sandbox import Rule, Sandbox

ACCOUNTS = "accounts.nim.opendatahub.io"


@pytest.mark.parametrize(
    "resource", ["servingruntimes", "inferenceservices", "persistentvolumeclaims", "secrets"]
)
# Every attempt dropped: a single dropped create is recognised and sent again (tests/trust).
@pytest.mark.parametrize("fault", [{"status": 500}, {"drop": True, "times": 10}], ids=["500", "dropped"])
def test_a_failed_write_leaves_nothing_this_run_created(
    api: Api, sandbox: Sandbox, resource: str, fault: dict[str, Any]
) -> None:
    before = snapshot(sandbox)
    start = len(settled(sandbox))
    sandbox.faults.add(verb="create", resource=resource, dry_run=False, **fault)
    events: list[StepEvent] = []
    with pytest.raises(Unavailable) as err:
        deploy(api=api, request=spec(), on_event=events.append)
    assert snapshot(sandbox) == before  # created objects deleted, existing ones untouched
    created = [w for w in real_writes(sandbox, since=start) if w.verb == "create" and w.status == 201]
    deleted = [w for w in real_writes(sandbox, since=start) if w.verb == "delete"]
    assert sorted(w.resource for w in created) == sorted(w.resource for w in deleted)
    rolled_back = [e for e in events if e.state == StepState.ROLLED_BACK]
    assert len(rolled_back) == len(created)
    assert {e.step for e in events if e.state == StepState.FAILED} >= {Step.WRITE_BATCH}
    if created:
        assert "Everything this run wrote was undone" in err.value.detail


def test_a_failed_dry_run_writes_nothing(api: Api, sandbox: Sandbox) -> None:
    start = len(settled(sandbox))
    sandbox.faults.add(
        verb="create",
        resource="persistentvolumeclaims",
        dry_run=True,
        status=422,
        reason="Invalid",
        message='PersistentVolumeClaim "llama-cache" is invalid: spec: bad',
    )
    with pytest.raises(NimWidgetError) as err:
        deploy(api=api, request=spec())
    assert err.value.step == Step.DRY_RUN and "is invalid" in err.value.detail
    assert real_writes(sandbox, since=start) == []


def test_several_refused_dry_runs_report_the_runtime_first(api: Api, sandbox: Sandbox) -> None:
    """The runtime's refusal is reported even when the storage's arrives first: plan order, not
    completion order, so the same cluster always gives the same message."""
    for resource, latency in (("servingruntimes", 0.3), ("persistentvolumeclaims", 0.0)):
        sandbox.faults.add(
            verb="create",
            resource=resource,
            dry_run=True,
            status=422,
            reason="Invalid",
            message=f"{resource} refused: spec: bad",
            latency=latency,
        )
    with pytest.raises(NimWidgetError) as err:
        deploy(api=api, request=spec())
    assert err.value.step == Step.DRY_RUN and "servingruntimes refused" in err.value.detail
    assert err.value.obj is not None and err.value.obj.kind == "ServingRuntime"


def test_a_storage_name_conflict_names_the_storage(api: Api, sandbox: Sandbox) -> None:
    sandbox.faults.add(
        verb="create", resource="persistentvolumeclaims", dry_run=False, status=409, reason="AlreadyExists"
    )
    with pytest.raises(AlreadyExists) as err:
        deploy(api=api, request=spec())
    assert err.value.detail.startswith(  # the dashboard's own sentence for a conflict that is not IS/SR
        'A resource with the name "Llama 3.1 8B" already exists. Please choose a different resource name.'
    )
    assert (
        'The storage "llama-cache" already exists in project demo: choose another cluster storage name '
        "or use the existing storage." in err.value.detail
    )


def test_two_concurrent_deploys_of_one_name_give_one_success_and_one_already_exists(
    api: Api, sandbox: Sandbox
) -> None:
    both_checked = threading.Barrier(2, timeout=20)

    def wait_for_the_other(event: StepEvent) -> None:
        # Both runs pass discovery and their dry runs before either writes: a true race.
        if event.step == Step.DRY_RUN and event.state == StepState.SUCCEEDED:
            both_checked.wait()

    def run(replicas: int) -> DeployResult | NimWidgetError:
        try:
            return deploy(api=api, request=spec(replicas=replicas), on_event=wait_for_the_other)
        except NimWidgetError as error:
            return error

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(run, [1, 2]))
    results = [o for o in outcomes if isinstance(o, DeployResult)]
    errors = [o for o in outcomes if isinstance(o, NimWidgetError)]
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], AlreadyExists)
    assert errors[0].detail == (
        'A model deployment with the name "Llama 3.1 8B" already exists. '
        "Please choose a different model deployment name."
    )
    winner_replicas = 1 if outcomes[0] is results[0] else 2
    isvc = sandbox.store.get(INFERENCE_SERVICES, "demo", "llama-31-8b")
    assert isvc["spec"]["predictor"]["minReplicas"] == winner_replicas
    assert sandbox.store.try_get(SERVING_RUNTIMES, "demo", "llama-31-8b") is not None
    assert sandbox.store.try_get("persistentvolumeclaims", "demo", "llama-cache") is not None
    assert not [w for w in real_writes(sandbox) if w.verb == "delete"]  # the loser had nothing to undo


def _account(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.store.get(ACCOUNTS, "demo", "odh-nim-account")


def _no_account(sandbox: Sandbox) -> None:
    account = _account(sandbox)
    account["metadata"]["finalizers"] = []
    sandbox.store.replace(ACCOUNTS, account)
    sandbox.store.delete(ACCOUNTS, "demo", "odh-nim-account")


def _invalid_key(sandbox: Sandbox) -> None:
    status = _account(sandbox)["status"]
    status["conditions"] = [
        {
            "type": "APIKeyValidation",
            "status": "False",
            "reason": "ApiKeyNotValidated",
            "message": "api key failed validation",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        },
        {
            "type": "AccountStatus",
            "status": "False",
            "reason": "AccountNotSuccessful",
            "message": "api key failed validation",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        },
    ]
    sandbox.store.update_status(ACCOUNTS, "demo", "odh-nim-account", status)


def _stuck_pending(sandbox: Sandbox) -> None:
    status = _account(sandbox)["status"]
    status["conditions"] = []
    status["lastAccountCheck"] = "2025-12-31T23:00:00Z"  # an hour before the FakeClock's now
    sandbox.store.update_status(ACCOUNTS, "demo", "odh-nim-account", status)


def _no_template(sandbox: Sandbox) -> None:
    sandbox.store.delete("templates.template.openshift.io", "demo", "odh-nim-account-template")


def _forbidden_reads(sandbox: Sandbox) -> None:
    sandbox.access.set_rules(
        [
            Rule.of(verbs="*", resources="*", namespaces=("opendatahub", "")),
            Rule.of(
                verbs=("get", "list"),
                resources=(
                    "accounts",
                    "templates",
                    "configmaps",
                    "secrets",
                    "namespaces",
                    "hardwareprofiles",
                    "persistentvolumeclaims",
                ),
                namespaces="demo",
            ),
        ]
    )


def _forbidden_writes(sandbox: Sandbox) -> None:
    sandbox.access.set_rules([Rule.of(verbs=("get", "list", "watch"), resources="*", namespaces="*")])


CASES: dict[str, tuple[Callable[[Sandbox], None] | None, dict[str, Any], type[NimWidgetError], int, str]] = {
    "missing account": (
        _no_account,
        {},
        NimAccountError,
        Step.LOAD_TEMPLATE,
        "No NIM API key: No NVIDIA NIM key has been configured for this project.",
    ),
    "invalid key": (
        _invalid_key,
        {},
        NimAccountError,
        Step.LOAD_TEMPLATE,
        "Invalid NIM API key: api key failed validation.",
    ),
    "validation stuck": (
        _stuck_pending,
        {},
        NimAccountError,
        Step.LOAD_TEMPLATE,
        "NIM account validation is taking longer than expected.",
    ),
    "missing template": (
        _no_template,
        {},
        TemplateError,
        Step.LOAD_TEMPLATE,
        "Unable to find NIM ServingRuntime Template in namespace demo",
    ),
    "unknown project": (
        None,
        {"project": "nowhere"},
        UnknownNameError,
        Step.LOAD_TEMPLATE,
        'Project "nowhere" was not found',
    ),
    "unknown model": (
        None,
        {"model": "llama-3.1-8b-instruc"},
        UnknownNameError,
        Step.RESOLVE_NAMES,
        'NIM image "llama-3.1-8b-instruc" is not in the NIM catalog (did you mean "llama-3.1-8b-instruct"?)',
    ),
    "unknown tag": (
        None,
        {"tag": "9.9.9"},
        UnknownNameError,
        Step.RESOLVE_NAMES,
        'Tag "9.9.9" is not available for Llama 3.1 8B Instruct',
    ),
    "unknown profile": (
        None,
        {"hardwareProfile": "nvidia-gpu-9x"},
        UnknownNameError,
        Step.RESOLVE_NAMES,
        'Hardware profile "nvidia-gpu-9x" was not found',
    ),
    "unknown storage class": (
        None,
        {"storage": {"mode": "new", "pvcName": "c", "storageClass": "gold"}},
        UnknownNameError,
        Step.RESOLVE_NAMES,
        'Storage class "gold" was not found',
    ),
    "override out of bounds": (
        None,
        {"resources": {"requests": {"cpu": "64"}}},
        RequestInvalid,
        Step.RESOLVE_NAMES,
        "resources.requests.cpu: CPU must be between",
    ),
    "forbidden read": (_forbidden_reads, {}, Forbidden, Step.LOAD_TEMPLATE, "cannot list resource"),
    "forbidden write": (_forbidden_writes, {}, Forbidden, Step.DRY_RUN, "cannot create resource"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_problems_found_before_writing_have_their_own_message_and_write_nothing(
    api: Api, sandbox: Sandbox, case: str
) -> None:
    prepare, changes, error_type, step, message = CASES[case]
    assert isinstance(changes, dict)
    if prepare is not None:
        prepare(sandbox)
    start = len(settled(sandbox))
    events: list[StepEvent] = []
    with pytest.raises(NimWidgetError) as err:
        deploy(api=api, request=spec(**changes), on_event=events.append, clock=sandbox.clock)
    assert type(err.value) is error_type
    assert message in str(err.value)
    assert err.value.step == step
    assert [e.step for e in events if e.state == StepState.FAILED] == [step]
    assert real_writes(sandbox, since=start) == []
