"""`NimDeployments`: the project's NIM deployments as a table, with Edit, Stop/Start, Delete and Access.

Deployments made by nim-widget and by the OpenShift AI dashboard are listed alike (the engine's
`list_deployments` recognises both). Rows are a fixed pool of widgets built up front and paged,
because the listing arrives on a worker thread, which may set values but never create widgets.
Every action runs on the worker too and ends with a result line and a fresh listing; the table only
ever shows what the cluster said, escaped.

Used on its own (display it in a cell) or inside `NimWizard` (its "Deployments" page); on its own,
Edit opens a wizard in edit mode below the table, created on the first click.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from nim_widget.cluster.connect import Connection
from nim_widget.cluster.errors import NimWidgetError
from nim_widget.lifecycle.access import ModelAccess, model_access
from nim_widget.lifecycle.control import set_stopped
from nim_widget.lifecycle.delete import DeleteReport, execute_delete, plan_delete
from nim_widget.lifecycle.listing import DeploymentSummary, format_age, list_deployments
from nim_widget.lifecycle.stages import STAGE_TITLES, Stage
from nim_widget.ui.access import AccessPanel, enable_and_read
from nim_widget.ui.deletion import DeletePanel
from nim_widget.ui.display import RootView, close_tree
from nim_widget.ui.form import show
from nim_widget.ui.header import Header
from nim_widget.ui.html import alert, esc, help_text
from nim_widget.ui.readiness import PILL_OF_STAGE
from nim_widget.ui.styles import ROOT_CLASS, style_widget
from nim_widget.ui.worker import Runner, UiPublisher, safe_job, thread_runner

if TYPE_CHECKING:
    from nim_widget.ui.wizard import NimWizard

PAGE_SIZE = 10
TITLE = "NVIDIA NIM model deployments"
SUBTITLE = "Deployments in this project, whether made here or in the OpenShift AI dashboard."
MADE_BY_TEXT = {"nim-widget": "made with nim-widget", "dashboard": "made in the dashboard", "other": ""}
COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("model", "Model"),
    ("state", "State"),
    ("urls", "URLs"),
    ("replicas", "Replicas"),
    ("hwp", "Hardware profile"),
    ("storage", "Storage"),
    ("age", "Age"),
)


def _describe(error: BaseException) -> str:
    return str(error) if isinstance(error, NimWidgetError) else f"{type(error).__name__}: {error}"


def header_html() -> str:
    cells = "".join(f'<div class="nimw-dep-cell nimw-dep-{key}">{esc(label)}</div>' for key, label in COLUMNS)
    return f'<div class="nimw-dep-cells nimw-dep-header">{cells}</div>'


def row_html(row: DeploymentSummary) -> str:
    """One deployment's cells; every value came from the cluster, so every value is escaped."""
    state = row.state
    pill = PILL_OF_STAGE.get(state.stage, "pending")
    made = MADE_BY_TEXT.get(row.made_by, "")
    internal = row.internal_url if row.internal_url != row.url else None
    urls = "".join(
        f'<div class="{cls}">{esc(url)}</div>'
        for url, cls in ((row.url, "nimw-dep-url"), (internal, "nimw-help nimw-dep-internal-url"))
        if url
    )
    cells = {
        "name": f'<div class="nimw-dep-display">{esc(row.display_name)}</div>'
        + help_text(f"{row.name}" + (f" · {made}" if made else "")),
        "model": f"<div>{esc(row.model)}</div>" + (help_text(row.tag) if row.tag else ""),
        "state": f'<span class="nimw-pill nimw-pill-{pill}" title="{esc(state.message)}">'
        f"{esc(STAGE_TITLES[state.stage])}</span>"
        + (help_text(state.message) if state.stage is not Stage.READY else ""),
        "urls": urls or help_text("none yet"),
        "replicas": esc(row.replicas_text),
        "hwp": esc(row.hardware_profile or "—"),
        "storage": esc(row.storage_text or "—"),
        "age": esc(format_age(row.age_seconds)),
    }
    body = "".join(f'<div class="nimw-dep-cell nimw-dep-{key}">{cells[key]}</div>' for key, _ in COLUMNS)
    return (
        f'<div class="nimw-dep-cells" data-name="{esc(row.name)}" data-state="{esc(state.stage.value)}" '
        f'data-made-by="{esc(row.made_by)}">{body}</div>'
    )


