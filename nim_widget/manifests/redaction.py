"""Keeping secret material out of everything people see.

Two layers. `redact()` replaces the values of Secret `data`/`stringData` with `<redacted>` in a copy:
that is what `Plan.render_yaml()`, the review step and step events show. And the real bodies carry
secret values as `RevealedSecret`, a `str` whose repr/str/format are `<redacted>`, so a manifest that
ends up in an f-string, a log call or an exception by mistake still shows nothing; JSON serialisation
(what the Kubernetes client sends) writes the real text, because it reads the string's characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REDACTED = "<redacted>"
_SECRET_FIELDS = ("data", "stringData")


class RevealedSecret(str):
    """Secret text inside a real manifest body: serialises as itself, prints as `<redacted>`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return REDACTED

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, format_spec: str) -> str:
        return REDACTED


def plain(value: Any) -> Any:
    """A deep copy made of plain dicts, lists and scalars; secret text becomes `<redacted>`."""
    if isinstance(value, RevealedSecret):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str.__str__(value)
    return value


def redact(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A copy safe to show: every Secret's `data`/`stringData` value replaced by `<redacted>`."""
    result: dict[str, Any] = plain(manifest)
    if result.get("kind") == "Secret":
        for key in _SECRET_FIELDS:
            values = result.get(key)
            if isinstance(values, dict):
                result[key] = dict.fromkeys(values, REDACTED)
    return result
