"""The live deploy view: the twelve steps with state icons, durations and details, then the outcome.

Every widget here is built up front; the orchestrator's worker thread only assigns values (through
:class:`~nim_widget.ui.worker.UiPublisher`), which is the one cross-thread pattern that works the same
in JupyterLab, Notebook 7 and Voila. Cluster-provided text (details, error messages, object names) is
escaped; manifests arrive redacted from the engine and are highlighted by Pygments, which escapes too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets

from nim_widget.cluster.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    Invalid,
    NimAccountError,
    NimWidgetError,
    NotFound,
    RequestInvalid,
    TemplateError,
    Unauthorized,
    Unavailable,
    UnknownNameError,
)
from nim_widget.deploy.orchestrator import DeployResult
from nim_widget.deploy.steps import STEP_TITLES, StepEvent, StepState
from nim_widget.ui.form import show
from nim_widget.ui.highlight import dump_yaml, yaml_html
from nim_widget.ui.html import alert, definition_list, esc, message_list
from nim_widget.ui.worker import UiPublisher

MAX_MANIFESTS = 6

ICONS: Mapping[StepState, str] = {
    StepState.PENDING: "○",
    StepState.RUNNING: "◔",
    StepState.SUCCEEDED: "✓",
    StepState.SKIPPED: "–",
    StepState.FAILED: "✗",
    StepState.ROLLED_BACK: "↺",
}

STATE_TEXT: Mapping[StepState, str] = {
    StepState.PENDING: "Pending",
    StepState.RUNNING: "Running",
    StepState.SUCCEEDED: "Done",
    StepState.SKIPPED: "Skipped",
    StepState.FAILED: "Failed",
    StepState.ROLLED_BACK: "Rolled back",
}


def what_to_do(error: BaseException) -> str:
    """One sentence of advice for each kind of failure: the part an error message rarely says."""
    if isinstance(error, AlreadyExists):
        return "Go back to step 2 and choose a different model deployment name."
    if isinstance(error, Conflict):
        return "Someone changed these objects while you were deploying. Reload the wizard and try again."
    if isinstance(error, Forbidden):
        return "Ask your project administrator for permission to create model deployments in this project."
    if isinstance(error, Unauthorized):
        return "Log in to the cluster again (refresh your kubeconfig or token) and retry."
    if isinstance(error, Unavailable):
        return "The cluster did not answer. Wait a moment and deploy again; nothing is left half-done."
    if isinstance(error, Invalid):
        return "The cluster rejected a value. Check the fields named below, go back and correct them."
    if isinstance(error, NimAccountError | TemplateError):
        return "Ask your project administrator to configure NVIDIA NIM for this project."
    if isinstance(error, RequestInvalid | UnknownNameError):
        return "Go back and correct the highlighted choices."
    if isinstance(error, NotFound):
        return "Something the deployment needs no longer exists. Reload the wizard to see the current state."
    return "Check the details below and try again; if it keeps failing, ask your cluster administrator."


def render_step(
    *,
    step: int,
    title: str,
    state: StepState,
    duration: float | None,
    detail: str,
    timing: str | None = None,
) -> str:
    """One row of the step list; ``timing`` replaces the duration's text (step 13 shows 2m 05s)."""
    if timing is None:
        timing = f"{duration:.2f} s" if duration is not None else ""
    return (
        f'<div class="nimw-step nimw-state-{state.value}" data-step="{step}" data-state="{state.value}">'
        f'<span class="nimw-step-icon" title="{esc(STATE_TEXT[state])}">{ICONS[state]}</span>'
        f'<span class="nimw-step-title">{step}. {esc(title)}</span>'
        f'<span class="nimw-step-duration">{esc(timing)}</span>'
        f'<span class="nimw-step-detail">{esc(detail)}</span>'
        "</div>"
    )


def manifest_title(manifest: Mapping[str, Any]) -> str:
    metadata = manifest.get("metadata") or {}
    return f"{manifest.get('kind', 'Object')} {metadata.get('name', '')}".strip()


