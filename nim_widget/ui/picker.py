"""Step 1: the NVIDIA NIM picker, a type-ahead list over the catalog plus a tag choice.

The list is one ``Select`` whose options are replaced on each keystroke: a single widget update, with
at most ``MAX_ROWS`` rows, so typing stays fast in the kernel and light on the wire whatever the size
of the catalog (the search itself is :class:`~nim_widget.ui.search.CatalogIndex`). The chosen model is
kept apart from the list's selection, so narrowing the search never silently drops the choice.

States and texts follow the dashboard's NIM image field (reference D.2/E.2): loading, no project,
no or invalid NIM API key, validation pending, empty catalog, and a load error with Retry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets as widgets

from nim_widget.facts import (
    ACCOUNT_ERROR_FALLBACK,
    ACCOUNT_ERROR_MESSAGE,
    ACCOUNT_ERROR_TITLE,
    ACCOUNT_NOT_FOUND_MESSAGE,
    ACCOUNT_NOT_FOUND_TITLE,
    ACCOUNT_PENDING_MESSAGES,
    ACCOUNT_TIMEOUT_MESSAGE,
    NimAccount,
    NimModel,
)
from nim_widget.ui.form import Field, show
from nim_widget.ui.html import alert, esc, message_list
from nim_widget.ui.search import CatalogIndex

MAX_ROWS = 100
_DESCRIPTION_CHARS = 90

# Texts from the dashboard (D.1, D.2, E.1, E.2).
TEXT_LOADING = "Loading NVIDIA NIM models…"
TEXT_NO_PROJECT_TITLE = "No project selected"
TEXT_NO_PROJECT = "Select a project to load available NIM images."
TEXT_ASK_ADMIN = "Ask your project administrator to configure NVIDIA NIM."
TEXT_EMPTY = "No NVIDIA NIM models found. Please check the installation."
TEXT_LOAD_ERROR = "There was a problem fetching the NIM models. Please try again later."
TEXT_PENDING_TITLE = "NVIDIA NIM is being set up"
PLACEHOLDER_SEARCH = "Select NVIDIA NIM image"
TEXT_SEARCH_HELP = "Type to filter by name, display name or description."
TEXT_LOCKED = "The model cannot change in an edit; deploy it under a new name instead."


def no_results_text(query: str) -> str:
    return f'No results found for "{query}"'


def row_label(model: NimModel) -> str:
    """One list row: display name, organisation and the start of the description."""
    description = " ".join((model.short_description or "").split())
    if len(description) > _DESCRIPTION_CHARS:
        description = description[: _DESCRIPTION_CHARS - 1].rstrip() + "…"
    head = f"{model.display_name or model.name}  ·  {model.namespace}"
    return f"{head}  —  {description}" if description else head


def tag_options(model: NimModel) -> list[tuple[str, str]]:
    """Tags latest first (the catalog order), the latest one marked."""
    latest = model.latest_tag or (model.tags[0] if model.tags else None)
    return [(f"{tag} (latest)" if tag == latest else tag, tag) for tag in model.tags]


class ModelPicker:
    """The widgets of step 1 and the choice they hold."""

    def __init__(self) -> None:
        self._models: tuple[NimModel, ...] = ()
        self._labels: tuple[str, ...] = ()
        self._index = CatalogIndex(())
        self._chosen: NimModel | None = None
        self._updating = False
        self._listeners: list[Callable[[], None]] = []

        self.state = widgets.HTML(value="")
        self.state.add_class("nimw-picker-state")
        self.retry = widgets.Button(description="Retry", icon="refresh", button_style="")
        self.retry.add_class("nimw-picker-retry")
        self.search = widgets.Text(
            value="",
            placeholder=PLACEHOLDER_SEARCH,
            continuous_update=True,
            layout=widgets.Layout(width="calc(100% - 8px)"),
        )
        self.search.add_class("nimw-picker-search")
        self.count = widgets.HTML(value="")
        self.count.add_class("nimw-picker-count")
        self.list = widgets.Select(options=[], rows=10, layout=widgets.Layout(width="calc(100% - 8px)"))
        self.list.index = None
        self.details = widgets.HTML(value="")
        self.details.add_class("nimw-picker-details")
        self.tag = widgets.Dropdown(options=[], layout=widgets.Layout(width="260px"))
        self.model_field = Field(
            label="NVIDIA NIM",
            control=self.list,
            css="nimw-picker-list",
            required=True,
            help=TEXT_SEARCH_HELP,
            help_above=True,
            lead=(self.search, self.count),
        )
        self.tag_field = Field(label="Tag", control=self.tag, css="nimw-picker-tag", required=True)
        self.chooser = widgets.VBox([self.model_field.box, self.details, self.tag_field.box])
        self.box = widgets.VBox([self.state, self.retry, self.chooser])
        self.box.add_class("nimw-picker")

        self.search.observe(self._on_search, names="value")
        self.list.observe(self._on_list, names="value")
        self.tag.observe(self._on_tag, names="value")
        self.set_loading()

    # -- what the wizard reads ---------------------------------------------------------------------

    @property
    def model(self) -> NimModel | None:
        return self._chosen

    @property
    def model_key(self) -> str | None:
        return self._chosen.key if self._chosen else None

    @property
    def selected_tag(self) -> str | None:
        value = self.tag.value
        return str(value) if value else None

    def on_change(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    # -- states ------------------------------------------------------------------------------------

    def set_loading(self) -> None:
        self.state.value = alert(kind="info", title=TEXT_LOADING)
        show(self.retry, False)
        show(self.chooser, False)

    def set_no_project(self) -> None:
        self.state.value = alert(kind="info", title=TEXT_NO_PROJECT_TITLE, body=TEXT_NO_PROJECT)
        show(self.retry, False)
        show(self.chooser, False)

    def set_error(self, *, detail: str) -> None:
        """The catalog could not be read: the dashboard's sentence, what went wrong, and Retry."""
        self.state.value = alert(kind="danger", title=TEXT_LOAD_ERROR, body=detail)
        show(self.retry, True)
        show(self.chooser, False)

    def set_catalog(self, *, models: Sequence[NimModel], account: NimAccount | None) -> None:
        """Show the catalog (by display name), or the account state that explains why there is none."""
        self._models = tuple(sorted(models, key=lambda m: ((m.display_name or m.name).lower(), m.key)))
        self._labels = tuple(row_label(m) for m in self._models)
        self._index = CatalogIndex(self._models)
        if self._chosen is not None:
            self._chosen = next((m for m in self._models if m.key == self._chosen.key), None)
        notice, retry = _account_notice(account=account, has_models=bool(self._models))
        if not self._models and not notice:
            notice = alert(kind="warning", title=TEXT_EMPTY)
            retry = True
        self.state.value = notice
        show(self.retry, retry)
        show(self.chooser, bool(self._models))
        self._refresh_list()
        self._refresh_choice()

    # -- programmatic use (tests, notebooks) -------------------------------------------------------

    def choose(self, *, key: str, tag: str | None = None) -> None:
        """Pick a model by catalog key (and a tag), as a person would: search for it, click it."""
        if not any(m.key == key for m in self._models):
            raise KeyError(f"no model {key!r} in the catalog")
        if key not in self._visible_keys():
            self.search.value = key
        self.list.value = key
        if tag is not None:
            self.tag.value = tag

    def set_locked(self, locked: bool) -> None:
        """In an edit the model cannot change (as in the dashboard); its tag still can (an upgrade)."""
        self.search.disabled = locked
        self.list.disabled = locked
        self.model_field.set_help(TEXT_LOCKED if locked else TEXT_SEARCH_HELP)

    def clear(self) -> None:
        """Forget the choice and the search (a new deployment starts from an empty step 1)."""
        self._chosen = None
        self.search.value = ""
        self._refresh_list()
        self._refresh_choice()

    def visible_rows(self) -> list[tuple[str, str]]:
        return [(str(label), str(value)) for label, value in self.list.options]

    # -- events ------------------------------------------------------------------------------------

    def _on_search(self, change: dict[str, object]) -> None:
        del change
        self._refresh_list()

    def _on_list(self, change: dict[str, object]) -> None:
        if self._updating or change["new"] is None:
            return
        key = str(change["new"])
        chosen = next((m for m in self._models if m.key == key), None)
        if chosen is not None and chosen != self._chosen:
            self._chosen = chosen
            self._refresh_choice()
            self._notify()

    def _on_tag(self, change: dict[str, object]) -> None:
        if not self._updating:
            self._notify()

    def _notify(self) -> None:
        for callback in self._listeners:
            callback()

    # -- rendering ---------------------------------------------------------------------------------

    def _visible_keys(self) -> set[str]:
        return {str(value) for _, value in self.list.options}

    def _refresh_list(self) -> None:
        query = str(self.search.value)
        result = self._index.search(query)
        shown = result.indices[:MAX_ROWS]
        options = [(self._labels[i], self._models[i].key) for i in shown]
        chosen_key = self._chosen.key if self._chosen else None
        self._updating = True
        try:
            with self.list.hold_sync():
                self.list.options = options
                keys = [key for _, key in options]
                self.list.index = keys.index(chosen_key) if chosen_key in keys else None
        finally:
            self._updating = False
        self.count.value = _count_text(
            query=query, shown=len(shown), total=result.total, catalog=len(self._models)
        )

    def _refresh_choice(self) -> None:
        model = self._chosen
        show(self.tag_field.box, model is not None)
        self._updating = True
        try:
            if model is None:
                self.tag.options = []
                self.tag.value = None
                self.details.value = ""
            else:
                previous = self.tag.value
                options = tag_options(model)
                self.tag.options = options
                tags = [value for _, value in options]
                self.tag.value = previous if previous in tags else (tags[0] if tags else None)
                self.details.value = _model_card(model)
        finally:
            self._updating = False


