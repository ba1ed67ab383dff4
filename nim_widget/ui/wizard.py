"""`NimWizard`: the dashboard's "Deploy a model with NVIDIA NIM" wizard as an ipywidgets form.

Composition, not inheritance: the wizard owns a root ``VBox`` (``wizard.widget``) and displays as it
(``_repr_mimebundle_``), so none of its attributes can collide with traitlets' machinery and it can
still be placed inside any layout through ``wizard.widget``.

Threads: every cluster call (discovery, dry run, deploy) runs through the injected runner (a named
daemon thread by default); callbacks return at once; workers only assign values of widgets created
here, under one lock. The engine does the work: rules come from `DeploymentRequest` and
`validate_against_facts`, manifests from `assemble(...).render_yaml()`, deploys from the orchestrator.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import ipywidgets as widgets

from nim_widget.cluster.connect import Connection
from nim_widget.cluster.discovery import gather
from nim_widget.cluster.errors import AlreadyExists, NimWidgetError
from nim_widget.deploy.orchestrator import DeployResult, deploy
from nim_widget.deploy.steps import Step, StepEvent, StepState
from nim_widget.facts import ClusterFacts
from nim_widget.lifecycle.extract import ChangePreview, EditSession
from nim_widget.lifecycle.readiness import DEFAULT_TIMEOUT
from nim_widget.manifests import AssemblyError, Plan, assemble
from nim_widget.request import dump_spec
from nim_widget.ui.deployment import DeploymentSection
from nim_widget.ui.deployments import SUBTITLE as DEPLOYMENTS_SUBTITLE
from nim_widget.ui.deployments import TITLE as DEPLOYMENTS_TITLE
from nim_widget.ui.deployments import NimDeployments
from nim_widget.ui.display import RootView, close_tree
from nim_widget.ui.env import EnvEditor, predefined_names, row_messages
from nim_widget.ui.form import show
from nim_widget.ui.header import EDIT_TITLE, TITLE, Header
from nim_widget.ui.html import alert, esc
from nim_widget.ui.picker import ModelPicker
from nim_widget.ui.progress import ProgressPanel, result_rows
from nim_widget.ui.readiness import ReadinessPanel, WallClock
from nim_widget.ui.review import ReviewSection, summary_sections
from nim_widget.ui.stepper import stepper_html
from nim_widget.ui.storage import StorageSection
from nim_widget.ui.styles import ROOT_CLASS, style_widget
from nim_widget.ui.validation import FormCheck, belongs, check_form, label_for
from nim_widget.ui.wizard_edit import WizardEdit
from nim_widget.ui.worker import Runner, UiPublisher, safe_job, thread_runner

PAGE_PROGRESS = 4
PAGE_DEPLOYMENTS = 5
PROJECT_LABEL = "opendatahub.io/dashboard=true"


def _describe(error: BaseException) -> str:
    if isinstance(error, NimWidgetError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class NimWizard(RootView):
    """Deploy an NVIDIA NIM model from a notebook: four steps, a review, and a live deploy.

    ``connection``: an engine `Connection`; when omitted, one is made from ``kubeconfig``/``context``
    (or the demo cluster when nothing is configured, see `nim_widget.demo.ensure_connection`).
    ``project``: the project to open on (default: the connection's namespace).
    ``demo``: show the "Demo cluster" banner; None decides from the environment (``NIM_WIDGET_DEMO``)
    or from how the connection was made. ``runner`` starts background jobs (tests pass an inline one).

    After a deploy the wizard waits until the model is ready (step 13) unless ``wait_until_ready`` is
    False, for at most ``ready_timeout`` seconds (default 30 minutes). Following runs through
    ``follow_runner`` (default: its own daemon thread, whatever ``runner`` is: it lasts minutes and
    must stay cancellable). ``deployments``: the stand-alone `NimDeployments` this wizard edits for
    (its "Deployments" button then goes back to that view instead of a page of its own).
    """

    def __init__(
        self,
        *,
        connection: Connection | None = None,
        project: str | None = None,
        demo: bool | None = None,
        kubeconfig: str | os.PathLike[str] | None = None,
        context: str | None = None,
        runner: Runner | None = None,
        dashboard_namespaces: Sequence[str] | None = None,
        clock: Callable[[], datetime] | None = None,
        wait_until_ready: bool = True,
        ready_timeout: float = DEFAULT_TIMEOUT,
        follow_runner: Runner | None = None,
        deployments: NimDeployments | None = None,
    ) -> None:
        self._connect(
            connection=connection, kubeconfig=kubeconfig, context=context, project=project, demo=demo
        )
        self._runner: Runner = runner or thread_runner
        self._dashboard_namespaces = tuple(dashboard_namespaces) if dashboard_namespaces else None
        self._now = clock or (lambda: datetime.now(UTC))
        self.publisher = UiPublisher()
        self.facts: ClusterFacts | None = None
        self.check = FormCheck(request=None)
        self.plan: Plan | None = None
        self.last_result: DeployResult | None = None
        self.last_error: BaseException | None = None
        self._generation = 0
        self._applying = False
        self._busy = False
        self._touched: set[str] = set()
        self._current = 0
        self._threads: list[threading.Thread] = []
        self.wait_until_ready = wait_until_ready
        self.ready_timeout = ready_timeout
        self._follow_runner: Runner = follow_runner or thread_runner
        self.lifecycle_clock = WallClock(self._now)
        self.editing = WizardEdit(self)
        self._host_deployments = deployments
        self.deployments_view: NimDeployments | None = None
        self._page_before_deployments = 0

        self.header = Header(
            cluster=self.connection.describe(),
            demo=self.demo,
            demo_reason=self.demo_reason,
        )
        self.picker = ModelPicker()
        self.deployment = DeploymentSection()
        self.storage = StorageSection(clock=self._now)
        self.env = EnvEditor()
        self.review = ReviewSection()
        self.readiness = ReadinessPanel(publisher=self.publisher)
        self.progress = ProgressPanel(publisher=self.publisher, after_steps=self.readiness.box)
        self.nav_form = widgets.Button(description="Deploy a model", icon="rocket")
        self.nav_form.add_class("nimw-nav-wizard")
        self.nav_deployments = widgets.Button(description="Deployments", icon="list")
        self.nav_deployments.add_class("nimw-nav-deployments")
        self.nav = widgets.HBox([self.nav_form, self.nav_deployments])
        self.nav.add_class("nimw-nav")
        self.edit_banner = widgets.HTML(value="")
        self.edit_banner.add_class("nimw-edit-banner")
        self.cancel_edit = widgets.Button(description="Cancel edit", icon="times")
        self.cancel_edit.add_class("nimw-cancel-edit")
        self.edit_bar = widgets.HBox([self.edit_banner, self.cancel_edit])
        self.edit_bar.add_class("nimw-edit-bar")
        show(self.edit_bar, False)
        self.deployments_page = widgets.VBox([])

        self.stepper = widgets.HTML(value="")
        self.stepper.add_class("nimw-steps")
        pages = [
            self.picker.box,
            widgets.VBox([self.deployment.box, self.storage.box]),
            self.env.box,
            self.review.box,
            self.progress.box,
            self.deployments_page,
        ]
        names = ("model", "deployment", "advanced", "review", "progress", "deployments")
        for page, name in zip(pages, names, strict=True):
            page.add_class("nimw-page")
            page.add_class(f"nimw-page-{name}")
        self.pages = widgets.Stack(children=pages, selected_index=0)
        self.back = widgets.Button(description="Back", icon="arrow-left")
        self.back.add_class("nimw-back")
        self.next = widgets.Button(description="Next", icon="arrow-right", button_style="primary")
        self.next.add_class("nimw-next")
        self.deploy_button = widgets.Button(description="Deploy model", icon="rocket", button_style="primary")
        self.deploy_button.add_class("nimw-deploy")
        self.status = widgets.HTML(value="")
        self.status.add_class("nimw-step-status")
        self.footer = widgets.HBox([self.back, self.next, self.deploy_button, self.status])
        self.footer.add_class("nimw-footer")
        self.crash = widgets.HTML(value="")
        self.crash.add_class("nimw-crash")
        self.widget = widgets.VBox(
            [
                style_widget(),
                self.header.box,
                self.nav,
                self.edit_bar,
                self.stepper,
                self.pages,
                self.footer,
                self.crash,
            ]
        )
        self.widget.add_class(ROOT_CLASS)

        self._wire()
        self._go(0)
        self.header.set_project(self.project)
        self.reload()

    # -- display -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Close every widget of this wizard, and the connection when the wizard made it."""
        self.readiness.cancel()
        if self.deployments_view is not None:
            close_tree(self.deployments_view.box)
        close_tree(self.widget)
        if self._owns_connection:
            self.connection.close()

    # -- wiring ------------------------------------------------------------------------------------

    def _wire(self) -> None:
        self.back.on_click(lambda _b: self.go_back())
        self.next.on_click(lambda _b: self.go_next())
        self.deploy_button.on_click(lambda _b: self.start_deploy())
        self.review.dry_run.on_click(lambda _b: self.start_dry_run())
        self.progress.new_deployment.on_click(lambda _b: self.new_deployment())
        self.progress.back_to_form.on_click(lambda _b: self.back_to_form())
        self.progress.view_deployments.on_click(lambda _b: self.show_deployments())
        self.nav_form.on_click(lambda _b: self.show_form())
        self.nav_deployments.on_click(lambda _b: self.show_deployments())
        self.cancel_edit.on_click(lambda _b: self.new_deployment())
        self.review.overwrite.observe(lambda _c: self.editing.overwrite_changed(), names="value")
        self.readiness.access.on_enable(
            lambda: self.readiness.enable_access(api=self.api, namespace=self.project, runner=self._start)
        )
        self.picker.retry.on_click(lambda _b: self.reload())
        self.picker.on_change(lambda: self._edited("model", "tag"))
        self.deployment.on_change(self._edited)
        self.storage.on_change(lambda: self._edited("storage"))
        self.env.on_change(lambda: self._edited("env"))
        self.deployment.project.observe(self._on_project, names="value")

    def _mark(self, *paths: str) -> None:
        if not self._applying:
            self._touched.update(paths)

    def _edited(self, *paths: str) -> None:
        self._mark(*paths)
        self.storage.suggest_pvc_name(self.deployment.resource_name_value())
        self.revalidate()

    # -- loading cluster facts ---------------------------------------------------------------------

    def reload(self) -> None:
        """Read the project's facts again (on start, Retry, project change and after a deploy)."""
        self._generation += 1
        generation, project = self._generation, self.project
        self.facts = None
        self.picker.set_loading()
        self.header.set_account(None, loading=True)
        self.revalidate()

        def job() -> None:
            try:
                kwargs: dict[str, Any] = {"api": self.api, "project": project, "now": self._now()}
                if self._dashboard_namespaces is not None:
                    kwargs["dashboard_namespaces"] = self._dashboard_namespaces
                facts = gather(**kwargs)
            except Exception as exc:  # any failure: show it with Retry rather than spin forever
                self._publish_load_error(generation, exc)
                return
            projects = self._list_projects(project)
            with self.publisher.batch(self.widget):
                if generation == self._generation:
                    self._apply_facts(facts, projects)

        self._start(job, name=f"nim-wizard-discovery-{project}")

    def _list_projects(self, current: str) -> list[str]:
        """Projects the dashboard would offer; the current one alone when listing is not allowed."""
        try:
            items = self.api.list(api_version="v1", kind="Namespace", label_selector=PROJECT_LABEL)
        except NimWidgetError:  # typically Forbidden: listing namespaces needs a cluster role
            return [current]
        return [str((item.get("metadata") or {}).get("name", "")) for item in items] + [current]

    def _publish_load_error(self, generation: int, error: BaseException) -> None:
        with self.publisher.batch(self.widget):
            if generation != self._generation:
                return
            self.picker.set_error(detail=_describe(error))
            self.header.set_account(None)

    def _apply_facts(self, facts: ClusterFacts, projects: Sequence[str]) -> None:
        self._applying = True
        try:
            self.facts = facts
            self.header.set_account(facts.account)
            self.deployment.set_projects(projects=[p for p in projects if p], current=facts.project)
            self.deployment.set_profiles(facts.selectable_hardware_profiles)
            self.storage.set_cluster(
                classes=facts.storage_classes, default_class=facts.default_storage_class, pvcs=facts.pvcs
            )
            self.storage.suggest_pvc_name(self.deployment.resource_name_value())
            self.env.set_predefined(predefined_names(facts))
            self.picker.set_catalog(models=facts.models, account=facts.account)
        finally:
            self._applying = False
        self.revalidate()
        if self._current == 3:
            self._render_review()
            self._update_footer()

    def _on_project(self, change: Mapping[str, object]) -> None:
        new = str(change["new"] or "")
        if self._applying or not new or new == self.project:
            return
        self.project = new
        self.header.set_project(new)
        self.reload()

    # -- validation --------------------------------------------------------------------------------

    def form_data(self) -> dict[str, Any]:
        """The form as the request model takes it (snake_case keys)."""
        data: dict[str, Any] = {
            "project": self.project,
            "model": self.picker.model_key or "",
            "tag": self.picker.selected_tag,
            **self.deployment.values(),
            "storage": self.storage.values(),
            "env": self.env.values(),
        }
        return data

    def revalidate(self) -> FormCheck:
        with self.publisher.batch():
            check = self._check()
            self.check = check
            visible = {path: message for path, message in check.errors.items() if self._shown(path)}
            self.picker.model_field.set_error(visible.get("model"))
            self.picker.tag_field.set_error(visible.get("tag"))
            self.deployment.show_errors(visible)
            self.storage.show_errors(visible)
            self.env.set_errors(row_messages(visible, self.env.values()))
            self._update_footer()
        return check

    def _check(self) -> FormCheck:
        """The engine's rules; in an edit also what an edit may not change (a PVC only grows)."""
        editing = self.editing.active
        return self.editing.check(check_form(data=self.form_data(), facts=self.facts, update=editing))

    def _shown(self, path: str) -> bool:
        """Messages appear once a person has touched the field, so a fresh form is not a wall of red."""
        return any(belongs(path, touched) or belongs(touched, path) for touched in self._touched)

    def _update_footer(self) -> None:
        current = self._current
        on_form = current < PAGE_PROGRESS
        loading = self.facts is None
        step_ok = not loading and self.check.step_valid(current + 1) if current < 3 else self.check.valid
        editing = self.editing.active
        self.back.disabled = self._busy or current == 0
        self.next.disabled = self._busy or not step_ok
        self.deploy_button.disabled = (
            self._busy or not self.check.valid or self.plan is None or self.editing.nothing_to_apply
        )
        self.deploy_button.description = "Apply changes" if editing else "Deploy model"
        show(self.stepper, current != PAGE_DEPLOYMENTS)
        # The title says what the page does; the edit bar belongs to the form, not to the table.
        editing_shown = bool(self.edit_banner.value)
        if current == PAGE_DEPLOYMENTS:
            self.header.set_title(title=DEPLOYMENTS_TITLE, subtitle=DEPLOYMENTS_SUBTITLE)
        else:
            self.header.set_title(title=EDIT_TITLE if editing_shown else TITLE)
        show(self.edit_bar, editing_shown and current != PAGE_DEPLOYMENTS)
        if current == PAGE_DEPLOYMENTS:  # the table needs more room than the form
            self.widget.add_class("nimw-wide")
        else:
            self.widget.remove_class("nimw-wide")
        for button, selected in (
            (self.nav_deployments, current == PAGE_DEPLOYMENTS),
            (self.nav_form, current != PAGE_DEPLOYMENTS),
        ):
            if selected:
                button.add_class("is-current")
            else:
                button.remove_class("is-current")
        show(self.next, on_form and current < 3)
        show(self.deploy_button, current == 3)
        show(self.back, on_form)
        show(self.footer, on_form)
        hidden = (
            [m for p, m in self.check.for_step(current + 1).items() if not self._shown(p)]
            if current < 3
            else []
        )
        if loading and on_form:
            self.status.value = '<span class="nimw-help">Loading cluster information…</span>'
        elif hidden:
            shown = "; ".join(hidden[:3]) + (" …" if len(hidden) > 3 else "")
            self.status.value = f'<span class="nimw-help">To continue: {esc(shown)}</span>'
        else:
            self.status.value = ""
        self.stepper.value = stepper_html(
            current=min(current, 3),
            done=[self.check.step_valid(i + 1) and i < current for i in range(3)]
            + [current == PAGE_PROGRESS],
            finished=current == PAGE_PROGRESS,
        )

    # -- navigation --------------------------------------------------------------------------------

    @property
    def current_step(self) -> int:
        """1 to 4 for the form's steps, 5 while deploying or showing the outcome, 6 on Deployments."""
        return self._current + 1

    def _go(self, index: int) -> None:
        if index == 2:
            self.env.materialise()  # rows of an edited deployment become widgets here, in a callback
        self._current = index
        self.pages.selected_index = index
        if index == 3:
            self._render_review()
        self._update_footer()

    def go_next(self) -> None:
        check = self.revalidate()
        if (
            self._current < 3
            and not self._busy
            and self.facts is not None
            and check.step_valid(self._current + 1)
        ):
            self._go(self._current + 1)
        else:
            # Blocked: reveal every message of this step so the person sees why.
            self._touched.update(check.for_step(self._current + 1))
            self.revalidate()

    def go_back(self) -> None:
        if 0 < self._current < PAGE_PROGRESS and not self._busy:
            self._go(self._current - 1)

    def go_to(self, step: int) -> None:
        """Jump to a form step (1-4) that is reachable: every earlier step valid."""
        if not 1 <= step <= 4 or self._busy:
            raise ValueError(f"step must be 1 to 4, got {step}")
        for earlier in range(1, step):
            if not self.check.step_valid(earlier):
                raise ValueError(f"step {earlier} is not complete")
        self._go(step - 1)

    # -- review ------------------------------------------------------------------------------------

    def _render_review(self) -> None:
        self.plan = None
        request, facts = self.check.request, self.facts
        if request is None or facts is None:
            self.review.show_problems(
                problems=[f"{label_for(p)}: {m}" for p, m in self.check.errors.items()]
                or ["The cluster information is still loading."]
            )
            return
        if self.editing.active:
            self.editing.render_review(request, facts)
            return
        try:
            plan = assemble(request=request, facts=facts)
        except AssemblyError as exc:
            self.review.show_problems(problems=[f"{label_for(e.field)}: {e.message}" for e in exc.errors])
            return
        self.plan = plan
        self.review.show(
            sections=summary_sections(request=request, facts=facts, storage_rows=self.storage.summary()),
            yaml_text=plan.render_yaml(),
            spec_text=dump_spec(request=request),
            file_stem=request.name,
        )

    # -- dry run and deploy ------------------------------------------------------------------------

    def start_dry_run(self) -> None:
        request = self.check.request
        if request is None or self._busy:
            return
        self._busy = True
        self.review.dry_run.disabled = True
        self.review.dry_run_result.value = alert(kind="info", title="Dry run in progress…")
        self._update_footer()
        editing = self.editing.active
        overwrite = editing and bool(self.review.overwrite.value)

        def job() -> None:
            events: list[StepEvent] = []
            try:
                deploy(
                    api=self.api,
                    request=request,
                    on_event=events.append,
                    dry_run=True,
                    update=editing,
                    overwrite=overwrite,
                )
            except Exception as exc:  # shown to the person; a dry run writes nothing to undo
                message = alert(
                    kind="danger",
                    title=getattr(exc, "title", "Dry run failed"),
                    body=getattr(exc, "detail", str(exc)),
                )
            else:
                checked = [
                    e.detail for e in events if e.step == Step.DRY_RUN and e.state is StepState.RUNNING
                ]
                message = alert(
                    kind="success",
                    title="Dry run passed",
                    body="The cluster validated and admitted every object without storing anything"
                    + (f" ({checked[-1]})." if checked else "."),
                )
            with self.publisher.batch(self.review.dry_run_result, self.review.dry_run):
                self.review.dry_run_result.value = message
                self.review.dry_run.disabled = False
                self._busy = False
                self._update_footer()

        self._start(job, name=f"nim-dry-run-{request.name}")

    def start_deploy(self) -> None:
        """Deploy (or, in an edit, apply the previewed change), then wait until ready (step 13)."""
        request = self.check.request
        session = self.editing.session
        if request is None or self._busy or self.plan is None or self.editing.nothing_to_apply:
            return
        overwrite = session is not None and bool(self.review.overwrite.value)
        self._busy = True
        self.last_result, self.last_error = None, None
        verb = "Updating" if session is not None else "Deploying"
        where = "in" if session is not None else "to"
        self.progress.reset(heading=f"{verb} {request.display_name} {where} project {request.project}")
        self.readiness.reset()
        self._go(PAGE_PROGRESS)

        def job() -> None:
            try:
                if session is not None:
                    result = session.apply(request, overwrite=overwrite, on_event=self.progress.on_event)
                else:
                    result = deploy(api=self.api, request=request, on_event=self.progress.on_event)
            except Exception as exc:  # the engine's errors carry title/detail; anything else still shows
                self.last_error = exc
                advice = self.editing.advice(exc) if session is not None else None
                self.progress.show_failure(error=exc, advice=advice)
                self.readiness.skip(detail="Nothing to wait for: the change was not made")
            else:
                self.last_result = result
                self.progress.show_success(
                    title=f"{request.display_name} is {'updated' if session is not None else 'deployed'}",
                    summary=result_rows(result),
                    manifests=result.manifests,
                )
                if self.wait_until_ready:
                    self.start_waiting(name=result.name, project=result.project)
                else:
                    self.readiness.skip(detail="Not waiting (wait_until_ready is off)")
            with self.publisher.batch(self.footer):
                self._busy = False
                self._update_footer()

        self._start(job, name=f"nim-{'update' if session is not None else 'deploy'}-{request.name}")

    # -- step 13: wait until ready -----------------------------------------------------------------

    def start_waiting(self, *, name: str, project: str | None = None) -> None:
        """Follow ``name`` until it is ready or failed, on ``follow_runner`` (step 13)."""
        self.readiness.start(
            api=self.api,
            namespace=project or self.project,
            name=name,
            clock=self.lifecycle_clock,
            timeout=self.ready_timeout,
            runner=self._follow_runner,
            on_crash=self._crashed,
        )

    def stop_waiting(self) -> None:
        """What "Stop waiting" does: stop following; the deployment is left alone."""
        self.readiness.cancel()

    def join_ready(self, timeout: float) -> bool:
        """Wait until step 13 has ended (tests and scripts); True when it did within ``timeout``."""
        return self.readiness.join(timeout)

    def back_to_form(self) -> None:
        """After a failure: to step 2 when the name is taken, else to the review; facts re-read."""
        if not self._busy:
            self._go(1 if isinstance(self.last_error, AlreadyExists) else 3)
            self.reload()

    def new_deployment(self) -> None:
        """Start over with a clean form on the same project (the cluster is read again)."""
        if self._busy:
            return
        self.readiness.cancel()
        self._clear_form()
        self._go(0)
        self.reload()

    def _clear_form(self) -> None:
        """An empty create form: edit mode left, every field back to its default."""
        self.editing.clear()
        self._touched.clear()
        self.deployment.reset()
        self.storage.reset()
        self.env.clear()
        self.picker.clear()
        self.plan = None

    # -- edit mode -----------------------------------------------------------------------------------

    def edit(self, name: str) -> None:
        """Open the form on deployment ``name`` in edit mode (see `wizard_edit`)."""
        self.editing.open(name)

    @property
    def edit_session(self) -> EditSession | None:
        return self.editing.session

    @property
    def change_preview(self) -> ChangePreview | None:
        """The change the review showed last (an edit), which "Apply changes" sends."""
        return self.editing.preview

    # -- deployments -------------------------------------------------------------------------------

    def show_deployments(self) -> None:
        """The project's deployments (a page of the wizard, made on the first visit)."""
        if self._host_deployments is not None:
            self._host_deployments.show_list()
            return
        view = self.deployments_view
        if view is None:
            view = NimDeployments(
                connection=self.connection,
                project=self.project,
                demo=self.demo,
                runner=self._runner,
                clock=self._now,
                on_edit=self.edit,
                on_new=self.show_form,
                publisher=self.publisher,
                embedded=True,
                load=False,
            )
            self.deployments_view = view
            self.deployments_page.children = (view.box,)
        if self._current != PAGE_DEPLOYMENTS:
            self._page_before_deployments = self._current
        self._go(PAGE_DEPLOYMENTS)
        if view.project != self.project:
            view.set_project(self.project)
        else:
            view.refresh()

    def show_form(self) -> None:
        """Back from Deployments to where the person was (the form, or a deploy's progress)."""
        if self._current == PAGE_DEPLOYMENTS:
            self._go(self._page_before_deployments)

    # -- threads -----------------------------------------------------------------------------------

    def _start(self, job: Callable[[], None], *, name: str) -> None:
        thread = self._runner(safe_job(job, on_crash=self._crashed), name=name)
        if thread is not None:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def join(self, timeout: float) -> bool:
        """Wait for background jobs (tests and scripts); True when all finished within ``timeout``."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)

    def _crashed(self, error: BaseException) -> None:
        with self.publisher.batch(self.crash):
            self._busy = False
            self.crash.value = alert(kind="danger", title="Something went wrong", body=_describe(error))
