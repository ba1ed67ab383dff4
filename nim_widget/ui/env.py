"""Step 3: additional environment variables for the NIM container, as editable rows.

Rows are plain name/value pairs; the rules (name syntax, duplicates, reserved names) live in the
request model, and the wizard hands each row its own message back, so this module only lays rows out.
Rows are created and removed by button callbacks, never by a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import ipywidgets as widgets

from nim_widget.facts import ClusterFacts
from nim_widget.ui.form import label_html, section_title, show
from nim_widget.ui.html import field_error, help_text

TEXT_TITLE = "Configuration parameters"
TEXT_HELP = (
    "Environment variables passed to the NIM container, for example NIM_MAX_MODEL_LEN. Names start with a "
    "letter or underscore and contain only letters, numbers, and underscores."
)
TEXT_ADD = "Add variable"
TEXT_EMPTY = "No additional environment variables."


class EnvRow:
    """One variable: name, value, remove button, and the row's message."""

    def __init__(self, *, name: str = "", value: str = "") -> None:
        self.name = widgets.Text(value=name, placeholder="NAME", layout=widgets.Layout(width="260px"))
        self.name.add_class("nimw-env-name")
        self.value = widgets.Text(value=value, placeholder="value", layout=widgets.Layout(width="320px"))
        self.value.add_class("nimw-env-value")
        self.remove = widgets.Button(
            description="", icon="trash", tooltip="Remove this variable", layout=widgets.Layout(width="40px")
        )
        self.remove.add_class("nimw-env-remove")
        self.error = widgets.HTML(value="")
        line = widgets.HBox([self.name, self.value, self.remove])
        line.add_class("nimw-env-row")
        self.box = widgets.VBox([line, self.error])
        self._message: str | None = None

    def set_error(self, message: str | None) -> None:
        if message == self._message:
            return
        self._message = message
        self.error.value = field_error(message)
        if message:
            self.name.add_class("nimw-invalid")
        else:
            self.name.remove_class("nimw-invalid")

    @property
    def message(self) -> str | None:
        return self._message

    def close(self) -> None:
        for widget in (self.name, self.value, self.remove, self.error, self.box):
            widget.close()


class EnvEditor:
    """The list of rows with Add; reports every edit through ``on_change``."""

    def __init__(self) -> None:
        self.rows: list[EnvRow] = []
        # Variables read from a deployment on a worker thread, which must not create widgets: they
        # count as rows (values, validation) and become real rows when the page is shown.
        self._pending: list[dict[str, str]] = []
        self._listeners: list[Callable[[], None]] = []
        self.add = widgets.Button(description=TEXT_ADD, icon="plus")
        self.add.add_class("nimw-env-add")
        self.empty = widgets.HTML(value=help_text(TEXT_EMPTY))
        self.predefined = widgets.HTML(value="")
        self.rows_box = widgets.VBox([])
        self.rows_box.add_class("nimw-env-rows")
        self.box = widgets.VBox(
            [
                section_title(TEXT_TITLE),
                label_html("Environment variables"),
                widgets.HTML(value=help_text(TEXT_HELP)),
                self.predefined,
                self.empty,
                self.rows_box,
                self.add,
            ]
        )
        self.box.add_class("nimw-env")
        self.add.on_click(lambda _button: self.add_row())

    def on_change(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def set_predefined(self, names: Sequence[str]) -> None:
        """Names the runtime sets itself (NGC_API_KEY, NIM_CACHE_PATH); shown so nobody adds them twice."""
        if names:
            listed = ", ".join(names)
            self.predefined.value = help_text(f"Set by the NIM runtime: {listed}.")
        else:
            self.predefined.value = ""

    def add_row(self, *, name: str = "", value: str = "") -> EnvRow:
        row = EnvRow(name=name, value=value)
        row.name.observe(self._changed, names="value")
        row.value.observe(self._changed, names="value")
        row.remove.on_click(lambda _button, row=row: self.remove_row(row))
        self.rows.append(row)
        self._sync()
        return row

    def remove_row(self, row: EnvRow) -> None:
        if row in self.rows:
            self.rows.remove(row)
            self._sync()
            row.close()

    def clear(self) -> None:
        self._pending = []
        for row in list(self.rows):
            self.rows.remove(row)
            row.close()
        self._sync()

    def set_pending(self, values: Sequence[Mapping[str, str]]) -> None:
        """Replace every variable with ``values`` without creating widgets (safe on a worker).

        The rows appear on `materialise()`, which the wizard calls when it shows step 3.
        """
        self._pending = [{"name": str(v["name"]), "value": str(v["value"])} for v in values]
        for row in self.rows:
            row.close()
        self.rows = []
        self.rows_box.children = ()
        show(self.empty, not self._pending)
        self._notify()

    def materialise(self) -> None:
        """Turn pending variables into rows (a callback, never a worker: this creates widgets)."""
        pending, self._pending = self._pending, []
        for item in pending:
            self.add_row(name=item["name"], value=item["value"])

    def values(self) -> list[dict[str, str]]:
        """The rows as the request model takes them; rows left completely empty are ignored."""
        return [
            {"name": str(row.name.value).strip(), "value": str(row.value.value)}
            for row in self.rows
            if str(row.name.value).strip() or str(row.value.value)
        ] + [dict(item) for item in self._pending]

    def filled_rows(self) -> list[EnvRow]:
        """The rows behind ``values()``, in the same order (to map messages back)."""
        return [row for row in self.rows if str(row.name.value).strip() or str(row.value.value)]

    def set_errors(self, messages: dict[int, str]) -> None:
        """Messages keyed by position in ``values()``."""
        filled = self.filled_rows()
        for position, row in enumerate(filled):
            row.set_error(messages.get(position))
        for row in self.rows:
            if row not in filled:
                row.set_error(None)

    def _changed(self, change: dict[str, object]) -> None:
        del change
        self._notify()

    def _sync(self) -> None:
        self.rows_box.children = tuple(row.box for row in self.rows)
        show(self.empty, not self.rows and not self._pending)
        self._notify()

    def _notify(self) -> None:
        for callback in self._listeners:
            callback()


def predefined_names(facts: ClusterFacts) -> list[str]:
    """Env names the runtime template sets itself, shown so nobody adds them twice."""
    template = facts.template
    if template is None:
        return []
    names: list[str] = []
    for container in (template.serving_runtime.get("spec") or {}).get("containers") or []:
        for item in container.get("env") or []:
            name = item.get("name") if isinstance(item, Mapping) else None
            if isinstance(name, str) and name not in names:
                names.append(name)
    return names


def row_messages(errors: Mapping[str, str], values: Sequence[Mapping[str, str]]) -> dict[int, str]:
    """Per-row messages: `env[i].name`/`env[i].value` directly; a whole-list duplicate to its rows."""
    messages: dict[int, str] = {}
    for index in range(len(values)):
        for suffix in ("", ".name", ".value"):
            message = errors.get(f"env[{index}]{suffix}")
            if message:
                messages[index] = message
                break
    general = errors.get("env")
    if general:
        seen: set[str] = set()
        attached = False
        for index, item in enumerate(values):
            if item["name"] in seen:
                messages.setdefault(index, general)
                attached = True
            seen.add(item["name"])
        if not attached and values:
            messages.setdefault(0, general)
    return messages
