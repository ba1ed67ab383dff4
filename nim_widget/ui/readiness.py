"""Step 13, "Wait until ready": the deployment's current stage, live, until it serves or fails.

A NIM needs minutes after its objects exist (image of several GB, model download, engine build), and
a deploy that "succeeded" but never serves is the most confusing outcome there is. So after step 12
the wizard follows the deployment with the lifecycle `Follower` (watches, on its own thread) and shows
the plain-language stage, the cluster's own words and the elapsed time; on ready the endpoints and how
to call them, on failure what went wrong and what to do about it.

Threads: `follow()` blocks and runs on a worker; the Follower calls back on that thread, and a small
ticker thread refreshes the elapsed time once a second. Both only assign values of widgets built here,
through the publisher. Cancelling stops the watching, never the deployment. If the panel's widgets are
closed (the notebook cell is cleared), the ticker notices and cancels the follower, so no thread
watches for a view that no longer exists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import ipywidgets as widgets

from nim_widget.cluster.api import Api
from nim_widget.cluster.errors import NimWidgetError
from nim_widget.deploy.steps import StepState
from nim_widget.lifecycle.access import ModelAccess, model_access
from nim_widget.lifecycle.readiness import DEFAULT_TIMEOUT, Follower, FollowResult, format_elapsed
from nim_widget.lifecycle.stages import STAGE_TITLES, Progress, Stage
from nim_widget.ui.access import AccessPanel, enable_and_read
from nim_widget.ui.form import show
from nim_widget.ui.html import alert, definition_list, esc
from nim_widget.ui.progress import render_step
from nim_widget.ui.worker import Runner, UiPublisher, safe_job

STEP = 13
TITLE = "Wait until ready"
TICK_SECONDS = 1.0

PILL_OF_STAGE = {
    Stage.READY: "ready",
    Stage.FAILED: "error",
    Stage.STOPPED: "loading",
}

# What a person can do about a failure, by the stage where it happened.
WHAT_TO_DO: dict[Stage, str] = {
    Stage.PENDING: (
        "Check the deployment's serving runtime in Deployments; if it was deleted, delete this deployment "
        "and deploy the model again."
    ),
    Stage.STORAGE: (
        "Check that the storage class can provision volumes in this project, or edit the deployment to use "
        "existing storage; ask your cluster administrator if volumes stay unbound."
    ),
    Stage.SCHEDULING: (
        "Choose a hardware profile with fewer GPUs or fewer replicas (Edit in Deployments), or ask your "
        "cluster administrator for GPU capacity."
    ),
    Stage.PULLING: (
        "Check the model tag and the NGC API key of the project's NVIDIA NIM account (the pull secret "
        "ngc-secret is made from it); ask your administrator to validate the key again."
    ),
    Stage.DOWNLOADING: (
        "Check that the model cache storage is large enough for the model and that the NGC API key may "
        "download it."
    ),
    Stage.LOADING: (
        "The model server could not load the model: check that the hardware profile gives it enough GPU "
        "memory, and read the model server pod's log."
    ),
}
TEXT_TIMED_OUT = (
    "The deployment may still become ready: large models can take longer. Its state stays visible in "
    "Deployments; nothing was changed or removed."
)
TEXT_CANCELLED = (
    "Stopped waiting. The deployment was not touched and keeps starting in the cluster; its state is in "
    "Deployments."
)


class WallClock:
    """The lifecycle's clock (`now()` in epoch seconds) over the wizard's datetime clock.

    One source of time for the whole UI: tests hand the wizard the sandbox's fake clock as datetimes,
    and the follower's timeout and elapsed times then move with it.
    """

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now().timestamp()


def describe(error: BaseException) -> str:
    return str(error) if isinstance(error, NimWidgetError) else f"{type(error).__name__}: {error}"


def what_to_do_for(progress: Progress) -> str:
    stage = progress.failed_stage or Stage.LOADING
    return WHAT_TO_DO.get(stage, WHAT_TO_DO[Stage.LOADING])


def stage_html(progress: Progress, *, elapsed: float) -> str:
    pill = PILL_OF_STAGE.get(progress.stage, "pending")
    detail = (
        f'<div class="nimw-wait-detail">{esc(progress.detail)}</div>'
        if progress.detail and progress.detail not in progress.message
        else ""
    )
    return (
        f'<div class="nimw-wait" data-stage="{esc(progress.stage.value)}">'
        f'<span class="nimw-pill nimw-pill-{pill} nimw-wait-title">'
        f"{esc(STAGE_TITLES[progress.stage])}</span> "
        f'<span class="nimw-wait-elapsed">{esc(format_elapsed(elapsed))}</span>'
        f'<div class="nimw-wait-message">{esc(progress.message)}</div>{detail}</div>'
    )


class ReadinessPanel:
    """The step-13 row, the live stage, the outcome and the model's access, built once."""

    def __init__(self, *, publisher: UiPublisher, tick: float = TICK_SECONDS) -> None:
        self._publisher = publisher
        self._tick = tick
        self._lock = threading.Lock()
        self._follower: Follower | None = None
        self._cancel_requested = False
        # Each following run has a number and its own "done" event: a run that was replaced (a new
        # deploy, a reset) may still be winding down, and must neither publish nor end the new one.
        self._run = 0
        self._done = threading.Event()
        self._done.set()
        self._clock: WallClock | None = None
        self._started = 0.0
        self._last: Progress | None = None
        self.result: FollowResult | None = None
        self.error: BaseException | None = None
        self.seen: list[Progress] = []

        self.row = widgets.HTML(value="")
        self.row.add_class("nimw-step-row")
        self.row.add_class(f"nimw-step-row-{STEP}")
        self.stage = widgets.HTML(value="")
        self.stage.add_class("nimw-wait-stage")
        self.outcome = widgets.HTML(value="")
        self.outcome.add_class("nimw-wait-outcome")
        self.cancel_button = widgets.Button(
            description="Stop waiting",
            icon="stop",
            tooltip="Stop following the deployment; it keeps starting in the cluster.",
            layout=widgets.Layout(width="auto"),
        )
        self.cancel_button.add_class("nimw-wait-cancel")
        self.access = AccessPanel(publisher=publisher)
        self.details = widgets.VBox([self.stage, self.outcome, self.cancel_button, self.access.box])
        self.details.add_class("nimw-wait-details")
        self.box = widgets.VBox([self.row, self.details])
        self.box.add_class("nimw-wait-step")
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.reset()

    # -- state -------------------------------------------------------------------------------------

    @property
    def following(self) -> bool:
        return not self._done.is_set()

    @property
    def last(self) -> Progress | None:
        return self._last

    def _set_row(self, state: StepState, detail: str, elapsed: float | None = None) -> None:
        timing = format_elapsed(elapsed) if elapsed is not None else None
        self.row.value = render_step(
            step=STEP, title=TITLE, state=state, duration=None, detail=detail, timing=timing
        )

    def reset(self) -> None:
        """Pending and empty (before a deploy); a run still following is cancelled and silenced; the
        access panel forgets any token."""
        with self._lock:
            self._run += 1
            follower, self._follower = self._follower, None
        if follower is not None:
            follower.cancel()
        with self._publisher.batch(self.row, self.stage, self.outcome):
            self.result, self.error, self._last = None, None, None
            self.seen = []
            self._set_row(StepState.PENDING, "")
            self.stage.value = self.outcome.value = ""
            show(self.details, False)
            show(self.cancel_button, False)
        self.access.clear()

    def skip(self, *, detail: str) -> None:
        with self._publisher.batch(self.row):
            self._set_row(StepState.SKIPPED, detail)

    # -- following ---------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Mark the panel as following before the job starts, so a Cancel click is never lost."""
        with self._lock:
            self._prepare()

    def _prepare(self) -> None:
        self._run += 1
        self._cancel_requested = False
        self._done = threading.Event()
        if self._follower is not None:  # replaced by this run
            self._follower.cancel()
            self._follower = None

    def cancel(self) -> None:
        """Stop following (the deployment itself is left alone)."""
        with self._lock:
            self._cancel_requested = True
            follower = self._follower
        if follower is not None:
            follower.cancel()

    def join(self, timeout: float) -> bool:
        """Wait until following ended (tests and scripts); True when it did within ``timeout``."""
        return self._done.wait(timeout)

    def start(
        self,
        *,
        api: Api,
        namespace: str,
        name: str,
        clock: WallClock,
        timeout: float,
        runner: Runner,
        on_crash: Callable[[BaseException], None],
    ) -> None:
        """`follow` as a job on ``runner`` (the wizard's follow runner: its own thread by default)."""
        self.prepare()

        def job() -> None:
            self.follow(api=api, namespace=namespace, name=name, clock=clock, timeout=timeout)

        runner(safe_job(job, on_crash=on_crash), name=f"nim-wait-{name}")

    def enable_access(self, *, api: Api, namespace: str, runner: Runner) -> None:
        """The access panel's Enable button: route and token authentication, then the access again."""
        access = self.access.access
        if access is None:
            return
        name = access.name
        self.access.enable.disabled = True

        def job() -> None:
            try:
                found, note = enable_and_read(api=api, namespace=namespace, name=name)
            except Exception as exc:  # shown under the panel, e.g. only administrators may
                with self._publisher.batch(self.access.enable):
                    self.access.enable.disabled = False
                    self.access.set_message(
                        alert(kind="danger", title=getattr(exc, "title", "Failed"), body=describe(exc))
                    )
                return
            self.access.render(found, note=note)

        runner(job, name=f"nim-access-enable-{name}")

    def follow(
        self,
        *,
        api: Api,
        namespace: str,
        name: str,
        clock: WallClock,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> FollowResult | None:
        """Follow ``name`` until ready, stopped, failed, timed out or cancelled; blocks (a worker job).

        Returns None when following itself broke (the error is shown and kept in ``error``).
        """
        with self._lock:
            if self._done.is_set():  # not prepared by the owner: nothing can have been cancelled yet
                self._prepare()
            run, done = self._run, self._done
        try:
            return self._follow(
                api=api, namespace=namespace, name=name, clock=clock, timeout=timeout, run=run
            )
        finally:
            done.set()

    def _current(self, run: int) -> bool:
        return run == self._run

    def _follow(
        self, *, api: Api, namespace: str, name: str, clock: WallClock, timeout: float, run: int
    ) -> FollowResult | None:
        self._clock = clock
        self._started = clock.now()
        with self._publisher.batch(self.row, self.stage, self.outcome):
            if not self._current(run):
                return None
            self.result, self.error, self._last = None, None, None
            self.seen = []
            self._set_row(StepState.RUNNING, "Watching the deployment start…")
            self.stage.value = ""
            self.outcome.value = ""
            show(self.details, True)
            show(self.cancel_button, True)
        self.access.clear()
        follower = Follower(
            api=api,
            namespace=namespace,
            name=name,
            on_progress=lambda progress: self._on_progress(progress, run),
            timeout=timeout,
            clock=clock,
        )
        with self._lock:
            cancelled = self._cancel_requested or not self._current(run)
            if not cancelled:
                self._follower = follower
        ticking = threading.Event()
        ticker = threading.Thread(
            target=self._run_ticker, args=(ticking, run), name=f"nim-wait-ticker-{name}", daemon=True
        )
        result: FollowResult | None = None
        try:
            if cancelled:
                result = FollowResult(progress=self._placeholder(), cancelled=True)
            else:
                ticker.start()
                result = follower.run()
        except Exception as exc:  # the watch broke (the API went away, permissions): say so
            error: Exception | None = exc
        else:
            error = None
        finally:
            with self._lock:
                if self._follower is follower:
                    self._follower = None
            ticking.set()
            if ticker.is_alive():
                ticker.join()
        if result is None:
            assert error is not None
            self._show_error(error, run)
            return None
        access: ModelAccess | BaseException | None = None
        if result.ready:
            try:
                access = model_access(api=api, namespace=namespace, name=name)
            except NimWidgetError as exc:  # the endpoint is still shown from the readiness result
                access = exc
        self._show_result(result, access, run)
        return result

    def _placeholder(self) -> Progress:
        return self._last or Progress(Stage.PENDING, "Starting: not followed yet.")

    def _elapsed(self) -> float:
        return 0.0 if self._clock is None else max(0.0, self._clock.now() - self._started)

    def _on_progress(self, progress: Progress, run: int) -> None:
        """The Follower's callback (worker thread): a new stage or message."""
        with self._publisher.batch(self.row, self.stage):
            if not self._current(run):
                return
            self._last = progress
            self.seen.append(progress)
            self._render_live()

    def _render_live(self) -> None:
        progress = self._last
        if progress is None:
            return
        elapsed = self._elapsed()
        self.stage.value = stage_html(progress, elapsed=elapsed)
        if not progress.terminal:
            self._set_row(StepState.RUNNING, progress.title, elapsed)

    def _run_ticker(self, stop: threading.Event, run: int) -> None:
        """Refresh the elapsed time between stage changes; cancel the follower if the view is gone."""
        while not stop.wait(self._tick):
            if self.row.comm is None:  # closed (cell cleared, wizard closed): nobody is looking
                self.cancel()
                return
            with self._publisher.batch(self.row, self.stage):
                if not stop.is_set() and self._current(run):
                    self._render_live()

    # -- outcome -----------------------------------------------------------------------------------

    def _show_result(
        self, result: FollowResult, access: ModelAccess | BaseException | None, run: int
    ) -> None:
        progress = result.progress
        elapsed = progress.elapsed if progress.elapsed else self._elapsed()
        with self._publisher.batch(self.row, self.stage, self.outcome, self.cancel_button):
            if not self._current(run):
                return
            self.result = result
            self._last = progress
            self.stage.value = stage_html(progress, elapsed=elapsed)
            show(self.cancel_button, False)
            if result.cancelled:
                self._set_row(StepState.SKIPPED, "Stopped waiting")
                self.outcome.value = alert(kind="info", title="Stopped waiting", body=TEXT_CANCELLED)
            elif result.timed_out:
                self._set_row(StepState.FAILED, f"Not ready after {format_elapsed(elapsed)}", elapsed)
                self.outcome.value = alert(
                    kind="warning",
                    title=f"Not ready after {format_elapsed(elapsed)}",
                    body=result.message,
                    extra=f'<div class="nimw-what-to-do">{esc(TEXT_TIMED_OUT)}</div>',
                )
            elif result.ready:
                self._set_row(StepState.SUCCEEDED, progress.message, elapsed)
                rows = [("URL", progress.url or "—")]
                if progress.internal_url and progress.internal_url != progress.url:
                    rows.append(("Internal URL", progress.internal_url))
                self.outcome.value = (
                    '<div class="nimw-ready">'
                    + alert(
                        kind="success",
                        title="Ready",
                        body=f"The model serves requests after {format_elapsed(elapsed)}.",
                    )
                    + definition_list(rows, cls="nimw-summary nimw-ready-urls")
                    + "</div>"
                )
            elif progress.stage is Stage.STOPPED:
                self._set_row(StepState.SKIPPED, progress.message)
                self.outcome.value = alert(kind="info", title="Stopped", body=progress.message)
            else:
                self._set_row(StepState.FAILED, progress.message, elapsed)
                self.outcome.value = (
                    '<div class="nimw-wait-failure">'
                    + alert(
                        kind="danger",
                        title=STAGE_TITLES[progress.stage],
                        body=progress.message,
                        extra=(
                            f'<div class="nimw-wait-detail">{esc(progress.detail)}</div>'
                            if progress.detail
                            else ""
                        )
                        + f'<div class="nimw-what-to-do">{esc(what_to_do_for(progress))}</div>',
                    )
                    + "</div>"
                )
            if isinstance(access, ModelAccess):
                self.access.render(access)
            elif access is not None:
                self.access.set_message(
                    alert(kind="warning", title="Could not read the model's access", body=str(access))
                )

    def _show_error(self, error: BaseException, run: int) -> None:
        title = error.title if isinstance(error, NimWidgetError) else "Following the deployment failed"
        detail = error.detail if isinstance(error, NimWidgetError) else f"{type(error).__name__}: {error}"
        with self._publisher.batch(self.row, self.outcome, self.cancel_button):
            if not self._current(run):
                return
            self.error = error
            self._set_row(StepState.FAILED, title)
            show(self.cancel_button, False)
            self.outcome.value = alert(
                kind="danger",
                title=title,
                body=detail,
                extra=f'<div class="nimw-what-to-do">{esc(TEXT_TIMED_OUT)}</div>',
            )
