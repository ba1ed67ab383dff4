"""How to call a deployed model: its endpoints, its token (masked until asked) and a curl to copy.

The token is a credential, and widget state ends up in saved notebooks, so it reaches a widget only
after an explicit click on Show, and every render starts masked again: a refresh, a new deployment or
another row's access hide it. The `ModelAccess` itself stays a plain Python attribute (not a trait),
so nothing of it is synchronised to the frontend except the markup built here, all of it escaped.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets

from nim_widget.cluster.api import Api
from nim_widget.lifecycle.access import MASK, ModelAccess, enable_model_access, model_access
from nim_widget.ui.form import show
from nim_widget.ui.html import alert, definition_list, esc, help_text
from nim_widget.ui.worker import UiPublisher

TEXT_ENABLE = "Enable external route and token authentication"
TEXT_ENABLE_HELP = (
    "Makes the model reachable from outside the cluster through a route, and requires a bearer token "
    "for every request (a service account, a role and a token secret, as the dashboard creates them)."
)
TEXT_NOT_ISSUED = (
    "The token is not issued yet: the cluster's token controller fills the token secret shortly after "
    "it is created. Refresh to read it again."
)
TEXT_PRIVATE = "Token authentication is off: anyone who can reach the endpoint can call the model."
TEXT_CURL_MASKED = "Set TOKEN to the token above (Show reveals it), then run:"


def enable_and_read(*, api: Api, namespace: str, name: str) -> tuple[ModelAccess, str]:
    """Enable the route and token authentication (B.7), then read the access back (a worker job).

    Returns the access and a sentence saying what was created; raises the engine's errors (a
    `Forbidden` carries the dashboard's "only administrators" sentence).
    """
    change = enable_model_access(api=api, namespace=namespace, name=name)
    note = "Created " + ", ".join(change.created) + "." if change.created else "Already enabled."
    return model_access(api=api, namespace=namespace, name=name), note


class AccessPanel:
    """Endpoint URLs, the first issued token (masked, with Show/Hide) and a ready-to-run curl."""

    def __init__(self, *, publisher: UiPublisher) -> None:
        self._publisher = publisher
        self._access: ModelAccess | None = None
        self._revealed = False
        self._on_enable: Callable[[], None] | None = None
        self.info = widgets.HTML(value="")
        self.info.add_class("nimw-access-info")
        self.token = widgets.HTML(value="")
        self.token.add_class("nimw-access-token")
        self.show_token = widgets.Button(description="Show", icon="eye", layout=widgets.Layout(width="auto"))
        self.show_token.add_class("nimw-access-show")
        self.curl = widgets.HTML(value="")
        self.curl.add_class("nimw-access-curl")
        self.enable = widgets.Button(
            description=TEXT_ENABLE,
            icon="lock",
            tooltip=TEXT_ENABLE_HELP,
            layout=widgets.Layout(width="auto"),
        )
        self.enable.add_class("nimw-access-enable")
        self.message = widgets.HTML(value="")
        self.message.add_class("nimw-access-message")
        self.token_row = widgets.HBox([self.token, self.show_token])
        self.token_row.add_class("nimw-access-token-row")
        self.box = widgets.VBox([self.info, self.token_row, self.curl, self.enable, self.message])
        self.box.add_class("nimw-access")
        self.show_token.on_click(lambda _b: self.toggle())
        self.enable.on_click(lambda _b: self._enable_clicked())
        self.clear()

    @property
    def access(self) -> ModelAccess | None:
        return self._access

    @property
    def revealed(self) -> bool:
        return self._revealed

    def on_enable(self, callback: Callable[[], None]) -> None:
        """What the Enable button does (the owner runs `enable_model_access` on its worker)."""
        self._on_enable = callback

    def _enable_clicked(self) -> None:
        if self._on_enable is not None and not self.enable.disabled:
            self._on_enable()

    def clear(self) -> None:
        with self._publisher.batch(self.info, self.token, self.curl, self.message):
            self._access, self._revealed = None, False
            self.info.value = self.token.value = self.curl.value = self.message.value = ""
            show(self.box, False)

    def set_message(self, html: str) -> None:
        """A status line under the panel (already safe markup, e.g. from `alert`)."""
        with self._publisher.batch(self.message):
            self.message.value = html
            show(self.box, True)

    def render(self, access: ModelAccess, *, note: str = "") -> None:
        """Show ``access``; always masked, whatever was revealed before (may run on a worker)."""
        with self._publisher.batch(self.info, self.token, self.curl, self.message, self.enable):
            self._access, self._revealed = access, False
            rows = []
            if access.url:
                rows.append(("External endpoint", access.url))
            if access.internal_url:
                rows.append(("Internal endpoint", f"{access.internal_url} (inside the cluster)"))
            if not rows:
                rows.append(("Endpoint", "not assigned yet (the model is not ready)"))
            rows.append(("External route", "yes" if access.external else "no"))
            rows.append(("Token authentication", "required" if access.token_auth else "off"))
            rows.append(("Served model name", access.served_model))
            self.info.value = '<div class="nimw-label">Model access</div>' + definition_list(
                rows, cls="nimw-summary nimw-access-summary"
            )
            self.message.value = help_text(note) if note else ""
            exposed = access.external and access.token_auth
            show(self.enable, not exposed)
            self.enable.disabled = False
            self._render_token()
            show(self.box, True)

    def toggle(self) -> None:
        """Show or hide the token; only an explicit click (this) ever puts it into widget state."""
        if self._access is None or not self._issued():
            return
        with self._publisher.batch(self.token, self.curl, self.show_token):
            self._revealed = not self._revealed
            self._render_token()

    def _issued(self) -> bool:
        return self._access is not None and any(t.issued for t in self._access.tokens)

    def _render_token(self) -> None:
        access = self._access
        assert access is not None
        issued = [t for t in access.tokens if t.issued]
        if access.token_auth and issued:
            token = issued[0]
            shown = token.reveal() if self._revealed else MASK
            revealed = "true" if self._revealed else "false"
            self.token.value = (
                '<div class="nimw-label">Token '
                f'<span class="nimw-help">({esc(token.secret_name)})</span></div>'
                f'<code class="nimw-token-value" data-revealed="{revealed}">{esc(shown)}</code>'
            )
            self.show_token.description = "Hide" if self._revealed else "Show"
            self.show_token.icon = "eye-slash" if self._revealed else "eye"
            show(self.show_token, True)
        elif access.token_auth:
            self.token.value = alert(kind="info", title="Token not issued yet", body=TEXT_NOT_ISSUED)
            show(self.show_token, False)
        else:
            self.token.value = help_text(TEXT_PRIVATE)
            show(self.show_token, False)
        lead = help_text(TEXT_CURL_MASKED) if access.token_auth and issued and not self._revealed else ""
        command = access.curl(reveal=self._revealed)
        self.curl.value = (
            '<div class="nimw-label">Try it (OpenAI-compatible API)</div>'
            f'{lead}<pre class="nimw-curl">{esc(command)}</pre>'
        )
