"""Step 2's "No hardware profile (custom resources)" fields: requests and limits typed by hand.

Clusters without hardware profiles (plain KServe) still need a GPU and enough memory for a NIM, so the
wizard lets a person type the container's requests and limits for CPU, memory and an NVIDIA GPU. An
empty field means "not set", and all six empty means the cluster's defaults. The fields only collect
text; every rule (quantities, request <= limit, a GPU's request equal to its limit) is the request
model's, and its messages come back by spec path (`resources.limits.nvidia.com/gpu`) to the field.
All widgets are built up front: profile lists arrive from the discovery thread, which creates none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ipywidgets as widgets

from nim_widget.ui.form import Field, show
from nim_widget.ui.html import esc, help_text

KINDS = ("requests", "limits")
# (resource, label, placeholder, css slug)
RESOURCES = (
    ("cpu", "CPU", "e.g. 4 or 500m", "cpu"),
    ("memory", "Memory", "e.g. 16Gi", "memory"),
    ("nvidia.com/gpu", "NVIDIA GPU", "e.g. 1", "gpu"),
)
TEXT_CUSTOM_HELP = (
    "Leave a field empty to not set it; leave them all empty to use the cluster's defaults. A limit "
    "must not be below its request, and a GPU's request must equal its limit."
)


def _label(*, resource: str, label: str, kind: str) -> str:
    title = "request" if kind == "requests" else "limit"
    return (
        f'<div class="nimw-label" data-resource="{esc(resource)}" data-kind="{esc(kind)}">'
        f'{esc(label)} {esc(title)} <span class="nimw-help">({esc(resource)})</span></div>'
    )


class CustomResources:
    """Six optional quantity fields; `values()` is the request's `resources` (only what was typed)."""

    def __init__(self, *, on_change: Callable[[], None]) -> None:
        self.fields: dict[tuple[str, str], Field] = {}
        self.texts: dict[tuple[str, str], widgets.Text] = {}
        rows: list[widgets.Widget] = []
        for resource, label, placeholder, slug in RESOURCES:
            row: list[widgets.Widget] = []
            for kind in KINDS:
                text = widgets.Text(value="", placeholder=placeholder, layout=widgets.Layout(width="200px"))
                text.add_class("nimw-custom-resource")
                field = Field(label=label, control=text, css=f"nimw-custom-{kind}-{slug}")
                field.label.value = _label(resource=resource, label=label, kind=kind)
                text.observe(lambda _c: on_change(), names="value")
                self.fields[(kind, resource)] = field
                self.texts[(kind, resource)] = text
                row.append(field.box)
            rows.append(widgets.HBox(row))
        self.help = widgets.HTML(value=help_text(TEXT_CUSTOM_HELP))
        self.box = widgets.VBox([*rows, self.help])
        self.box.add_class("nimw-custom-resources")
        show(self.box, False)

    def text(self, *, kind: str, resource: str) -> widgets.Text:
        return self.texts[(kind, resource)]

    def values(self) -> dict[str, dict[str, str]]:
        """`{"requests": {...}, "limits": {...}}` with the typed fields only; `{}` when none is."""
        result: dict[str, dict[str, str]] = {}
        for (kind, resource), text in self.texts.items():
            typed = str(text.value).strip()
            if typed:
                result.setdefault(kind, {})[resource] = typed
        return result

    def set_visible(self, visible: bool) -> None:
        show(self.box, visible)
        if not visible:
            self.show_errors({})

    def clear(self) -> None:
        for text in self.texts.values():
            text.value = ""
        self.show_errors({})

    def show_errors(self, errors: Mapping[str, str]) -> None:
        for (kind, resource), field in self.fields.items():
            field.set_error(errors.get(f"resources.{kind}.{resource}"))
