"""The fault matrix: every API request of a flow x {500, 503 with Retry-After, 429, 403, 409, 422,
reset connection, read timeout}, injected through the sandbox, one cell at a time.

Flows: a new deployment, an update by PUT, an update by JSON patch (overwrite), a delete, a stop and
a start. Positions are found by running each flow once and reading the request log. A cell is
consistent when
- a new deployment left all of this run's objects or none, and nothing else changed;
- an update left the new version or the old one (object by object, nothing half-changed);
- a delete left exactly what its report says was deleted and kept;
- stop/start left the deployment stopped or started as the result (or the unchanged state on error);
and a failure names the step and the object in what a person sees (the failed step's event line,
or the error). A transient fault (503 with Retry-After, 429, reset, read timeout) must not fail the
flow at all: it is retried within the Api's bounded budget, with a fake sleep so nothing waits.

`pytest -s` prints the matrix and the figure `cells consistent / total`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_support import (
    FAULTS,
    READ_TIMEOUT,
    RETRY_AFTER,
    TRANSIENT,
    FakeSleep,
    Matrix,
    Position,
    World,
    positions,
    run_cells,
)

from nim_widget.cluster.api import RUN_ANNOTATION, Api
from nim_widget.cluster.connect import Connection, connect
from nim_widget.cluster.errors import AlreadyExists, NimWidgetError, Unavailable
from nim_widget.deploy import DeployResult, deploy
from nim_widget.deploy.steps import StepEvent, StepState
from nim_widget.lifecycle import ControlResult, DeleteReport, delete_deployment, set_stopped, stop
from nim_widget.lifecycle.delete import Outcome as DeleteOutcome
from nim_widget.sandbox import FakeClock, Sandbox

SERVING_RUNTIMES = "servingruntimes.serving.kserve.io"
INFERENCE_SERVICES = "inferenceservices.serving.kserve.io"
NAME = "llama-31-8b"
SPEC: dict[str, Any] = {
    "project": "demo",
    "displayName": "Llama 3.1 8B",
    "model": "llama-3.1-8b-instruct",
    "tag": "1.8.6",
    "storage": {"mode": "new", "pvcName": "llama-cache", "size": "50Gi", "subPath": "llama"},
    "hardwareProfile": "nvidia-gpu-1x",
    "replicas": 1,
}
# The update changes one thing in each object: the runtime's image, the replicas, the cache size.
SPEC_V2: dict[str, Any] = {
    **SPEC,
    "tag": "1.3.3",
    "replicas": 2,
    "storage": {**SPEC["storage"], "size": "60Gi"},
}
OURS = {
    (SERVING_RUNTIMES, "demo", NAME),
    (INFERENCE_SERVICES, "demo", NAME),
    ("persistentvolumeclaims", "demo", "llama-cache"),
    ("secrets", "demo", "ngc-secret"),
}


@pytest.fixture(scope="module")
def matrix() -> Iterator[Matrix]:
    found = Matrix()
    yield found
    print(found.render())


class Flow:
    """One sandbox for all cells of a flow, its world saved after the setup and restored per cell.

    The client is configured as users get it (`connect` from a kubeconfig), so urllib3 itself
    never re-sends a request whose connection broke: every retry is the Api's decision."""

    def __init__(self, sandbox: Sandbox, connection: Connection) -> None:
        self.sandbox = sandbox
        self.sleep = FakeSleep()
        self.api = Api(api_client=connection.api_client, sleep=self.sleep, timeout=(5.0, READ_TIMEOUT))
        # Finding the positions must not be disturbed by a slow first request timing out.
        self.patient = Api(api_client=connection.api_client, sleep=self.sleep)
        self.events: list[StepEvent] = []
        self.world: World | None = None

    def save(self) -> World:
        self.world = World(self.sandbox)
        return self.world

    def cells(self, run: Any) -> list[tuple[Position, str]]:
        """Run the flow once on the saved world and list (position, fault) for every request."""
        assert self.world is not None
        fast, self.api = self.api, self.patient
        try:
            self.world.restore()
            self.sandbox.log.clear()
            outcome = run()
        finally:
            self.api = fast
        assert not isinstance(outcome, Exception), outcome
        found = positions(self.sandbox.log.entries)
        assert len(found) == len({(p.label, p.occurrence) for p in found})
        return [(p, f) for p in found for f in FAULTS]


@pytest.fixture
def flow(tmp_path: Path) -> Iterator[Flow]:
    with (
        Sandbox(world="demo", clock=FakeClock(), controllers=False) as sb,
        connect(kubeconfig=sb.write_kubeconfig(tmp_path / "kubeconfig", namespace="demo")) as connection,
    ):
        yield Flow(sb, connection)


def _kind_of(sandbox: Sandbox, resource: str) -> str:
    return next((k.kind for k in sandbox.registry.all() if k.plural == resource), resource)


