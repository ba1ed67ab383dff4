"""The wizard's header: which cluster, which project, and whether NVIDIA NIM is usable there.

A person must never wonder where a deploy will land, so the cluster and project are always on screen,
and the demo cluster carries a banner that cannot be missed: nothing done in demo mode reaches a real
cluster.
"""

from __future__ import annotations

import ipywidgets as widgets

from nim_widget.facts import (
    ACCOUNT_ERROR_TITLE,
    ACCOUNT_NOT_FOUND_TITLE,
    NimAccount,
)
from nim_widget.ui.form import show
from nim_widget.ui.html import esc

TITLE = "Deploy a model with NVIDIA NIM"
EDIT_TITLE = "Edit model with NVIDIA NIM"
SUBTITLE = "Configure properties for deploying your model using an NVIDIA NIM."
DEMO_TITLE = "Demo cluster"
DEMO_TEXT = (
    "This wizard is connected to the built-in demo cluster, a local sandbox running inside nim-widget. "
    "Nothing you deploy here reaches a real cluster."
)

_ACCOUNT_PILLS = {
    "ready": ("ready", "Ready"),
    "pending": ("pending", "Validating key"),
    "error": ("error", ACCOUNT_ERROR_TITLE),
    "not_found": ("missing", ACCOUNT_NOT_FOUND_TITLE),
}


def account_pill(account: NimAccount | None, *, loading: bool = False) -> str:
    if loading:
        kind, text = "loading", "Checking…"
    else:
        kind, text = _ACCOUNT_PILLS["not_found" if account is None else account.state]
    title = "; ".join(account.messages) if account is not None and account.messages else text
    return f'<span class="nimw-pill nimw-pill-{kind}" title="{esc(title)}">{esc(text)}</span>'


def _item(label: str, value_html: str, cls: str) -> str:
    return (
        f'<span class="nimw-header-item {cls}"><span class="nimw-header-label">{esc(label)}</span>'
        f"<span>{value_html}</span></span>"
    )


class Header:
    """Title, demo banner and the cluster / project / NIM account line."""

    def __init__(
        self,
        *,
        cluster: str,
        demo: bool,
        demo_reason: str | None = None,
        title: str = TITLE,
        subtitle: str = SUBTITLE,
        show_account: bool = True,
    ) -> None:
        self._cluster = cluster
        self._show_account = show_account
        self._project = ""
        self._account_html = account_pill(None, loading=True)
        body = esc(DEMO_TEXT) + (
            f" {esc(demo_reason)}" if demo_reason and demo_reason not in DEMO_TEXT else ""
        )
        self.banner = widgets.HTML(value=f"<div><strong>{esc(DEMO_TITLE)}</strong> · {body}</div>")
        self.banner.add_class("nimw-banner-demo")
        show(self.banner, demo)
        self.title = widgets.HTML(value="")
        self.set_title(title=title, subtitle=subtitle)
        self.line = widgets.HTML(value="")
        self.line.add_class("nimw-header")
        self.box = widgets.VBox([self.banner, self.title, self.line])
        self._render()

    def set_title(self, *, title: str, subtitle: str = SUBTITLE) -> None:
        """The page title: the dashboard says "Edit model with NVIDIA NIM" while editing."""
        self.title.value = (
            f'<div class="nimw-title">{esc(title)}</div><div class="nimw-subtitle">{esc(subtitle)}</div>'
        )

    def set_project(self, project: str) -> None:
        self._project = project
        self._render()

    def set_account(self, account: NimAccount | None, *, loading: bool = False) -> None:
        self._account_html = account_pill(account, loading=loading)
        self._render()

    def _render(self) -> None:
        self.line.value = (
            '<div class="nimw-header-grid">'
            + _item("Cluster", esc(self._cluster), "nimw-header-cluster")
            + _item("Project", esc(self._project or "—"), "nimw-header-project")
            + (_item("NVIDIA NIM", self._account_html, "nimw-header-account") if self._show_account else "")
            + "</div>"
        )
