"""Escaping helpers for everything that ends up in an ``HTML`` widget.

The ipywidgets ``HTML`` view assigns ``innerHTML`` without sanitising, so any text that came from a
user or from the cluster (names, descriptions, API error messages, annotations) is attacker-controlled
markup until it passes through here. The helpers return strings that are safe to concatenate; callers
never build markup around raw values themselves.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable


def esc(value: object) -> str:
    """Escape any value for element content and double-quoted attributes."""
    return html.escape(str(value), quote=True)


def definition_list(rows: Iterable[tuple[str, object]], *, cls: str = "nimw-summary") -> str:
    """A two-column summary with escaped terms and values (a table: it lays out alike everywhere)."""
    items = "".join(f"<tr><th>{esc(term)}</th><td>{esc(value)}</td></tr>" for term, value in rows)
    return f'<table class="{esc(cls)}"><tbody>{items}</tbody></table>'


def data_uri(*, content: str, mime: str) -> str:
    """A base64 ``data:`` URI; base64 keeps quotes, ``<`` and newlines out of the attribute entirely."""
    payload = base64.b64encode(content.encode("utf-8")).decode("ascii")
    return f"data:{mime};charset=utf-8;base64,{payload}"


def download_anchor(*, filename: str, content: str, mime: str, label: str, cls: str) -> str:
    """An ``<a download>`` link carrying ``content``: a download that needs no kernel round trip.

    The file name comes from user input (the deployment name), so it is escaped as an attribute and
    percent-encoding is not used (the ``download`` attribute takes a plain name).
    """
    uri = data_uri(content=content, mime=mime)
    return (
        f'<a class="{esc(cls)}" href="{esc(uri)}" download="{esc(filename)}" '
        f'target="_blank" rel="noopener">{esc(label)}</a>'
    )


def message_list(messages: Iterable[object], *, cls: str) -> str:
    """A ``<ul>`` of escaped messages, or an empty string when there are none."""
    items = "".join(f"<li>{esc(m)}</li>" for m in messages)
    return f'<ul class="{esc(cls)}">{items}</ul>' if items else ""


def alert(*, kind: str, title: object, body: object = "", extra: str = "") -> str:
    """A dashboard-style alert box; ``kind`` is one of info, warning, danger, success (our constant).

    ``extra`` must already be safe markup (built with this module), e.g. a message list.
    """
    body_html = f'<div class="nimw-alert-body">{esc(body)}</div>' if body else ""
    return (
        f'<div class="nimw-alert nimw-alert-{esc(kind)}" role="alert">'
        f'<div class="nimw-alert-title">{esc(title)}</div>{body_html}{extra}</div>'
    )


def field_error(message: str | None) -> str:
    """The inline message under a field (empty when valid)."""
    return f'<div class="nimw-field-error">{esc(message)}</div>' if message else ""


def help_text(text: str) -> str:
    return f'<div class="nimw-help">{esc(text)}</div>'
