"""`deploy()`: the twelve steps, their events, the dry run, the writes and the rollback.

Round trips are what a user waits for, so independent requests go out together: discovery (one round,
see `cluster.discovery`), one dry-run round with every write, then the writes. A new deployment first
creates its ServingRuntime alone and only then the rest: two people deploying the same name at the
same moment would otherwise each win one object and both roll back; with the runtime as the lock,
exactly one of them proceeds and the other gets the dashboard's "already exists" sentence having
written nothing. Nothing is written unless every write passed its dry run and every pre-flight check
(see `preflight`, run in the same round as the dry runs); once something is written, any failure undoes
this run's writes (see `rollback`). A resize of existing storage, which no rollback can undo, is
written last, after everything else succeeded, so an update ends as the new version or the old one.

Every failure a person sees names the step and the object: the error's detail ends with "Failed at
step N (title) on Kind namespace/name." (except the dashboard's own AlreadyExists sentence, which
names the deployment and is kept word for word), and the step's FAILED event carries the same text.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from nim_widget.cluster.api import Api
from nim_widget.cluster.discovery import DASHBOARD_NAMESPACES, gather
from nim_widget.cluster.errors import (
    AlreadyExists,
    Conflict,
    DeployFailed,
    Forbidden,
    NimWidgetError,
    ObjectRef,
    RequestInvalid,
    Unavailable,
    already_exists_detail,
)
from nim_widget.deploy.actions import Write, restart_write, writes_for
from nim_widget.deploy.preflight import Check, Preflight, refused, summary
from nim_widget.deploy.rollback import Ledger, roll_back
from nim_widget.deploy.steps import Step, StepEvent, StepState, event, where
from nim_widget.deploy.validation import validation_error
from nim_widget.facts import ClusterFacts, SkippedEntry
from nim_widget.manifests import Plan, PlannedObject, assemble
from nim_widget.manifests.assembly import AssemblyError
from nim_widget.request import DeploymentRequest, errors_by_field, validate_against_facts

log = logging.getLogger(__name__)

OnEvent = Callable[[StepEvent], None]
_MAX_WORKERS = 24  # dry runs, access reviews and the node list of one round go out together
# The dashboard words a 409 by resource; a PVC gets its generic "A resource with the name" sentence.
_RESOURCE_OF_ROLE = {
    "inference_service": "inferenceservices",
    "runtime": "inferenceservices",
    "pvc": "persistentvolumeclaims",
}


class Clock(Protocol):
    """Anything with `now()` in epoch seconds (the sandbox's FakeClock and RealClock fit)."""

    def now(self) -> float: ...


@dataclass(frozen=True)
class DeployResult:
    """What a deployment did. `plan` is redacted; `created`/`updated` are what this run wrote."""

    project: str
    name: str
    display_name: str
    image: str
    pvc_name: str
    dry_run: bool
    update: bool
    created: tuple[ObjectRef, ...]
    updated: tuple[ObjectRef, ...]
    unchanged: tuple[ObjectRef, ...]
    reused: tuple[ObjectRef, ...]
    plan: Plan = field(repr=False)
    events: tuple[StepEvent, ...] = field(default=(), repr=False)
    skipped: tuple[SkippedEntry, ...] = ()
    preflight: tuple[Check, ...] = ()
    run_id: str = ""

    @property
    def manifests(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(obj.manifest for obj in self.plan.objects)

    def summary(self) -> str:
        if self.dry_run:
            return f'Dry run of "{self.display_name}" ({self.name}) in {self.project}: nothing was written'
        parts = [f"{len(self.created)} created", f"{len(self.updated)} updated"]
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} unchanged")
        if self.reused:
            parts.append(f"{len(self.reused)} reused")
        return f'"{self.display_name}" ({self.name}) in {self.project}: ' + ", ".join(parts)


class _Events:
    """Emits events in order from the calling thread and times each step from running to done."""

    def __init__(self, on_event: OnEvent | None) -> None:
        self._on_event = on_event
        self._started: dict[int, float] = {}
        self.events: list[StepEvent] = []

    def __call__(
        self,
        step: int,
        state: StepState,
        detail: str = "",
        manifests: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        duration = None
        if state == StepState.RUNNING:
            self._started[step] = time.perf_counter()
        elif state in (StepState.SUCCEEDED, StepState.FAILED) and step in self._started:
            duration = time.perf_counter() - self._started.pop(step)
        item = event(step=step, state=state, duration=duration, detail=detail, manifests=tuple(manifests))
        self.events.append(item)
        if self._on_event is not None:
            try:
                self._on_event(item)
            except Exception:  # a broken display must not break a deployment half-way
                log.exception("on_event callback failed for step %s", step)


def _ref(obj: PlannedObject) -> ObjectRef:
    return ObjectRef(obj.api_version, obj.kind, obj.name, obj.namespace)


class _Run:
    def __init__(
        self,
        *,
        api: Api,
        request: DeploymentRequest,
        emit: _Events,
        pool: ThreadPoolExecutor,
        update: bool,
    ) -> None:
        self.api = api
        self.request = request
        self.emit = emit
        self.pool = pool
        self.update = update
        self.ledger = Ledger()
        self.raced: list[ObjectRef] = []  # secrets someone else created between our read and our write

    # -- errors in people's words ------------------------------------------------------------------

    def friendly(self, write: Write, error: NimWidgetError, step: int) -> NimWidgetError:
        result = copy.copy(error)
        result.step = step
        result.obj = write.ref
        if isinstance(result, Forbidden):
            return refused(write=write, error=result)
        if isinstance(error, AlreadyExists):
            resource = _RESOURCE_OF_ROLE.get(write.role, "")
            result.detail = already_exists_detail(resource=resource, display_name=self.request.display_name)
            if write.role == "pvc":  # the dashboard's sentence names the deployment, not the storage
                result.detail += (
                    f' The storage "{write.ref.name}" already exists in project {write.ref.namespace}: '
                    "choose another cluster storage name or use the existing storage."
                )
        elif isinstance(error, Conflict) and write.verb == "replace":
            what = "model deployment" if write.role in ("runtime", "inference_service") else "storage"
            result.detail = (
                f'The {what} "{self.request.display_name}" ({write.ref}) was changed by someone else after '
                "it was read, so nothing was overwritten. Deploy again to start from the latest version, "
                "or choose overwrite to replace those changes."
            )
        return result

    # -- dry run -----------------------------------------------------------------------------------

    def dry_run(self, writes: list[Write]) -> list[Write]:
        """Every write with dryRun=All, all at once; returns the writes still needed.

        Results are read in plan order, not completion order, so when several writes are refused
        the one reported is always the same (the runtime's, which comes first)."""
        futures = [(self.pool.submit(w.send, api=self.api, dry_run=True), w) for w in writes]
        wait([future for future, _ in futures])
        needed: list[Write] = []
        failure: NimWidgetError | None = None
        for future, write in futures:
            error = future.exception()
            if error is None:
                needed.append(write)
            elif isinstance(error, AlreadyExists) and write.ref.kind == "Secret":
                self.raced.append(write.ref)  # created meanwhile by someone else: use it
            elif isinstance(error, NimWidgetError):
                failure = failure or self.friendly(write, error, Step.DRY_RUN)
            else:
                log.error("unexpected failure in the dry run of %s", write.ref, exc_info=error)
                failure = failure or DeployFailed(
                    detail=f"Unexpected {type(error).__name__} in the dry run of {write.ref}.", obj=write.ref
                )
        if failure is not None:
            raise failure
        return [w for w in writes if w in needed]

    # -- writes ------------------------------------------------------------------------------------

    def _write(self, write: Write) -> NimWidgetError | None:
        try:
            response = write.send(api=self.api, dry_run=False)
        except AlreadyExists as error:
            if write.ref.kind == "Secret":
                self.raced.append(write.ref)
                return None
            return self.friendly(write, error, write.step)
        except Unavailable as error:
            self.ledger.record_unknown(api=self.api, write=write)
            return self.friendly(write, error, write.step)
        except NimWidgetError as error:
            return self.friendly(write, error, write.step)
        except Exception as error:  # a bug must still end in a rollback, not a half-written deployment
            log.exception("unexpected failure writing %s", write.ref)
            return DeployFailed(
                detail=f"Unexpected {type(error).__name__} while writing {write.ref}.",
                step=write.step,
                obj=write.ref,
            )
        self.ledger.record(write=write, response=response)
        return None

    def write_all(self, writes: list[Write]) -> NimWidgetError | None:
        """Steps 7-10. The runtime of a new deployment goes first, alone (the lock); then the rest;
        then what no rollback can undo (growing a volume), once everything else is in place."""
        emit = self.emit
        lock = [w for w in writes if w.role == "runtime" and w.verb == "create"]
        last = [w for w in writes if not w.reversible]
        middle = [w for w in writes if w not in lock and w not in last]
        batches = [b for b in (lock, middle, last) if b]
        remaining: dict[int, list[Write]] = {
            step: [w for w in writes if w.step == step]
            for step in (Step.APPLY, Step.SECRETS_AND_STORAGE, Step.RESIZE_STORAGE)
        }
        if writes:
            emit(Step.WRITE_BATCH, StepState.RUNNING, f"{len(writes)} write(s)")
        for step, items in remaining.items():
            if not items:
                emit(step, StepState.SKIPPED, _nothing_to_do(step, self.update))
        if not writes:
            emit(Step.WRITE_BATCH, StepState.SKIPPED, "nothing to write: the deployment is as requested")
            return None
        done: dict[int, list[Write]] = {step: [] for step in remaining}
        started: set[int] = set()
        failure: NimWidgetError | None = None
        for batch in batches:
            for step in sorted({w.step for w in batch} - started):
                started.add(step)
                emit(step, StepState.RUNNING, ", ".join(w.describe() for w in remaining[step]))
            futures: dict[Future[NimWidgetError | None], Write] = {
                self.pool.submit(self._write, w): w for w in batch
            }
            for future in as_completed(futures):
                write = futures[future]
                error = future.result()
                if error is not None:
                    if failure is None:
                        failure = error
                        emit(write.step, StepState.FAILED, _said(error))
                    continue
                done[write.step].append(write)
                if len(done[write.step]) == len(remaining[write.step]):
                    finished = remaining[write.step]
                    emit(
                        write.step,
                        StepState.SUCCEEDED,
                        "; ".join(w.describe() for w in finished),
                        [w.redacted() for w in finished],
                    )
            if failure is not None:
                break
        if failure is not None:
            for step, items in remaining.items():
                if not items or len(done[step]) == len(items) or step == failure.step:
                    continue
                if step in started:
                    emit(step, StepState.FAILED, "not completed: another write failed")
                else:
                    emit(step, StepState.SKIPPED, "not started: an earlier write failed")
            emit(Step.WRITE_BATCH, StepState.FAILED, str(failure))
            return failure
        emit(Step.WRITE_BATCH, StepState.SUCCEEDED, f"{len(writes)} write(s) done")
        return None

    def restart(self, write: Write | None) -> NimWidgetError | None:
        if write is None:
            self.emit(Step.RESTART, StepState.SKIPPED, "the deployment was not stopped")
            return None
        self.emit(Step.RESTART, StepState.RUNNING, f"start {write.ref} again (serving.kserve.io/stop)")
        error = self._write(write)
        if error is None:
            self.emit(Step.RESTART, StepState.SUCCEEDED, f"{write.ref} started again")
        else:
            self.emit(Step.RESTART, StepState.FAILED, _said(error))
        return error

    def undo(self, failure: NimWidgetError) -> NimWidgetError:
        if not self.ledger:
            return failure
        problems = roll_back(
            api=self.api,
            ledger=self.ledger,
            report=lambda step, state, detail: self.emit(step, state, detail),
        )
        result = copy.copy(failure)
        if problems:
            result.detail = f"{failure.detail} Could not undo: {'; '.join(problems)}."
        else:
            result.detail = f"{failure.detail} Everything this run wrote was undone."
        return result

    def final(self, failure: NimWidgetError) -> NimWidgetError:
        """The failure as raised: rolled back if needed, naming the step and the object."""
        return _located(self.undo(failure))


def _nothing_to_do(step: int, update: bool) -> str:
    if step == Step.APPLY:
        return "serving runtime and inference service are unchanged"
    if step == Step.SECRETS_AND_STORAGE:
        return "the project already has its secrets and storage"
    return "no storage to grow" if update else "only on update"


def _parse_request(request: DeploymentRequest | Mapping[str, Any]) -> DeploymentRequest:
    if isinstance(request, DeploymentRequest):
        return request
    try:
        return DeploymentRequest.model_validate(dict(request))
    except ValidationError as exc:
        error = RequestInvalid(causes=errors_by_field(exc), step=Step.VALIDATE)
    raise error


def _said(error: NimWidgetError) -> str:
    """What a FAILED event says: the error, then where it happened."""
    return str(_located(copy.copy(error)))


def _located(error: NimWidgetError) -> NimWidgetError:
    """Add "Failed at step N (title) on <object>." to an error about a cluster object."""
    if error.obj is None or error.step is None or isinstance(error, AlreadyExists):
        return error
    sentence = where(step=error.step, obj=error.obj)
    if sentence not in error.detail:
        error.detail = f"{error.detail} {sentence}".strip()
    return error


def _fail(emit: _Events, step: int, error: NimWidgetError) -> NimWidgetError:
    error.step = step
    _located(error)
    emit(step, StepState.FAILED, str(error))
    return error


def deploy(
    *,
    api: Api,
    request: DeploymentRequest | Mapping[str, Any],
    on_event: OnEvent | None = None,
    dry_run: bool = False,
    update: bool = False,
    overwrite: bool = False,
    clock: Clock | None = None,
    dashboard_namespaces: Sequence[str] = DASHBOARD_NAMESPACES,
    run_id: str | None = None,
) -> DeployResult:
    """Deploy (or with `update`, redeploy) a NIM model; raises NimWidgetError on any failure.

    `on_event` receives every StepEvent, in order, from the calling thread. With `dry_run` every
    write is checked by the cluster (dryRun=All) and nothing is written. `overwrite` (update only)
    sends JSON patches instead of resourceVersion-guarded PUTs, replacing concurrent changes.
    `clock` stamps the facts (account age, the PVC force-redeploy annotation); tests pass a FakeClock.
    `run_id` marks the objects this run creates (see `actions`); a random one is drawn when None.
    """
    run = uuid.uuid4().hex[:16] if run_id is None else run_id
    emit = _Events(on_event)
    for step in Step:
        emit(step, StepState.PENDING)

    emit(Step.VALIDATE, StepState.RUNNING)
    try:
        req = _parse_request(request)
        if overwrite and not update:
            raise RequestInvalid(causes={"overwrite": "Overwrite applies only to an update (--update)"})
    except NimWidgetError as error:
        raise _fail(emit, Step.VALIDATE, error) from None
    emit(Step.VALIDATE, StepState.SUCCEEDED, f'"{req.display_name}" as {req.name} in project {req.project}')

    emit(Step.LOAD_TEMPLATE, StepState.RUNNING, f"NIM account for project {req.project}")
    now = datetime.fromtimestamp(clock.now(), UTC) if clock is not None else None
    try:
        facts = gather(api=api, project=req.project, dashboard_namespaces=dashboard_namespaces, now=now)
    except NimWidgetError as error:
        raise _fail(emit, Step.LOAD_TEMPLATE, error) from None
    problems = validate_against_facts(request=req, facts=facts, update=update)
    failure = validation_error(errors=problems, facts=facts)
    if failure is not None and failure.step == Step.LOAD_TEMPLATE:
        raise _fail(emit, Step.LOAD_TEMPLATE, failure)
    emit(Step.LOAD_TEMPLATE, StepState.SUCCEEDED, _facts_line(facts))

    emit(Step.RESOLVE_NAMES, StepState.RUNNING)
    if failure is not None:
        raise _fail(emit, Step.RESOLVE_NAMES, failure)
    try:
        plan = assemble(request=req, facts=facts, update=update, overwrite=overwrite)
    except AssemblyError as exc:
        found = validation_error(errors=list(exc.errors), facts=facts)
        assembly_error = found or DeployFailed(detail=str(exc))
        raise _fail(emit, Step.RESOLVE_NAMES, assembly_error) from None
    emit(
        Step.RESOLVE_NAMES,
        StepState.SUCCEEDED,
        f"model deployment {plan.name}, serving runtime {plan.name}, storage {req.pvc_resource_name}, "
        f"image {plan.image}",
    )

    runtime, isvc = plan.object("runtime"), plan.object("inference_service")
    assert runtime is not None and isvc is not None
    emit(Step.SERVING_RUNTIME, StepState.SUCCEEDED, runtime.headline(), [runtime.redacted_manifest()])
    emit(Step.INFERENCE_SERVICE, StepState.SUCCEEDED, isvc.headline(), [isvc.redacted_manifest()])

    writes, unchanged = writes_for(objects=plan.objects, run_id=run)
    restart = restart_write(inference_service=isvc.existing) if update and isvc.existing else None
    with ThreadPoolExecutor(max_workers=_MAX_WORKERS, thread_name_prefix="nim-deploy") as pool:
        runner = _Run(api=api, request=req, emit=emit, pool=pool, update=update)
        checked = [*writes, *([restart] if restart else [])]
        emit(
            Step.DRY_RUN, StepState.RUNNING, f"{len(checked)} write(s) with dryRun=All, and pre-flight checks"
        )
        preflight = Preflight.start(
            api=api, pool=pool, request=req, facts=facts, plan=plan, writes=checked, update=update
        )
        dry_error: NimWidgetError | None = None
        try:
            checked = runner.dry_run(checked) if checked else []
        except NimWidgetError as error:
            dry_error = error
        checks, check_error = preflight.finish()
        emit(Step.DRY_RUN, StepState.RUNNING, summary(checks) + ": " + "; ".join(c.line() for c in checks))
        failure = check_error or dry_error
        if failure is not None:  # a failed check explains a refused dry run better than the refusal
            raise _fail(emit, Step.DRY_RUN, failure) from None
        emit(
            Step.DRY_RUN,
            StepState.SUCCEEDED,
            ("the cluster accepts every write" if checked else "nothing to write") + "; " + summary(checks),
            [w.redacted() for w in checked],
        )
        writes = [w for w in checked if w is not restart]
        if restart is not None and restart not in checked:
            restart = None

        if dry_run:
            for step in (
                Step.APPLY,
                Step.SECRETS_AND_STORAGE,
                Step.RESIZE_STORAGE,
                Step.WRITE_BATCH,
                Step.RESTART,
            ):
                emit(step, StepState.SKIPPED, "dry run")
        else:
            write_error = runner.write_all(writes) or runner.restart(restart)
            if write_error is not None:
                raise runner.final(write_error)

    result = DeployResult(
        project=plan.project,
        name=plan.name,
        display_name=plan.display_name,
        image=plan.image,
        pvc_name=req.pvc_resource_name,
        dry_run=dry_run,
        update=update,
        created=tuple(runner.ledger.created),
        updated=tuple(runner.ledger.changed),
        unchanged=tuple(_ref(o) for o in unchanged),
        reused=(*(_ref(o) for o in plan.reused), *runner.raced),
        plan=plan.redacted(),
        skipped=facts.skipped,
        preflight=tuple(checks),
        run_id=run,
    )
    emit(Step.RESULT, StepState.SUCCEEDED, result.summary(), list(result.manifests))
    return dataclasses.replace(result, events=tuple(emit.events))


def _facts_line(facts: ClusterFacts) -> str:
    account = facts.account
    template = facts.template
    where = f"{account.namespace}/{account.name}" if account else "none"
    line = f"account {where} ({account.state if account else 'missing'})"
    if template is not None:
        line += f", template {template.name}"
    line += f", {len(facts.models)} model(s) in the catalog"
    if facts.skipped:
        line += f", {len(facts.skipped)} catalog/profile entries skipped"
    return line