class RowSlot:
    """One table row: the cells and the four actions; bound to a deployment or hidden."""

    def __init__(self, index: int) -> None:
        self.summary: DeploymentSummary | None = None
        self.cells = widgets.HTML(value="", layout=widgets.Layout(flex="1 1 auto", min_width="0"))
        self.edit = widgets.Button(description="Edit", icon="pencil")
        self.toggle = widgets.Button(description="Stop", icon="stop")
        self.delete = widgets.Button(description="Delete", icon="trash")
        self.access = widgets.Button(description="Access", icon="key")
        for button, cls in (
            (self.edit, "nimw-dep-edit"),
            (self.toggle, "nimw-dep-toggle"),
            (self.delete, "nimw-dep-delete"),
            (self.access, "nimw-dep-access"),
        ):
            button.add_class(cls)
            button.layout = widgets.Layout(width="auto")
        self.actions = widgets.HBox([self.edit, self.toggle, self.delete, self.access])
        self.actions.add_class("nimw-dep-actions")
        self.box = widgets.HBox([self.cells, self.actions])
        self.box.add_class("nimw-dep-row")
        self.box.add_class(f"nimw-dep-row-{index}")
        show(self.box, False)

    @property
    def buttons(self) -> tuple[widgets.Button, ...]:
        return (self.edit, self.toggle, self.delete, self.access)

    def bind(self, summary: DeploymentSummary | None) -> None:
        self.summary = summary
        if summary is None:
            self.cells.value = ""
            show(self.box, False)
            return
        self.cells.value = row_html(summary)
        self.toggle.description = "Start" if summary.stopped else "Stop"
        self.toggle.icon = "play" if summary.stopped else "stop"
        self.toggle.tooltip = (
            "Start the model server again" if summary.stopped else "Scale the model server to zero"
        )
        show(self.box, True)