def _count_text(*, query: str, shown: int, total: int, catalog: int) -> str:
    if catalog == 0:
        return ""
    if total == 0:
        return f'<span class="nimw-no-results">{esc(no_results_text(query))}</span>'
    if shown < total:
        return esc(f"Showing {shown} of {total} matching models; type to narrow the list.")
    if query.strip():
        return esc(f"{total} of {catalog} models match.")
    return esc(f"{catalog} models.")


def _model_card(model: NimModel) -> str:
    tags = ", ".join(model.tags[:6]) + (" …" if len(model.tags) > 6 else "")
    updated = f" · updated {model.updated_date[:10]}" if model.updated_date else ""
    return (
        '<div class="nimw-model-card">'
        f'<div class="nimw-model-name">{esc(model.display_name or model.name)}</div>'
        f'<div class="nimw-model-org">{esc(model.repository)}{esc(updated)}</div>'
        f"<div>{esc(model.short_description)}</div>"
        f'<div class="nimw-help">Tags: {esc(tags)}</div>'
        "</div>"
    )


def _account_notice(*, account: NimAccount | None, has_models: bool) -> tuple[str, bool]:
    """The alert for the account state, and whether Retry makes sense (the state may change)."""
    if account is None or account.state == "not_found":
        if has_models:
            return "", False
        return (
            alert(
                kind="danger",
                title=ACCOUNT_NOT_FOUND_TITLE,
                body=f"{ACCOUNT_NOT_FOUND_MESSAGE} {TEXT_ASK_ADMIN}",
            ),
            True,
        )
    if account.state == "error":
        if has_models:
            return "", False
        messages = account.messages or (ACCOUNT_ERROR_FALLBACK,)
        return (
            alert(
                kind="danger",
                title=ACCOUNT_ERROR_TITLE,
                body=f"{ACCOUNT_ERROR_MESSAGE} {TEXT_ASK_ADMIN}",
                extra=message_list(messages, cls="nimw-account-messages"),
            ),
            True,
        )
    if account.state == "pending":
        body = " ".join(ACCOUNT_PENDING_MESSAGES)
        extra = message_list(
            [m for m in account.messages if m == ACCOUNT_TIMEOUT_MESSAGE], cls="nimw-account-messages"
        )
        return alert(kind="info", title=TEXT_PENDING_TITLE, body=body, extra=extra), True
    return "", False
