"""Step 4: the choices in a summary, the manifests a deploy would write, and the ways to take them away.

The YAML is `Plan.render_yaml()`, the same text `nim-widget render` prints, so secrets are already
`<redacted>`; the Export spec link carries the CLI spec file, so a deployment prepared here can be
repeated from a terminal or a pipeline. Both links are ``data:`` URIs inside an ``HTML`` widget, which
downloads in JupyterLab, Notebook 7 and Voila alike without a round trip to the kernel.
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets

from nim_widget.facts import ClusterFacts
from nim_widget.request import DeploymentRequest
from nim_widget.ui.form import section_title, show
from nim_widget.ui.highlight import yaml_html
from nim_widget.ui.html import alert, definition_list, download_anchor, esc, help_text, message_list

TEXT_OVERWRITE = "Overwrite concurrent changes"
TEXT_OVERWRITE_HELP = (
    "Without it, the update fails if someone changed the deployment after it was read, and nothing is "
    "overwritten. With it, the change is sent as a JSON patch that replaces their changes."
)
TEXT_NO_CHANGES = "Nothing to apply: the form matches the deployment as it runs now."
TEXT_DRY_RUN_HELP = (
    "Dry run sends every write to the cluster with dryRun=All: the API server validates and admits "
    "the objects without storing anything."
)


class ReviewSection:
    """Summary, manifests, download links and the dry run's outcome."""

    def __init__(self) -> None:
        self.summary = widgets.HTML(value="")
        self.summary.add_class("nimw-review-summary")
        self.problems = widgets.HTML(value="")
        self.problems.add_class("nimw-review-problems")
        self.yaml = widgets.HTML(value="")
        self.yaml.add_class("nimw-review-yaml")
        self.links = widgets.HTML(value="")
        self.links.add_class("nimw-review-links")
        self.dry_run = widgets.Button(description="Dry run", icon="check", tooltip=TEXT_DRY_RUN_HELP)
        self.dry_run.add_class("nimw-dry-run")
        self.dry_run_result = widgets.HTML(value="")
        self.dry_run_result.add_class("nimw-dry-run-result")
        self.changes = widgets.HTML(value="")
        self.changes.add_class("nimw-review-changes")
        self.overwrite = widgets.Checkbox(value=False, description=TEXT_OVERWRITE, indent=False)
        self.overwrite.add_class("nimw-overwrite")
        self.overwrite_help = widgets.HTML(value=help_text(TEXT_OVERWRITE_HELP))
        self.edit_box = widgets.VBox(
            [section_title("Changes"), self.changes, self.overwrite, self.overwrite_help]
        )
        self.edit_box.add_class("nimw-review-edit")
        show(self.edit_box, False)
        self.box = widgets.VBox(
            [
                section_title("Review"),
                self.summary,
                self.problems,
                self.edit_box,
                section_title("Manifests"),
                self.links,
                self.yaml,
                widgets.HBox([self.dry_run]),
                self.dry_run_result,
            ]
        )
        self.box.add_class("nimw-review")
        self.yaml_text = ""
        self.spec_text = ""

    def show(
        self,
        *,
        sections: Sequence[tuple[str, Sequence[tuple[str, str]]]],
        yaml_text: str,
        spec_text: str,
        file_stem: str,
    ) -> None:
        self.summary.value = "".join(
            f'<div class="nimw-review-group"><div class="nimw-label">{esc(title)}</div>'
            f"{definition_list(rows)}</div>"
            for title, rows in sections
        )
        self.problems.value = ""
        self.yaml_text, self.spec_text = yaml_text, spec_text
        self.yaml.value = yaml_html(yaml_text)
        self.links.value = (
            '<div class="nimw-actions">'
            + download_anchor(
                filename=f"{file_stem}.yaml",
                content=yaml_text,
                mime="application/yaml",
                label="Download YAML",
                cls="nimw-link nimw-download-yaml",
            )
            + download_anchor(
                filename=f"{file_stem}-spec.yaml",
                content=spec_text,
                mime="application/yaml",
                label="Export spec",
                cls="nimw-link nimw-export-spec",
            )
            + "</div>"
        )
        self.dry_run_result.value = ""
        self.dry_run.disabled = False
        show(self.links, True)

    def show_problems(self, *, problems: Sequence[str]) -> None:
        """The request cannot be rendered yet (for instance the account is not ready)."""
        self.problems.value = alert(
            kind="danger",
            title="The deployment cannot be prepared",
            extra=message_list(problems, cls="nimw-review-problem-list"),
        )
        self.yaml_text = self.spec_text = ""
        self.yaml.value = ""
        self.links.value = ""
        self.dry_run.disabled = True
        show(self.links, False)

    # -- edit mode ---------------------------------------------------------------------------------

    def set_edit_mode(self, editing: bool) -> None:
        show(self.edit_box, editing)
        self.changes.value = ""
        if not editing:
            self.overwrite.value = False

    def show_changes_loading(self) -> None:
        self.changes.value = help_text("Reading the deployment to compute the exact change…")

    def show_changes(self, lines: Sequence[str], *, empty: bool) -> None:
        """The engine's readable patch (`ChangePreview.lines()`), one escaped line each."""
        if empty:
            self.changes.value = alert(kind="info", title="No changes", body=TEXT_NO_CHANGES)
            return
        self.changes.value = changes_html(lines)

    def show_changes_error(self, *, title: str, detail: str) -> None:
        self.changes.value = alert(kind="danger", title=title, body=detail)


