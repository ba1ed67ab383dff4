"""Form building blocks shared by the wizard's steps: a labelled field with help and an error slot.

Each field owns exactly one error slot directly under its control, so a validation message always
appears next to what caused it; the message is escaped because it may quote user input.
"""

from __future__ import annotations

import ipywidgets as widgets

from nim_widget.ui.html import esc, field_error, help_text

INVALID_CLASS = "nimw-invalid"


def label_html(text: str, *, required: bool = False) -> widgets.HTML:
    cls = "nimw-label nimw-required" if required else "nimw-label"
    return widgets.HTML(value=f'<div class="{cls}">{esc(text)}</div>')


class Field:
    """A control with its label, optional help text and an inline error message.

    ``lead`` widgets sit between the label and the control (the picker's search box), ``extra`` ones
    beside the control (a unit dropdown).
    """

    def __init__(
        self,
        *,
        label: str,
        control: widgets.Widget,
        css: str,
        required: bool = False,
        help: str | None = None,
        help_above: bool = False,
        extra: tuple[widgets.Widget, ...] = (),
        lead: tuple[widgets.Widget, ...] = (),
    ) -> None:
        self.control = control
        control.add_class(css)
        self.error = widgets.HTML(value="")
        self.help = widgets.HTML(value=help_text(help) if help else "")
        self.label = label_html(label, required=required)
        parts: list[widgets.Widget] = [self.label]
        if help_above:
            parts.append(self.help)
        parts.extend(lead)
        parts.append(widgets.HBox([control, *extra]) if extra else control)
        if not help_above:
            parts.append(self.help)
        parts.append(self.error)
        self.box = widgets.VBox(parts)
        self.box.add_class("nimw-field")
        self.box.add_class(f"{css}-field")
        self._message: str | None = None

    @property
    def message(self) -> str | None:
        return self._message

    def set_error(self, message: str | None) -> None:
        """Show (or clear) the message; only touches widgets when something changed."""
        if message == self._message:
            return
        self._message = message
        self.error.value = field_error(message)
        if message:
            self.control.add_class(INVALID_CLASS)
        else:
            self.control.remove_class(INVALID_CLASS)

    def set_help(self, text: str | None) -> None:
        self.help.value = help_text(text) if text else ""


def section_title(text: str) -> widgets.HTML:
    return widgets.HTML(value=f'<div class="nimw-section-title">{esc(text)}</div>')


def show(widget: widgets.Widget, visible: bool) -> None:
    """Hide through the layout rather than rebuilding children, which re-renders badly in Voila."""
    display = None if visible else "none"
    if widget.layout.display != display:
        widget.layout.display = display
