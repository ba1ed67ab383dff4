"""Many deploys at once against one cluster, races on one name, and wizards that share a process.

A team notebook server runs several people's deploys in one kernel or against one namespace at the same
moment; none of them may undo, overwrite or half-create another's work. The sandbox serves every test
here over HTTP from its own threads, so the requests really interleave on the wire.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pytest
from kubernetes import client

from nim_widget.cluster.api import Api
from nim_widget.cluster.connect import connect, connect_client
from nim_widget.cluster.errors import AlreadyExists, NimWidgetError
from nim_widget.deploy.orchestrator import DeployResult, deploy
from nim_widget.deploy.steps import Step, StepEvent, StepState
from nim_widget.sandbox import Sandbox
from nim_widget.ui import NimWizard
from nim_widget.ui.worker import inline_runner

ISVC = "inferenceservices.serving.kserve.io"
RUNTIMES = "servingruntimes.serving.kserve.io"
DEPLOYS = 20
RACERS = 5
DEADLINE = 60.0


def spec(display_name: str, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "project": "demo",
        "displayName": display_name,
        "model": "llama-3.2-1b-instruct",
        "hardwareProfile": "nvidia-gpu-1x",
        "storage": {"mode": "new", "size": "20Gi"},
    }
    base.update(changes)
    return base


@pytest.fixture
def api(sandbox: Sandbox, tmp_path: Path) -> Iterator[Api]:
    """One connection shared by every thread, as one notebook kernel would share it."""
    path = sandbox.write_kubeconfig(tmp_path / "kubeconfig", namespace="demo")
    with connect(kubeconfig=path) as conn:
        yield Api(api_client=conn.api_client, sleep=lambda _seconds: None)


def run_together(count: int, job: Any) -> list[DeployResult | BaseException]:
    """`job(i)` in `count` threads started together; results (or exceptions) in index order."""
    start = threading.Barrier(count, timeout=DEADLINE)

    def run(index: int) -> DeployResult | BaseException:
        start.wait()
        try:
            result: DeployResult = job(index)
        except Exception as exc:  # collected and asserted on by the test
            return exc
        return result

    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="concurrent-deploy") as pool:
        return list(pool.map(run, range(count), timeout=DEADLINE))


def test_twenty_concurrent_deploys_with_distinct_names_all_succeed(api: Api, sandbox: Sandbox) -> None:
    events: dict[int, list[StepEvent]] = {i: [] for i in range(DEPLOYS)}
    outcomes = run_together(
        DEPLOYS, lambda i: deploy(api=api, request=spec(f"Concurrent {i:02d}"), on_event=events[i].append)
    )
    failures = {i: o for i, o in enumerate(outcomes) if isinstance(o, BaseException)}
    assert not failures, "\n".join(f"deploy {i}: {o!r}" for i, o in failures.items())
    names = sorted(o.name for o in outcomes if isinstance(o, DeployResult))
    assert names == [f"concurrent-{i:02d}" for i in range(DEPLOYS)]

    services = {o["metadata"]["name"] for o in sandbox.store.list(ISVC, "demo")[0]}
    runtimes = {o["metadata"]["name"] for o in sandbox.store.list(RUNTIMES, "demo")[0]}
    pvcs = {o["metadata"]["name"] for o in sandbox.store.list("persistentvolumeclaims", "demo")[0]}
    assert set(names) <= services and set(names) <= runtimes
    assert {f"{name}-cache" for name in names} <= pvcs
    # Nothing was rolled back or deleted, and the shared pull secret was created exactly once.
    assert not [e for steps in events.values() for e in steps if e.state == StepState.ROLLED_BACK]
    assert not sandbox.log.find(verb="delete")
    created = [e for e in sandbox.log.find(verb="create", resource="secrets") if not e.dry_run]
    assert [e.status for e in created].count(201) == 1
    reused = [
        o for o in outcomes if isinstance(o, DeployResult) and "Secret demo/ngc-secret" in map(str, o.reused)
    ]
    assert len(reused) == DEPLOYS - 1
    for steps in events.values():
        final = {e.step: e.state for e in steps}
        assert final[Step.RESULT] == StepState.SUCCEEDED


def _name_writes(sandbox: Sandbox, name: str) -> list[tuple[str, str, int]]:
    """(verb, resource, status) of every real write that named the deployment's objects."""
    found = []
    for entry in sandbox.log.entries:
        if not entry.is_write or entry.dry_run:
            continue
        body_name = str(((entry.body or {}).get("metadata") or {}).get("name") or "")
        if name in (entry.name, body_name) or f"{name}-cache" in (entry.name, body_name):
            found.append((entry.verb, entry.resource, entry.status))
    return found


