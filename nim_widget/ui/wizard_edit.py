"""The wizard's edit mode: a live deployment read back into the form, locked like the dashboard's edit.

An edit must not surprise. So the form starts from what is deployed (the engine's `EditSession`,
whoever deployed it), the resource name, the model and the storage are locked (the storage may
only grow), every rule the engine applies to an edit is checked as the person types (a smaller PVC
is refused with the engine's own sentence, before any API call), and the review shows the exact
change, object by object, computed from a fresh read, before "Apply changes" sends it through the
orchestrator's update (or, with "Overwrite concurrent changes", its JSON patch) path.

Split out of `wizard` for size; it is a part of one `NimWizard` and works on that wizard's widgets
and jobs (reading the cluster only through its runner, writing widgets only through its publisher).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nim_widget.cluster.discovery import gather
from nim_widget.cluster.errors import Conflict, NimWidgetError
from nim_widget.facts import ClusterFacts
from nim_widget.lifecycle.errors import EditRefused
from nim_widget.lifecycle.extract import ChangePreview, EditSession
from nim_widget.request import DeploymentRequest, dump_spec
from nim_widget.ui.html import alert
from nim_widget.ui.review import summary_sections
from nim_widget.ui.validation import FormCheck

if TYPE_CHECKING:
    from nim_widget.ui.wizard import NimWizard

PAGE_REVIEW = 3
# Every field of the request: an edit shows each one's message at once (nothing is "untouched").
ALL_FIELDS: tuple[str, ...] = (
    "model",
    "tag",
    "displayName",
    "name",
    "description",
    "storage",
    "hardwareProfile",
    "resources",
    "replicas",
    "env",
)
TEXT_CONFLICT_IN_EDIT = (
    "Someone changed this deployment after the wizard read it, so nothing was overwritten. Go back to "
    'the review: the change is computed again from the latest version; tick "Overwrite concurrent '
    'changes" to replace their changes instead.'
)
TEXT_FIXED = "The resource name, the model and the model cache storage are fixed; the storage can grow."


def describe(error: BaseException) -> str:
    if isinstance(error, NimWidgetError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class WizardEdit:
    """Edit mode of one wizard: the session, the last previewed change, and the steps between."""

    def __init__(self, wizard: NimWizard) -> None:
        self._wizard = wizard
        self.session: EditSession | None = None
        self.preview: ChangePreview | None = None
        self._preview_generation = 0

    @property
    def active(self) -> bool:
        return self.session is not None

    @property
    def nothing_to_apply(self) -> bool:
        return self.session is not None and (self.preview is None or self.preview.empty)

    def clear(self) -> None:
        """Leave edit mode (the form itself is reset by the wizard)."""
        w = self._wizard
        self.session = None
        self.preview = None
        w.edit_banner.value = ""
        w.review.set_edit_mode(False)
        w.picker.set_locked(False)

    # -- opening -----------------------------------------------------------------------------------

    def open(self, name: str) -> None:
        """Read deployment ``name`` and the project on the worker, then prefill and lock the form."""
        w = self._wizard
        if w._busy:
            if w.deployments_view is not None:
                w.deployments_view.result.value = alert(
                    kind="warning", title="The wizard is busy: wait for it to finish, then edit."
                )
            return
        w.readiness.cancel()
        w._clear_form()
        w._busy = True
        w._generation += 1
        generation, project = w._generation, w.project
        w.facts = None
        w.picker.set_loading()
        w.header.set_account(None, loading=True)
        w.edit_banner.value = alert(kind="info", title=f"Reading the deployment {name}…")
        w._go(1)

        def job() -> None:
            try:
                session = EditSession.open(api=w.api, namespace=project, name=name, clock=w.lifecycle_clock)
                kwargs: dict[str, Any] = {"api": w.api, "project": project, "now": w._now()}
                if w._dashboard_namespaces is not None:
                    kwargs["dashboard_namespaces"] = w._dashboard_namespaces
                facts = gather(**kwargs)
            except Exception as exc:  # not found, not expressible as a request, unreadable
                with w.publisher.batch(w.widget):
                    if generation == w._generation:
                        w._busy = False
                        w.edit_banner.value = alert(
                            kind="danger",
                            title=getattr(exc, "title", "Cannot edit this deployment"),
                            body=describe(exc),
                        )
                        w._update_footer()
                return
            projects = w._list_projects(project)
            with w.publisher.batch(w.widget):
                if generation != w._generation:
                    return
                w._apply_facts(facts, projects)
                self._enter(session, facts)
                w._busy = False
                w._go(1)

        w._start(job, name=f"nim-edit-{name}")

    def _enter(self, session: EditSession, facts: ClusterFacts) -> None:
        w = self._wizard
        original = session.original
        self.session = session
        w._applying = True
        problems: list[str] = []
        try:
            try:
                w.picker.choose(key=original.model, tag=original.tag)
            except KeyError:
                problems.append(f'The model "{original.model}" is not in the NIM catalog of this project.')
            w.picker.set_locked(True)
            profile = facts.find_hardware_profile(original.hardware_profile or "")
            w.deployment.prefill(original, extra_profiles=[profile] if profile is not None else [])
            storage = original.storage
            pvc = storage.pvc_name or original.pvc_resource_name
            w.storage.set_edit(pvc_name=pvc, sub_path=storage.sub_path, size=storage.size)
            w.env.set_pending([{"name": e.name, "value": e.value} for e in original.env])
            w.review.set_edit_mode(True)
        finally:
            w._applying = False
        w._touched.update(ALL_FIELDS)
        where = f"{original.display_name} ({original.name}) in project {original.project}."
        w.edit_banner.value = alert(
            kind="warning" if problems else "info",
            title="Editing a deployment",
            body=" ".join([where, TEXT_FIXED, *problems]),
        )
        w.revalidate()

    # -- checking and previewing -------------------------------------------------------------------

    def check(self, check: FormCheck) -> FormCheck:
        """Add what an edit may not change (the engine's `check_edit`: locked fields, a shrinking PVC)."""
        if self.session is None or check.request is None:
            return check
        try:
            self.session.check(check.request)
        except EditRefused as exc:
            return FormCheck(request=None, errors={**check.errors, **exc.causes})
        return check

    def render_review(self, request: DeploymentRequest, facts: ClusterFacts) -> None:
        """The summary at once; the exact change from a fresh read of the deployment, on the worker."""
        w = self._wizard
        session = self.session
        assert session is not None
        self.preview = None
        w.review.show(
            sections=summary_sections(request=request, facts=facts, storage_rows=w.storage.summary()),
            yaml_text="",
            spec_text=dump_spec(request=request),
            file_stem=request.name,
        )
        w.review.show_changes_loading()
        self._preview_generation += 1
        generation, overwrite = self._preview_generation, bool(w.review.overwrite.value)

        def job() -> None:
            try:
                preview = session.preview(request, overwrite=overwrite)
            except Exception as exc:  # refused or unreadable: the message says which
                with w.publisher.batch(w.review.changes, w.deploy_button):
                    if generation == self._preview_generation:
                        title = getattr(exc, "title", "The change cannot be computed")
                        w.review.show_changes_error(title=title, detail=describe(exc))
                        w._update_footer()
                return
            with w.publisher.batch(w.review.box, w.deploy_button):
                if generation != self._preview_generation or w._current != PAGE_REVIEW:
                    return
                w.plan = preview.plan
                self.preview = preview
                w.review.show(
                    sections=summary_sections(request=request, facts=facts, storage_rows=w.storage.summary()),
                    yaml_text=preview.plan.render_yaml(),
                    spec_text=dump_spec(request=request),
                    file_stem=request.name,
                )
                w.review.show_changes(preview.lines(), empty=preview.empty)
                w._update_footer()

        w._start(job, name=f"nim-edit-preview-{request.name}")

    def overwrite_changed(self) -> None:
        """The overwrite choice changes how the update is sent: compute the change again."""
        w = self._wizard
        if self.session is not None and w._current == PAGE_REVIEW and not w._busy:
            w._render_review()
            w._update_footer()

    @staticmethod
    def advice(error: BaseException) -> str | None:
        """What to do after a failed apply, where it differs from a failed deploy."""
        return TEXT_CONFLICT_IN_EDIT if isinstance(error, Conflict) else None