def _names_the_object(text: str, sandbox: Sandbox, position: Position) -> bool:
    kind = _kind_of(sandbox, position.resource)
    named = position.name or position.body_name
    what = kind in text or position.resource in text
    return what and ((named in text) if named else (position.namespace in text))


def _message_problem(flow: Flow, position: Position, error: NimWidgetError) -> str | None:
    """What a person sees must name the failed step and the object."""
    failed = [e for e in flow.events if e.state == StepState.FAILED]
    if error.step is None or not failed:
        return "no failed step reported"
    if not any(_names_the_object(e.line(), flow.sandbox, position) for e in failed) and not _names_the_object(
        str(error), flow.sandbox, position
    ):
        return f"message does not name {position.label}: {failed[0].line()}"
    return None


def _common(flow: Flow, position: Position, fault: str, outcome: Any) -> str | None:
    if not isinstance(outcome, DeployResult | NimWidgetError):
        return f"crashed: {outcome!r}"
    if fault in TRANSIENT and isinstance(outcome, NimWidgetError):
        return f"transient fault not absorbed: {outcome}"
    if (
        fault == "503+RA"
        and isinstance(outcome, DeployResult)
        and float(RETRY_AFTER) not in flow.sleep.delays
    ):
        return f"Retry-After not honoured: slept {flow.sleep.delays}"
    if sum(flow.sleep.delays) > flow.api.policy.budget * 3:
        return f"slept too long: {flow.sleep.delays}"
    if isinstance(outcome, NimWidgetError):
        return _message_problem(flow, position, outcome)
    return None


def _attempt(flow: Flow, **kwargs: Any) -> Any:
    flow.events = []
    flow.sleep.clear()
    try:
        return deploy(api=flow.api, on_event=flow.events.append, **kwargs)
    except NimWidgetError as error:
        return error
    except Exception as error:  # judged as "crashed"
        return error


def test_new_deployment(flow: Flow, matrix: Matrix) -> None:
    world = flow.save()

    def run() -> Any:
        return _attempt(flow, request=SPEC)

    def judge(position: Position, fault: str, outcome: Any) -> str | None:
        added, removed, modified = world.changes()
        if isinstance(outcome, DeployResult):
            if added != OURS or removed or modified:
                return f"incomplete: +{sorted(added)} -{sorted(removed)} ~{sorted(modified)}"
            if {(r.kind, r.name) for r in outcome.created} != {
                ("ServingRuntime", NAME),
                ("InferenceService", NAME),
                ("PersistentVolumeClaim", "llama-cache"),
                ("Secret", "ngc-secret"),
            }:
                return f"report says created {outcome.created}"
        elif added or removed or modified:
            return (
                f"left behind: added {sorted(added)}, removed {sorted(removed)}, changed {sorted(modified)}"
            )
        return _common(flow, position, fault, outcome)

    cells = run_cells(
        flow="new deployment",
        sandbox=flow.sandbox,
        world=world,
        cells=flow.cells(run),
        run=run,
        judge=judge,
        matrix=matrix,
    )
    bad = [c for c in cells if not c.consistent]
    assert not bad, "\n".join(f"{c.position} x {c.fault}: {c.outcome}" for c in bad)


def _version(sandbox: Sandbox) -> tuple[str, int, str]:
    runtime = sandbox.store.get(SERVING_RUNTIMES, "demo", NAME)
    isvc = sandbox.store.get(INFERENCE_SERVICES, "demo", NAME)
    pvc = sandbox.store.get("persistentvolumeclaims", "demo", "llama-cache")
    image = runtime["spec"]["containers"][0]["image"]
    return (
        image.rsplit(":", 1)[1],
        isvc["spec"]["predictor"]["minReplicas"],
        pvc["spec"]["resources"]["requests"]["storage"],
    )


@pytest.mark.parametrize("overwrite", [False, True], ids=["PUT", "overwrite"])
def test_update(flow: Flow, matrix: Matrix, overwrite: bool) -> None:
    deploy(api=flow.api, request=SPEC)
    # Bound, as the storage controller (off here) would leave it: only a bound claim can grow.
    flow.sandbox.store.update_status(
        "persistentvolumeclaims", "demo", "llama-cache", {"phase": "Bound", "capacity": {"storage": "50Gi"}}
    )
    world = flow.save()
    old = _version(flow.sandbox)
    name = f"update ({'JSON patch, overwrite' if overwrite else 'PUT'})"

    def run() -> Any:
        return _attempt(flow, request=SPEC_V2, update=True, overwrite=overwrite)

    def judge(position: Position, fault: str, outcome: Any) -> str | None:
        added, removed, modified = world.changes()
        if added or removed:
            return f"objects added {sorted(added)} or removed {sorted(removed)}"
        now = _version(flow.sandbox)
        if isinstance(outcome, DeployResult):
            if now != ("1.3.3", 2, "60Gi"):
                return f"a mix after success: {now}"
        else:
            if now != old:
                return f"a mix after failure: {now}"
            current = world.capture()
            changed = [k for k in modified if _content(current[k]) != _content(world.saved[k])]
            if changed:
                return f"not restored: {changed}"
        return _common(flow, position, fault, outcome)

    cells = run_cells(
        flow=name,
        sandbox=flow.sandbox,
        world=world,
        cells=flow.cells(run),
        run=run,
        judge=judge,
        matrix=matrix,
    )
    bad = [c for c in cells if not c.consistent]
    assert not bad, "\n".join(f"{c.position} x {c.fault}: {c.outcome}" for c in bad)


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {
        k: v
        for k, v in obj["metadata"].items()
        if k not in ("resourceVersion", "managedFields", "generation", "uid", "creationTimestamp")
    }
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