@pytest.mark.parametrize("lockstep", [True, False], ids=["after-every-dry-run", "free-running"])
def test_racing_on_one_name_has_one_winner_and_the_losers_touch_nothing(
    api: Api, sandbox: Sandbox, lockstep: bool
) -> None:
    """`after-every-dry-run`: all five have read the cluster and passed their dry runs before anyone
    writes (the worst case: every check said the name was free). `free-running`: whatever happens."""
    checked = threading.Barrier(RACERS, timeout=DEADLINE)

    def on_event(event: StepEvent) -> None:
        if lockstep and event.step == Step.DRY_RUN and event.state == StepState.SUCCEEDED:
            checked.wait()

    def race(_index: int) -> DeployResult:
        return deploy(api=api, request=spec("Contested"), on_event=on_event)

    outcomes = run_together(RACERS, race)
    winners = [o for o in outcomes if isinstance(o, DeployResult)]
    losers = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(winners) == 1, outcomes
    assert len(losers) == RACERS - 1
    for loser in losers:
        assert isinstance(loser, AlreadyExists), repr(loser)
        assert "undone" not in loser.detail  # a loser wrote nothing, so there was nothing to undo
        if lockstep:  # every loser was stopped by the lock: the runtime create, in the dashboard's words
            assert loser.detail == (
                'A model deployment with the name "Contested" already exists. '
                "Please choose a different model deployment name."
            ), loser.detail
        else:  # stopped by discovery or a dry run, depending on how far the winner had got
            assert "already exists" in loser.detail and "ontested" in loser.detail, loser.detail

    winner = winners[0]
    assert sorted(str(r) for r in winner.created) == [
        "InferenceService demo/contested",
        "PersistentVolumeClaim demo/contested-cache",
        "Secret demo/ngc-secret",
        "ServingRuntime demo/contested",
    ]
    writes = _name_writes(sandbox, "contested")
    succeeded = sorted((verb, resource) for verb, resource, status in writes if status < 300)
    assert succeeded == [
        ("create", "inferenceservices"),
        ("create", "persistentvolumeclaims"),
        ("create", "servingruntimes"),
    ], writes
    refused = [w for w in writes if w[2] >= 300]
    assert all(w == ("create", "servingruntimes", 409) for w in refused), refused
    if lockstep:
        assert len(refused) == RACERS - 1  # every loser reached the lock, none got past it
    for kind in (ISVC, RUNTIMES, "persistentvolumeclaims"):
        name = "contested-cache" if kind == "persistentvolumeclaims" else "contested"
        obj = sandbox.store.get(kind, "demo", name)
        assert obj["metadata"].get("generation", 1) == 1
        assert not obj["metadata"].get("deletionTimestamp")


# ----------------------------------------------------------------------------------------- widgets


def _wizard(sandbox: Sandbox) -> NimWizard:
    configuration = sandbox.configuration()
    return NimWizard(
        connection=connect_client(api_client=client.ApiClient(configuration), namespace="demo"),
        runner=inline_runner,
        demo=True,
        clock=lambda: datetime.fromtimestamp(sandbox.clock.now(), UTC),
    )


def _model_ids(root: widgets.Widget) -> set[str]:
    ids = {root.model_id}
    for child in getattr(root, "children", ()) or ():
        ids |= _model_ids(child)
    return ids


def _to_review(wizard: NimWizard, *, name: str, replicas: int) -> None:
    wizard.picker.choose(key="llama-3.2-1b-instruct")
    wizard.next.click()
    wizard.deployment.display_name.value = name
    wizard.deployment.replicas.value = replicas
    wizard.next.click()
    wizard.next.click()
    assert wizard.current_step == 4, wizard.check.errors


def test_two_wizards_in_one_process_are_independent(sandbox: Sandbox) -> None:
    widgets.Widget.close_all()
    first, second = _wizard(sandbox), _wizard(sandbox)
    try:
        assert not _model_ids(first.widget) & _model_ids(second.widget)
        assert first.publisher is not second.publisher

        _to_review(first, name="First wizard", replicas=2)
        assert second.current_step == 1 and second.picker.model_key is None
        assert second.deployment.display_name.value == "" and second.deployment.replicas.value == 1
        second.picker.choose(key="llama-3.1-8b-instruct")
        second.next.click()
        second.deployment.display_name.value = "Second wizard"
        second.deployment.replicas.value = 0  # an error in one wizard is not an error in the other
        assert second.deployment.replicas_field.message is not None
        assert first.deployment.replicas_field.message is None and first.check.valid

        sandbox.faults.add(verb="create", resource="inferenceservices", dry_run=False, status=500)
        first.deploy_button.click()
        assert first.last_error is not None and first.current_step == 5
        assert second.last_error is None and second.last_result is None and second.current_step == 2
        assert second.progress.events == []
        first_events = list(first.progress.events)

        second.deployment.replicas.value = 3
        second.next.click()
        second.next.click()
        second.deploy_button.click()
        assert "Second wizard is deployed" in second.progress.outcome.value
        assert second.last_result is not None and second.last_result.name == "second-wizard"
        assert first.progress.events == first_events  # the other deploy's events went to its own panel
        assert "Second wizard" not in first.progress.outcome.value
        first.progress.back_to_form.click()
        first.deploy_button.click()
        assert "First wizard is deployed" in first.progress.outcome.value
        assert second.last_result.name == "second-wizard"
        first_isvc = sandbox.store.get(ISVC, "demo", "first-wizard")
        second_isvc = sandbox.store.get(ISVC, "demo", "second-wizard")
        assert first_isvc["spec"]["predictor"]["minReplicas"] == 2
        assert second_isvc["spec"]["predictor"]["minReplicas"] == 3
    finally:
        for wizard in (first, second):
            wizard.close()
            wizard.connection.close()
        widgets.Widget.close_all()


