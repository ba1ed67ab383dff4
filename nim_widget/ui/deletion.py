"""Deleting a deployment from the widget: the plan, a typed confirmation, and the report afterwards.

Deleting is the one action here that cannot be undone, so it asks for the resource name to be typed
(as the dashboard does) and shows beforehand, object by object, what goes and what stays and why.
The model cache PVC holds gigabytes of downloaded model, so deleting it is a separate, unticked
choice. The plan and the report come from the engine (`plan_delete`, `execute_delete`); this module
only lays them out, escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets as widgets

from nim_widget.lifecycle.delete import Action, DeleteItem, DeletePlan, DeleteReport, Outcome
from nim_widget.ui.form import show
from nim_widget.ui.html import alert, esc, help_text
from nim_widget.ui.worker import UiPublisher

TEXT_STORAGE = "Also delete the model cache PVC"
TEXT_CONFIRM_PLACEHOLDER = "Type the resource name to confirm"


def storage_help(*, pvc: str, deletable: bool, reason: str) -> str:
    if not deletable:
        return f"The model cache PVC {pvc} is kept: {reason}."
    return (
        f"{pvc} holds the downloaded model: gigabytes that take minutes to download again. Keep it "
        "(the default) to redeploy this model quickly; delete it to free the storage."
    )


def _items_html(items: Sequence[DeleteItem], *, cls: str, report: bool) -> str:
    lines = []
    for item in items:
        state = f" ({esc(item.outcome.value)})" if report and item.outcome is Outcome.ALREADY_GONE else ""
        lines.append(
            f'<li data-kind="{esc(item.kind)}" data-name="{esc(item.name)}">'
            f"<strong>{esc(item.label)}</strong>{state}: {esc(item.reason)}</li>"
        )
    return f'<ul class="{esc(cls)}">{"".join(lines)}</ul>' if lines else ""


def plan_html(plan: DeletePlan) -> str:
    deleting = _items_html(plan.deleting, cls="nimw-delete-deleting", report=False)
    keeping = _items_html(plan.keeping, cls="nimw-delete-keeping", report=False)
    return (
        '<div class="nimw-label">Will be deleted</div>'
        + (deleting or help_text("Nothing."))
        + '<div class="nimw-label">Will be kept</div>'
        + (keeping or help_text("Nothing."))
    )


def report_html(report: DeleteReport) -> str:
    deleted = _items_html(report.deleted, cls="nimw-delete-deleted", report=True)
    kept = _items_html(report.kept, cls="nimw-delete-kept", report=True)
    failed = [i for i in report.items if i.outcome is Outcome.FAILED]
    body = (
        '<div class="nimw-label">Deleted</div>'
        + (deleted or help_text("Nothing."))
        + '<div class="nimw-label">Kept</div>'
        + (kept or help_text("Nothing."))
        + _items_html(failed, cls="nimw-delete-failed", report=True)
    )
    name = report.plan.display_name
    if report.ok:
        head = alert(kind="success", title=f"{name} was deleted")
    else:
        head = alert(kind="danger", title=f"{name} was not deleted completely", body="; ".join(report.errors))
    return f'<div class="nimw-delete-report-body">{head}{body}</div>'


class DeletePanel:
    """The typed confirmation for one deployment; ``open`` it with the engine's two plans."""

    def __init__(self, *, publisher: UiPublisher) -> None:
        self._publisher = publisher
        self._plans: dict[bool, DeletePlan] = {}
        self._on_confirm: Callable[[], None] | None = None
        self._on_cancel: Callable[[], None] | None = None
        self.name = ""
        self.title = widgets.HTML(value="")
        self.title.add_class("nimw-delete-title")
        self.plan = widgets.HTML(value="")
        self.plan.add_class("nimw-delete-plan")
        self.storage = widgets.Checkbox(value=False, description=TEXT_STORAGE, indent=False)
        self.storage.add_class("nimw-delete-storage")
        self.storage_help = widgets.HTML(value="")
        self.storage_help.add_class("nimw-delete-storage-help")
        self.confirm = widgets.Text(
            value="", placeholder=TEXT_CONFIRM_PLACEHOLDER, layout=widgets.Layout(width="320px")
        )
        self.confirm.add_class("nimw-delete-confirm")
        self.confirm_label = widgets.HTML(value="")
        self.message = widgets.HTML(value="")
        self.message.add_class("nimw-delete-message")
        self.delete = widgets.Button(description="Delete", icon="trash", button_style="danger")
        self.delete.add_class("nimw-delete-button")
        self.cancel = widgets.Button(description="Cancel")
        self.cancel.add_class("nimw-delete-cancel")
        self.report = widgets.HTML(value="")
        self.report.add_class("nimw-delete-report")
        self.form = widgets.VBox(
            [
                self.title,
                self.plan,
                self.storage,
                self.storage_help,
                self.confirm_label,
                self.confirm,
                self.message,
                widgets.HBox([self.delete, self.cancel]),
            ]
        )
        self.box = widgets.VBox([self.form, self.report])
        self.box.add_class("nimw-delete")
        self.storage.observe(lambda _c: self._render_plan(), names="value")
        self.confirm.observe(lambda _c: self._sync_button(), names="value")
        self.delete.on_click(lambda _b: self._confirm_clicked())
        self.cancel.on_click(lambda _b: self._cancel_clicked())
        self.close()

    def on_confirm(self, callback: Callable[[], None]) -> None:
        self._on_confirm = callback

    def on_cancel(self, callback: Callable[[], None]) -> None:
        self._on_cancel = callback

    @property
    def delete_storage(self) -> bool:
        return bool(self.storage.value) and self._storage_deletable()

    @property
    def confirmed(self) -> bool:
        return bool(self.name) and str(self.confirm.value).strip() == self.name

    def close(self) -> None:
        """Hide the panel and forget the deployment."""
        with self._publisher.batch(self.title, self.plan, self.report, self.confirm, self.storage):
            self.name = ""
            self._plans = {}
            self.title.value = self.plan.value = self.report.value = self.message.value = ""
            self.confirm.value = ""
            self.storage.value = False
            show(self.box, False)

    def open(self, *, keep: DeletePlan, drop: DeletePlan) -> None:
        """``keep``: the plan keeping the model cache; ``drop``: the plan asked to delete it."""
        with self._publisher.batch(
            self.title, self.plan, self.storage, self.storage_help, self.confirm, self.delete, self.report
        ):
            self.name = keep.name
            self._plans = {False: keep, True: drop}
            self.title.value = (
                f'<div class="nimw-section-title">Delete {esc(keep.display_name)}?</div>'
                + help_text(
                    f"This deletes the model deployment {keep.name} in project {keep.namespace}. "
                    "It cannot be undone."
                )
            )
            pvc_items = [i for i in drop.items if i.kind == "PersistentVolumeClaim"]
            deletable = bool(pvc_items) and pvc_items[0].action is Action.DELETE
            self.storage.value = False
            self.storage.disabled = not deletable
            show(self.storage, bool(pvc_items))
            self.storage_help.value = (
                help_text(
                    storage_help(pvc=pvc_items[0].name, deletable=deletable, reason=pvc_items[0].reason)
                )
                if pvc_items
                else ""
            )
            self.confirm_label.value = (
                f'<div class="nimw-label">Type <code class="nimw-delete-name">{esc(keep.name)}</code> '
                "to confirm</div>"
            )
            self.confirm.value = ""
            self.confirm.disabled = False
            self.message.value = ""
            self.report.value = ""
            self._render_plan()
            show(self.form, True)
            show(self.box, True)
            self._sync_button()

    def chosen_plan(self) -> DeletePlan | None:
        return self._plans.get(self.delete_storage)

    def _render_plan(self) -> None:
        plan = self.chosen_plan()
        self.plan.value = plan_html(plan) if plan is not None else ""

    def _sync_button(self) -> None:
        self.delete.disabled = not self.confirmed
        if self.confirmed:
            self.message.value = ""

    def _confirm_clicked(self) -> None:
        if not self.name:
            return
        if not self.confirmed:
            typed = str(self.confirm.value).strip()
            said = f' (you typed "{typed}").' if typed else "."
            self.message.value = alert(
                kind="danger",
                title="The name does not match",
                body=f'Type "{self.name}" exactly to delete it{said}',
            )
            return
        if self._on_confirm is not None:
            self._on_confirm()

    def _cancel_clicked(self) -> None:
        self.close()
        if self._on_cancel is not None:
            self._on_cancel()

    def busy(self, running: bool) -> None:
        self.delete.disabled = running or not self.confirmed
        self.cancel.disabled = running
        self.confirm.disabled = running
        self.storage.disabled = running or not self._storage_deletable()
        if running:
            self.message.value = alert(kind="info", title="Deleting…")

    def _storage_deletable(self) -> bool:
        drop = self._plans.get(True)
        return drop is not None and any(
            i.kind == "PersistentVolumeClaim" and i.action is Action.DELETE for i in drop.items
        )

    def show_report(self, report: DeleteReport) -> None:
        with self._publisher.batch(self.report, self.message):
            self.message.value = ""
            self.report.value = report_html(report)
            show(self.form, False)
            show(self.box, True)

    def show_error(self, *, title: str, detail: str) -> None:
        with self._publisher.batch(self.message):
            self.message.value = alert(kind="danger", title=title, body=detail)