def _lifecycle_message(
    error: NimWidgetError, sandbox: Sandbox, position: Position, action: str
) -> str | None:
    text = str(error)
    if action not in text.lower():
        return f"message does not say it was the {action}: {text}"
    if not _names_the_object(text, sandbox, position):
        return f"message does not name {position.label}: {text}"
    return None


def test_delete(flow: Flow, matrix: Matrix) -> None:
    deploy(api=flow.api, request=SPEC)
    world = flow.save()

    def run() -> Any:
        flow.sleep.clear()
        try:
            return delete_deployment(api=flow.api, namespace="demo", name=NAME, delete_storage=True)
        except NimWidgetError as error:
            return error
        except Exception as error:  # judged as "crashed"
            return error

    def judge(position: Position, fault: str, outcome: Any) -> str | None:
        added, removed, modified = world.changes()
        if added or modified:
            return f"unexpected changes: added {sorted(added)}, changed {sorted(modified)}"
        gone = {(k[0].split(".")[0], k[2]) for k in removed}
        if isinstance(outcome, DeleteReport):
            said = {
                (_plural(flow.sandbox, i.kind), i.name)
                for i in outcome.items
                if i.outcome in (DeleteOutcome.DELETED, DeleteOutcome.ALREADY_GONE)
            }
            if said != gone:
                return f"report says deleted {sorted(said)}, the cluster lost {sorted(gone)}"
            if fault in TRANSIENT and not outcome.ok:
                return f"transient fault not absorbed: {outcome.errors}"
            if not outcome.ok:
                text = " ".join(outcome.errors)
                if "delete" not in text.lower() or not _names_the_object(text, flow.sandbox, position):
                    return f"errors do not name the deletion and {position.label}: {text}"
            return None
        if not isinstance(outcome, NimWidgetError):
            return f"crashed: {outcome!r}"
        if gone:
            return f"raised, yet deleted {sorted(gone)}: {outcome}"
        if fault in TRANSIENT:
            return f"transient fault not absorbed: {outcome}"
        return _lifecycle_message(outcome, flow.sandbox, position, "delete")

    cells = run_cells(
        flow="delete",
        sandbox=flow.sandbox,
        world=world,
        cells=flow.cells(run),
        run=run,
        judge=judge,
        matrix=matrix,
    )
    bad = [c for c in cells if not c.consistent]
    assert not bad, "\n".join(f"{c.position} x {c.fault}: {c.outcome}" for c in bad)


def _plural(sandbox: Sandbox, kind: str) -> str:
    return next((k.plural for k in sandbox.registry.all() if k.kind == kind), kind)


def _stopped(sandbox: Sandbox) -> bool:
    isvc = sandbox.store.get(INFERENCE_SERVICES, "demo", NAME)
    return (
        str((isvc["metadata"].get("annotations") or {}).get("serving.kserve.io/stop", "")).lower() == "true"
    )


@pytest.mark.parametrize("stopping", [True, False], ids=["stop", "start"])
def test_stop_and_start(flow: Flow, matrix: Matrix, stopping: bool) -> None:
    deploy(api=flow.api, request=SPEC)
    if not stopping:
        stop(api=flow.api, namespace="demo", name=NAME)
    world = flow.save()
    action = "stop" if stopping else "start"

    def run() -> Any:
        flow.sleep.clear()
        try:
            return set_stopped(api=flow.api, namespace="demo", name=NAME, stopped=stopping)
        except NimWidgetError as error:
            return error
        except Exception as error:  # judged as "crashed"
            return error

    def judge(position: Position, fault: str, outcome: Any) -> str | None:
        added, removed, modified = world.changes()
        if added or removed or not modified <= {(INFERENCE_SERVICES, "demo", NAME)}:
            return f"unexpected changes: {sorted(added | removed | modified)}"
        if isinstance(outcome, ControlResult):
            if _stopped(flow.sandbox) != stopping:
                return f"reported {action}ped, the deployment is not"
            return None
        if not isinstance(outcome, NimWidgetError):
            return f"crashed: {outcome!r}"
        if _stopped(flow.sandbox) == stopping:
            return f"raised, yet the deployment was {action}ped: {outcome}"
        if fault in TRANSIENT:
            return f"transient fault not absorbed: {outcome}"
        return _lifecycle_message(outcome, flow.sandbox, position, action)

    cells = run_cells(
        flow=action,
        sandbox=flow.sandbox,
        world=world,
        cells=flow.cells(run),
        run=run,
        judge=judge,
        matrix=matrix,
    )
    bad = [c for c in cells if not c.consistent]
    assert not bad, "\n".join(f"{c.position} x {c.fault}: {c.outcome}" for c in bad)


