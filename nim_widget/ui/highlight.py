"""YAML shown as highlighted HTML, with inline styles.

``noclasses=True`` puts the colours on each span, so no global Pygments stylesheet is needed (it would
leak into JupyterLab's own look); Pygments escapes the text it highlights, which makes this safe for
cluster-provided content.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import YamlLexer

_LEXER = YamlLexer()
_FORMATTER = HtmlFormatter(noclasses=True, nowrap=False, style="friendly")


def yaml_html(text: str) -> str:
    """Highlighted ``text`` wrapped in the scrollable ``nimw-yaml`` container."""
    return f'<div class="nimw-yaml">{highlight(text, _LEXER, _FORMATTER)}</div>'


def dump_yaml(manifest: Mapping[str, Any]) -> str:
    """One manifest as YAML in its natural key order (apiVersion, kind, metadata, spec)."""
    return yaml.safe_dump(dict(manifest), sort_keys=False, default_flow_style=False, allow_unicode=True)