class NimDeployments(RootView):
    """The NIM deployments of a project, with refresh and row actions.

    ``connection``/``kubeconfig``/``context``/``demo`` as for `NimWizard`; ``on_edit(name)`` is what
    Edit does (the wizard passes its own edit mode; on its own the view opens a wizard below the
    table). ``runner`` runs the cluster work (tests pass an inline one); ``clock`` gives "now" for ages.
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
        clock: Callable[[], datetime] | None = None,
        on_edit: Callable[[str], None] | None = None,
        on_new: Callable[[], None] | None = None,
        publisher: UiPublisher | None = None,
        embedded: bool = False,
        page_size: int = PAGE_SIZE,
        follow_runner: Runner | None = None,
        ready_timeout: float | None = None,
        load: bool = True,
    ) -> None:
        if embedded and on_edit is None:
            raise ValueError("an embedded deployments view needs on_edit: its host does the editing")
        self._connect(
            connection=connection, kubeconfig=kubeconfig, context=context, project=project, demo=demo
        )
        self._runner: Runner = runner or thread_runner
        self._follow_runner = follow_runner
        self._ready_timeout = ready_timeout
        self._now = clock or (lambda: datetime.now(UTC))
        self._on_edit = on_edit
        self._on_new = on_new
        self.publisher = publisher or UiPublisher()
        self._page_size = page_size
        self._generation = 0
        self._busy = False
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()
        self._editor: NimWizard | None = None
        self.rows: list[DeploymentSummary] = []
        self.page = 0
        self.last_error: BaseException | None = None
        self.last_report: DeleteReport | None = None

        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.add_class("nimw-dep-refresh")
        self.new_button = widgets.Button(description="Deploy a model", icon="plus", button_style="primary")
        self.new_button.add_class("nimw-dep-new")
        show(self.new_button, on_new is not None)
        self.status = widgets.HTML(value="")
        self.status.add_class("nimw-dep-status")
        spacer = widgets.HTML(value="")  # as wide as a row's actions, so the columns line up
        spacer.add_class("nimw-dep-actions-spacer")
        self.header = widgets.HBox(
            [widgets.HTML(value=header_html(), layout=widgets.Layout(flex="1 1 auto")), spacer]
        )
        self.header.add_class("nimw-dep-header-row")
        self.slots = tuple(RowSlot(i) for i in range(page_size))
        self.empty = widgets.HTML(value="")
        self.empty.add_class("nimw-dep-empty")
        self.prev_page = widgets.Button(description="Previous", icon="chevron-left")
        self.prev_page.add_class("nimw-dep-prev")
        self.next_page = widgets.Button(description="Next", icon="chevron-right")
        self.next_page.add_class("nimw-dep-next")
        self.page_label = widgets.HTML(value="")
        self.page_label.add_class("nimw-dep-page")
        self.pager = widgets.HBox([self.prev_page, self.page_label, self.next_page])
        self.pager.add_class("nimw-dep-pager")
        self.result = widgets.HTML(value="")
        self.result.add_class("nimw-dep-result")
        self.panel_title = widgets.HTML(value="")
        self.panel_title.add_class("nimw-dep-panel-title")
        self.delete_panel = DeletePanel(publisher=self.publisher)
        self.access_panel = AccessPanel(publisher=self.publisher)
        self.table = widgets.VBox([self.header, *(slot.box for slot in self.slots), self.empty, self.pager])
        self.table.add_class("nimw-dep-table")
        self.box = widgets.VBox(
            [
                widgets.HBox([self.refresh_button, self.new_button, self.status]),
                self.table,
                self.result,
                self.panel_title,
                self.delete_panel.box,
                self.access_panel.box,
            ]
        )
        self.box.add_class("nimw-deployments")
        self.editor_box = widgets.VBox([])
        self.editor_box.add_class("nimw-dep-editor")
        if embedded:
            self.header_view: Header | None = None
            self.widget: widgets.Box = self.box
        else:
            self.header_view = Header(
                cluster=self.connection.describe(),
                demo=self.demo,
                demo_reason=self.demo_reason,
                title=TITLE,
                subtitle=SUBTITLE,
                show_account=False,
            )
            self.header_view.set_project(self.project)
            self.pages = widgets.Stack(children=[self.box, self.editor_box], selected_index=0)
            self.widget = widgets.VBox([style_widget(), self.header_view.box, self.pages])
            self.widget.add_class(ROOT_CLASS)
            self.widget.add_class("nimw-wide")
        self._wire()
        self._render_page()
        if load:
            self.refresh()

    # -- display -----------------------------------------------------------------------------------

    def close(self) -> None:
        if self._editor is not None:
            self._editor.close()
        close_tree(self.widget)
        if self._owns_connection:
            self.connection.close()

    # -- wiring ------------------------------------------------------------------------------------

    def _wire(self) -> None:
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.new_button.on_click(lambda _b: self._on_new() if self._on_new is not None else None)
        self.prev_page.on_click(lambda _b: self.go_to_page(self.page - 1))
        self.next_page.on_click(lambda _b: self.go_to_page(self.page + 1))
        for slot in self.slots:
            slot.edit.on_click(lambda _b, s=slot: self._row_action(s, self.edit))
            slot.toggle.on_click(lambda _b, s=slot: self._row_action(s, self.toggle))
            slot.delete.on_click(lambda _b, s=slot: self._row_action(s, self.ask_delete))
            slot.access.on_click(lambda _b, s=slot: self._row_action(s, self.show_access))
        self.delete_panel.on_confirm(self._confirmed_delete)
        self.delete_panel.on_cancel(self._close_panels)
        self.access_panel.on_enable(self._enable_access)

    def _row_action(self, slot: RowSlot, action: Callable[[str], None]) -> None:
        if slot.summary is not None and not self._busy:
            action(slot.summary.name)

    def row(self, name: str) -> DeploymentSummary | None:
        return next((r for r in self.rows if r.name == name), None)

    def slot_for(self, name: str) -> RowSlot | None:
        """The visible row of ``name`` (moving to its page), for scripts and tests."""
        for index, row in enumerate(self.rows):
            if row.name == name:
                self.go_to_page(index // self._page_size)
                return self.slots[index % self._page_size]
        return None

    # -- listing -----------------------------------------------------------------------------------

    def set_project(self, project: str) -> None:
        if project != self.project:
            self.project = project
            if self.header_view is not None:
                self.header_view.set_project(project)
            self._close_panels()
            self.result.value = ""
            self.refresh()

    def refresh(self) -> None:
        """List the project's deployments again (on a worker)."""
        self._generation += 1
        generation, project = self._generation, self.project
        self.status.value = help_text("Loading deployments…")
        self.refresh_button.disabled = True

        def job() -> None:
            try:
                rows = list_deployments(api=self.api, namespace=project, now=self._now().timestamp())
            except Exception as exc:  # shown with the Refresh button to try again
                with self.publisher.batch(self.status, self.refresh_button):
                    if generation == self._generation:
                        self.last_error = exc
                        self.status.value = alert(
                            kind="danger", title="Could not list the deployments", body=_describe(exc)
                        )
                        self.refresh_button.disabled = False
                return
            with self.publisher.batch(self.status, self.refresh_button, self.table):
                if generation == self._generation:
                    self.last_error = None
                    self.rows = rows
                    self.status.value = help_text(
                        f"{len(rows)} deployment{'s' * (len(rows) != 1)} in project {project}."
                    )
                    self.refresh_button.disabled = False
                    self._render_page()

        self._start(job, name=f"nim-deployments-list-{project}")

    def go_to_page(self, page: int) -> None:
        pages = max(1, -(-len(self.rows) // self._page_size))
        self.page = min(max(0, page), pages - 1)
        self._render_page()

    def _render_page(self) -> None:
        pages = max(1, -(-len(self.rows) // self._page_size))
        self.page = min(self.page, pages - 1)
        start = self.page * self._page_size
        shown = self.rows[start : start + self._page_size]
        for slot, summary in zip(self.slots, [*shown, *[None] * self._page_size], strict=False):
            slot.bind(summary)
        empty = f"No NVIDIA NIM model deployments in project {self.project} yet."
        self.empty.value = help_text(empty) if not self.rows else ""
        show(self.header, bool(self.rows))
        show(self.pager, pages > 1)
        self.page_label.value = help_text(
            f"{start + 1}–{start + len(shown)} of {len(self.rows)}" if shown else ""
        )
        self.prev_page.disabled = self.page == 0
        self.next_page.disabled = self.page >= pages - 1
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        for slot in self.slots:
            for button in slot.buttons:
                button.disabled = self._busy

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._sync_buttons()
        self.refresh_button.disabled = busy

    # -- actions -----------------------------------------------------------------------------------

    def _close_panels(self) -> None:
        self.panel_title.value = ""
        self.delete_panel.close()
        self.access_panel.clear()

    def _run_action(self, job: Callable[[], None], *, name: str) -> None:
        """Run ``job`` on the worker with the row buttons disabled; refresh the table afterwards."""
        self._set_busy(True)

        def wrapped() -> None:
            try:
                job()
            finally:
                with self.publisher.batch(self.table, self.refresh_button):
                    self._set_busy(False)
            self.refresh()

        self._start(wrapped, name=name)

    def edit(self, name: str) -> None:
        """Open the wizard in edit mode on ``name``."""
        self._close_panels()
        if self._on_edit is not None:
            self._on_edit(name)
            return
        self.editor().edit(name)
        self.pages.selected_index = 1

    def editor(self) -> NimWizard:
        """The wizard that edits for a stand-alone view, made on first use (in a callback)."""
        if self._editor is None:
            from nim_widget.ui.wizard import NimWizard

            kwargs: dict[str, Any] = {}
            if self._ready_timeout is not None:
                kwargs["ready_timeout"] = self._ready_timeout
            self._editor = NimWizard(
                connection=self.connection,
                project=self.project,
                demo=self.demo,
                runner=self._runner,
                follow_runner=self._follow_runner,
                clock=self._now,
                deployments=self,
                **kwargs,
            )
            self.editor_box.children = (self._editor.widget,)
        return self._editor

    def show_list(self) -> None:
        """Back to the table (from the stand-alone editor), read again."""
        if self.header_view is not None:
            self.pages.selected_index = 0
        self.refresh()

    def toggle(self, name: str) -> None:
        """Stop a running deployment, start a stopped one: no confirmation, a clear result line."""
        row = self.row(name)
        if row is None:
            return
        stopping = not row.stopped
        self._close_panels()
        self.result.value = help_text(f"{'Stopping' if stopping else 'Starting'} {name}…")

        def job() -> None:
            try:
                result = set_stopped(api=self.api, namespace=self.project, name=name, stopped=stopping)
            except Exception as exc:  # the engine says which action failed, on which object
                message = alert(kind="danger", title=getattr(exc, "title", "Failed"), body=_describe(exc))
            else:
                message = alert(kind="success", title=result.message)
            with self.publisher.batch(self.result):
                self.result.value = f'<div class="nimw-dep-result-line">{message}</div>'

        self._run_action(job, name=f"nim-{'stop' if stopping else 'start'}-{name}")

    def ask_delete(self, name: str) -> None:
        """Read what deleting would remove and keep, then ask for the typed name."""
        self._close_panels()
        self.result.value = help_text(f"Reading what deleting {name} would remove…")

        def job() -> None:
            try:
                keep = plan_delete(api=self.api, namespace=self.project, name=name, delete_storage=False)
                drop = plan_delete(api=self.api, namespace=self.project, name=name, delete_storage=True)
            except Exception as exc:  # e.g. deleted meanwhile: the refresh shows it
                with self.publisher.batch(self.result):
                    self.result.value = alert(
                        kind="danger", title="Cannot prepare the deletion", body=_describe(exc)
                    )
                return
            with self.publisher.batch(self.result, self.panel_title):
                self.result.value = ""
                self.delete_panel.open(keep=keep, drop=drop)

        self._start(job, name=f"nim-delete-plan-{name}")

    def _confirmed_delete(self) -> None:
        name, delete_storage = self.delete_panel.name, self.delete_panel.delete_storage
        if not name or self._busy:
            return
        self.delete_panel.busy(True)

        def job() -> None:
            try:
                plan = plan_delete(
                    api=self.api, namespace=self.project, name=name, delete_storage=delete_storage
                )
                report = execute_delete(api=self.api, plan=plan)
            except Exception as exc:  # a refused dry run deletes nothing: say so, keep the form
                with self.publisher.batch(self.result):
                    self.delete_panel.busy(False)
                    self.delete_panel.show_error(
                        title=getattr(exc, "title", "Delete failed"),
                        detail=_describe(exc) + " Nothing was deleted.",
                    )
                return
            with self.publisher.batch(self.result):
                self.delete_panel.busy(False)
                self.delete_panel.show_report(report)
                self.last_report = report

        self._run_action(job, name=f"nim-delete-{name}")

    def show_access(self, name: str) -> None:
        """The deployment's endpoints, token (masked) and curl; enabling access is a separate click."""
        self._close_panels()
        self.result.value = help_text(f"Reading how to call {name}…")

        def job() -> None:
            self._publish_access(
                name, lambda: (model_access(api=self.api, namespace=self.project, name=name), "")
            )

        self._start(job, name=f"nim-access-{name}")

    def _enable_access(self) -> None:
        access = self.access_panel.access
        if access is None or self._busy:
            return
        name = access.name
        self.access_panel.enable.disabled = True

        def job() -> None:
            self._publish_access(
                name, lambda: enable_and_read(api=self.api, namespace=self.project, name=name)
            )

        self._run_action(job, name=f"nim-access-enable-{name}")

    def _publish_access(self, name: str, read: Callable[[], tuple[ModelAccess, str]]) -> None:
        try:
            access, note = read()
        except Exception as exc:  # Forbidden carries the dashboard's "only administrators" sentence
            with self.publisher.batch(self.result):
                self.result.value = alert(
                    kind="danger", title=getattr(exc, "title", "Model access failed"), body=_describe(exc)
                )
                self.access_panel.enable.disabled = False
            return
        with self.publisher.batch(self.result, self.panel_title):
            self.result.value = ""
            row = self.row(name)
            self.panel_title.value = (
                f'<div class="nimw-section-title">Access to {esc(row.display_name if row else name)}</div>'
            )
            self.access_panel.render(access, note=note)

    # -- threads -----------------------------------------------------------------------------------

    def _start(self, job: Callable[[], None], *, name: str) -> None:
        thread = self._runner(safe_job(job, on_crash=self._crashed), name=name)
        if thread is not None:
            with self._threads_lock:  # actions start their refresh from the worker
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def join(self, timeout: float) -> bool:
        """Wait for background jobs (tests and scripts); True when all finished within ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:  # a finishing action starts a refresh: wait for that one too
            with self._threads_lock:
                alive = [t for t in self._threads if t.is_alive()]
            if not alive or time.monotonic() >= deadline:
                break
            alive[0].join(max(0.0, deadline - time.monotonic()))
        return not alive

    def _crashed(self, error: BaseException) -> None:
        with self.publisher.batch(self.result):
            self._set_busy(False)
            self.result.value = alert(kind="danger", title="Something went wrong", body=_describe(error))