def _line_kind(line: str) -> str:
    stripped = line.lstrip()
    if line.startswith("  "):
        return {"~": "replace", "+": "add", "-": "remove"}.get(stripped[:1], "other")
    return stripped.split(" ", 1)[0] if stripped else "other"


def changes_html(lines: Sequence[str]) -> str:
    """Each line in its own element, classed by what it does, so the change reads at a glance."""
    items = "".join(
        f'<div class="nimw-change-line nimw-change-{esc(_line_kind(line))}">{esc(line)}</div>'
        for line in lines
    )
    return f'<div class="nimw-changes">{items}</div>'


Rows = list[tuple[str, str]]


def summary_sections(
    *, request: DeploymentRequest, facts: ClusterFacts, storage_rows: Rows
) -> list[tuple[str, Rows]]:
    """The review's groups, in the wizard's step order, read from the validated request."""
    model = facts.model(request.model)
    profile = facts.find_hardware_profile(request.hardware_profile) if request.hardware_profile else None
    if profile is not None:
        overrides = request.resources
        effective = profile.resources(requests=overrides.requests, limits=overrides.limits)["requests"]
        hardware = f"{profile.display_name} ({', '.join(f'{k}: {v}' for k, v in effective.items())})"
    elif not request.resources.is_empty:
        resources = request.resources
        halves = [
            f"{kind} {', '.join(f'{k}: {v}' for k, v in values.items())}"
            for kind, values in (("requests", resources.requests), ("limits", resources.limits))
            if values
        ]
        hardware = f"None, custom resources ({'; '.join(halves)})"
    else:
        hardware = "None (cluster defaults)"
    tag = request.tag or (model.default_tag if model else "")
    env = ", ".join(f"{e.name}={e.value}" for e in request.env) or "None"
    return [
        (
            "Model",
            [
                ("NVIDIA NIM", model.display_name if model else request.model),
                ("Image", model.image(tag=tag) if model else tag),
            ],
        ),
        (
            "Model deployment",
            [
                ("Project", request.project),
                ("Model deployment name", request.display_name),
                ("Resource name", request.name),
                ("Description", request.description or "—"),
                ("Hardware profile", hardware),
                ("Replicas", str(request.replicas)),
            ],
        ),
        ("NIM storage", storage_rows),
        ("Advanced settings", [("Environment variables", env)]),
    ]