def test_two_wizards_deploying_from_their_own_threads_at_once(sandbox: Sandbox) -> None:
    """The production runner: both deploys in flight together, each panel gets only its own events."""
    from nim_widget.ui.worker import thread_runner

    widgets.Widget.close_all()
    wizards: list[NimWizard] = []
    try:
        for index in range(2):
            configuration = sandbox.configuration()
            wizard = NimWizard(
                connection=connect_client(api_client=client.ApiClient(configuration), namespace="demo"),
                runner=thread_runner,
                demo=True,
                clock=lambda: datetime.fromtimestamp(sandbox.clock.now(), UTC),
            )
            assert wizard.join(DEADLINE)
            _to_review(wizard, name=f"Threaded {index}", replicas=index + 1)
            wizards.append(wizard)
        sandbox.faults.add(verb="create", resource="servingruntimes", dry_run=False, latency=0.3, times=2)
        for wizard in wizards:
            wizard.deploy_button.click()
        assert all(wizard.join(DEADLINE) for wizard in wizards)
        for index, wizard in enumerate(wizards):
            assert f"Threaded {index} is deployed" in wizard.progress.outcome.value, (
                wizard.progress.outcome.value
            )
            assert wizard.last_result is not None and wizard.last_result.name == f"threaded-{index}"
            details = " ".join(e.detail for e in wizard.progress.events)
            assert f"threaded-{1 - index}" not in details
    finally:
        for wizard in wizards:
            wizard.close()
            wizard.connection.close()
        widgets.Widget.close_all()


def test_failing_deploys_never_roll_back_concurrent_ones(api: Api, sandbox: Sandbox) -> None:
    """Ten deploys at once, five of them failing on their InferenceService write: each failure undoes
    only what it created itself; the five that succeeded keep every object."""
    sandbox.faults.add(verb="create", resource="inferenceservices", dry_run=False, status=500, times=5)

    def job(i: int) -> DeployResult:
        return deploy(api=api, request=spec(f"Mixed {i}"))

    outcomes = run_together(10, job)
    failed = [o for o in outcomes if isinstance(o, NimWidgetError)]
    succeeded = [o for o in outcomes if isinstance(o, DeployResult)]
    assert len(failed) == 5 and len(succeeded) == 5, outcomes
    for error in failed:
        assert "Everything this run wrote was undone" in error.detail, error.detail
    kinds = {
        "InferenceService": ISVC,
        "ServingRuntime": RUNTIMES,
        "PersistentVolumeClaim": "persistentvolumeclaims",
    }
    for result in succeeded:
        for ref in result.created:
            if ref.kind in kinds:
                assert sandbox.store.try_get(kinds[ref.kind], "demo", ref.name) is not None, (
                    f"{ref} was removed"
                )
    left = {o["metadata"]["name"] for o in sandbox.store.list(RUNTIMES, "demo")[0]}
    assert {r.name for r in succeeded} <= left
    assert not left & {f"mixed-{i}" for i, o in enumerate(outcomes) if isinstance(o, NimWidgetError)}


def test_a_failed_deploy_keeps_the_shared_secret_a_concurrent_deploy_reuses(
    api: Api, sandbox: Sandbox
) -> None:
    """Deterministic order: the failing run creates ngc-secret; while its InferenceService write is
    still in flight (slow, then refused), another deploy reads the project, reuses that secret and
    finishes; then the failing run rolls back."""
    sandbox.faults.add(verb="create", resource="inferenceservices", dry_run=False, latency=0.5, status=500)
    others: list[DeployResult] = []

    def meanwhile(event: StepEvent) -> None:
        if event.step == Step.SECRETS_AND_STORAGE and event.state == StepState.SUCCEEDED and not others:
            others.append(deploy(api=api, request=spec("Meanwhile")))

    with pytest.raises(NimWidgetError) as failed:
        deploy(api=api, request=spec("First and failing"), on_event=meanwhile)
    assert "Everything this run wrote was undone" in failed.value.detail
    assert len(others) == 1 and "Secret demo/ngc-secret" in map(str, others[0].reused)
    runtime = sandbox.store.get(RUNTIMES, "demo", "meanwhile")
    assert {"name": "ngc-secret"} in runtime["spec"]["imagePullSecrets"]
    assert sandbox.store.try_get("secrets", "demo", "ngc-secret") is not None, (
        "the failed run's rollback deleted ngc-secret, which the deployment 'meanwhile' uses"
    )