# -- a create whose answer was lost: ours is recognised by the run id, someone else's never is --------


def _config_map(run: str | None) -> dict[str, Any]:
    annotations = {RUN_ANNOTATION: run} if run else {}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "lost", "namespace": "demo", "annotations": annotations},
        "data": {"a": "1"},
    }


def _creates(sandbox: Sandbox, *, at_least: int = 1) -> list[int]:
    """Statuses of the ConfigMap creates, once `at_least` are logged (a dropped request is logged
    just after the connection is closed, so it may trail the client's error by a moment)."""
    pause, end = threading.Event(), time.monotonic() + 5
    while True:
        found = [e.status for e in sandbox.log.entries if e.verb == "create" and e.resource == "configmaps"]
        if len(found) >= at_least or time.monotonic() > end:
            return found
        pause.wait(0.002)


def test_a_create_that_happened_but_whose_answer_was_lost_is_ours(flow: Flow) -> None:
    stored = flow.sandbox.store.create("configmaps", _config_map("run-a"))  # the first attempt landed
    flow.sandbox.faults.add(verb="create", resource="configmaps", drop=True)  # ... and its answer was lost
    got = flow.api.create(body=_config_map("run-a"))
    assert got["metadata"]["uid"] == stored["metadata"]["uid"]
    assert _creates(flow.sandbox) == [0]  # recognised by reading it back: nothing sent twice


def test_someone_elses_object_after_a_lost_answer_is_never_claimed(flow: Flow) -> None:
    flow.sandbox.store.create("configmaps", _config_map("run-b"))
    flow.sandbox.faults.add(verb="create", resource="configmaps", drop=True)
    with pytest.raises(AlreadyExists):
        flow.api.create(body=_config_map("run-a"))
    assert _creates(flow.sandbox) == [0]


def test_a_resent_create_that_meets_its_own_first_attempt_is_ours(flow: Flow, tmp_path: Path) -> None:
    """The first attempt is held past the read timeout; the resend arrives after it landed."""
    with connect(kubeconfig=flow.sandbox.write_kubeconfig(tmp_path / "k2", namespace="demo")) as conn:
        api = Api(api_client=conn.api_client, sleep=flow.sleep, timeout=(5.0, 0.5))
        flow.sandbox.faults.add(verb="create", resource="configmaps", latency=0.8)
        flow.sandbox.faults.add(verb="create", resource="configmaps", latency=0.4)
        got = api.create(body=_config_map("run-a"))
    assert got["metadata"]["annotations"][RUN_ANNOTATION] == "run-a"
    assert sorted(_creates(flow.sandbox, at_least=2)) == [
        201,
        409,
    ]  # the resend met the first attempt's object
    assert [e.verb for e in flow.sandbox.log.entries if e.resource == "configmaps"].count("get") == 2


def test_without_a_run_id_a_lost_create_is_not_sent_again(flow: Flow) -> None:
    flow.sandbox.faults.add(verb="create", resource="configmaps", drop=True)
    with pytest.raises(Unavailable):
        flow.api.create(body=_config_map(None))
    assert _creates(flow.sandbox) == [0]


def test_every_object_a_deployment_creates_carries_its_run_id_and_an_update_keeps_it(flow: Flow) -> None:
    result = deploy(api=flow.api, request=SPEC, run_id="run-1234")
    assert result.run_id == "run-1234"
    for ref in result.created:
        kind = next(k for k in flow.sandbox.registry.all() if k.kind == ref.kind)
        obj = flow.sandbox.store.get(kind.key, ref.namespace, ref.name)
        assert obj["metadata"]["annotations"][RUN_ANNOTATION] == "run-1234", ref
    deploy(api=flow.api, request={**SPEC_V2, "storage": SPEC["storage"]}, update=True, run_id="run-5678")
    isvc = flow.sandbox.store.get(INFERENCE_SERVICES, "demo", NAME)
    assert isvc["metadata"]["annotations"][RUN_ANNOTATION] == "run-1234"