class ProgressPanel:
    """Built once per wizard; ``reset`` before each run, then fed events from any thread."""

    def __init__(self, *, publisher: UiPublisher, after_steps: widgets.Widget | None = None) -> None:
        """``after_steps``: shown right under step 12 (the wizard's step 13, "Wait until ready")."""
        self._publisher = publisher
        self.heading = widgets.HTML(value="")
        self.heading.add_class("nimw-progress-heading")
        self.rows = tuple(widgets.HTML(value="") for _ in STEP_TITLES)
        for number, row in enumerate(self.rows, start=1):
            row.add_class("nimw-step-row")
            row.add_class(f"nimw-step-row-{number}")
        self.list = widgets.VBox(list(self.rows))
        self.list.add_class("nimw-progress-list")
        self.outcome = widgets.HTML(value="")
        self.outcome.add_class("nimw-outcome")
        self.rollback = widgets.HTML(value="")
        self.rollback.add_class("nimw-rollback")
        self._manifest_views = tuple(widgets.HTML(value="") for _ in range(MAX_MANIFESTS))
        self.manifests = widgets.Accordion(children=[])
        self.manifests.add_class("nimw-result-manifests")
        self.new_deployment = widgets.Button(
            description="New deployment", icon="plus", button_style="primary"
        )
        self.new_deployment.add_class("nimw-new-deployment")
        self.back_to_form = widgets.Button(description="Back to the form", icon="arrow-left")
        self.back_to_form.add_class("nimw-back-to-form")
        self.view_deployments = widgets.Button(description="View deployments", icon="list")
        self.view_deployments.add_class("nimw-view-deployments")
        self.box = widgets.VBox(
            [
                self.heading,
                self.list,
                *([after_steps] if after_steps is not None else []),
                self.outcome,
                self.rollback,
                self.manifests,
                widgets.HBox([self.back_to_form, self.new_deployment, self.view_deployments]),
            ]
        )
        self.box.add_class("nimw-progress")
        self.events: list[StepEvent] = []
        self._rolled_back: list[str] = []
        self.reset(heading="")

    @property
    def rolled_back(self) -> tuple[str, ...]:
        return tuple(self._rolled_back)

    def reset(self, *, heading: str) -> None:
        with self._publisher.batch(*self.rows, self.heading, self.outcome, self.rollback, self.manifests):
            self.events = []
            self._rolled_back = []
            self.heading.value = f'<div class="nimw-section-title">{esc(heading)}</div>' if heading else ""
            for number, row in enumerate(self.rows, start=1):
                row.value = render_step(
                    step=number, title=STEP_TITLES[number], state=StepState.PENDING, duration=None, detail=""
                )
            self.outcome.value = ""
            self.rollback.value = ""
            self.manifests.children = ()
            show(self.manifests, False)
            show(self.new_deployment, False)
            show(self.back_to_form, False)
            show(self.view_deployments, False)

    def on_event(self, event: StepEvent) -> None:
        """The orchestrator's callback; runs on the worker thread."""
        row = self.rows[event.step - 1]
        with self._publisher.batch(row, self.rollback):
            self.events.append(event)
            row.value = render_step(
                step=event.step,
                title=event.title,
                state=event.state,
                duration=event.duration,
                detail=event.detail,
            )
            if event.state is StepState.ROLLED_BACK:
                self._rolled_back.append(event.detail or event.title)
                self.rollback.value = alert(
                    kind="warning",
                    title="Rolled back",
                    body="This run's changes were undone; anything that existed before was left as it was.",
                    extra=message_list(self._rolled_back, cls="nimw-rollback-list"),
                )

    def show_failure(self, *, error: BaseException, advice: str | None = None) -> None:
        if isinstance(error, NimWidgetError):
            title, detail = error.title, error.detail
            causes = dict(getattr(error, "causes", {}) or {})
        else:
            title, detail, causes = "Unexpected error", f"{type(error).__name__}: {error}", {}
        extra = message_list(
            [f"{field}: {message}" if field else message for field, message in causes.items()],
            cls="nimw-error-causes",
        )
        extra += f'<div class="nimw-what-to-do">{esc(advice or what_to_do(error))}</div>'
        with self._publisher.batch(self.outcome):
            self.outcome.value = (
                f'<div class="nimw-error">{alert(kind="danger", title=title, body=detail, extra=extra)}</div>'
            )
            show(self.back_to_form, True)
            show(self.new_deployment, True)

    def show_success(
        self,
        *,
        title: str,
        summary: Sequence[tuple[str, str]],
        manifests: Sequence[Mapping[str, Any]],
        offer_new: bool = True,
    ) -> None:
        shown = list(manifests)[:MAX_MANIFESTS]
        views = self._manifest_views[: len(shown)]
        with self._publisher.batch(self.outcome, self.manifests, *views):
            for view, manifest in zip(views, shown, strict=True):
                view.value = yaml_html(dump_yaml(manifest))
            self.outcome.value = (
                f'<div class="nimw-result">{alert(kind="success", title=title)}'
                f"{definition_list(summary, cls='nimw-summary nimw-result-names')}</div>"
            )
            self.manifests.children = views
            self.manifests.titles = tuple(manifest_title(m) for m in shown)
            self.manifests.selected_index = None
            show(self.manifests, bool(shown))
            show(self.new_deployment, offer_new)
            show(self.view_deployments, True)


def result_rows(result: DeployResult) -> list[tuple[str, str]]:
    """The deployment's names and what this run created, updated and reused."""
    rows = [
        ("Model deployment name", result.display_name),
        ("Inference service", result.name),
        ("Serving runtime", result.name),
        ("Model cache storage", result.pvc_name),
        ("Image", result.image),
        ("Project", result.project),
    ]
    if result.created:
        rows.append(("Created", ", ".join(str(ref) for ref in result.created)))
    if result.updated:
        rows.append(("Updated", ", ".join(str(ref) for ref in result.updated)))
    if result.reused:
        rows.append(("Reused", ", ".join(str(ref) for ref in result.reused)))
    return rows
