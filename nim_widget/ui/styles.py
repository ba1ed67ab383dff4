"""The wizard's stylesheet: one ``<style>`` block per wizard, every rule scoped under ``.nimw-root``.

ipywidgets has no per-widget stylesheet, and a global rule would leak into JupyterLab's own chrome.
Scoping each selector under the root class keeps the rules inert outside the wizard, and the stable
``nimw-*`` class names double as the hooks the browser tests use (see ``nim_widget.ui.__init__``).
"""

from __future__ import annotations

import ipywidgets as widgets

ROOT_CLASS = "nimw-root"

_PRIMARY = "#0066cc"
_DANGER = "#c9190b"
_SUCCESS = "#3e8635"
_WARNING = "#795600"
_MUTED = "#6a6e73"
_BORDER = "#d2d2d2"

# Each rule is written relative to the root; `_scope` prefixes it so no selector can escape.
_RULES: tuple[tuple[str, str], ...] = (
    ("", "font-size: 14px; line-height: 1.45; color: #151515; max-width: 980px; gap: 8px;"),
    (".widget-html-content", "line-height: 1.45;"),
    (
        ".nimw-step-row, .nimw-review-summary, .nimw-outcome, .nimw-rollback, .nimw-review-yaml",
        "width: 100%;",
    ),
    (".nimw-title", "font-size: 20px; font-weight: 600; margin: 4px 0 0 0;"),
    (".nimw-subtitle", f"color: {_MUTED}; margin: 0 0 4px 0;"),
    (
        ".nimw-banner-demo",
        "background: #fdf7e7; border: 1px solid #f0ab00; border-left: 4px solid #f0ab00;"
        " padding: 6px 12px; border-radius: 3px; font-weight: 600;",
    ),
    (".nimw-header", f"border-bottom: 1px solid {_BORDER}; padding-bottom: 6px;"),
    (".nimw-header-grid", "display: flex; flex-wrap: wrap; gap: 6px 24px;"),
    (".nimw-header-item", "display: flex; gap: 6px; align-items: baseline;"),
    (".nimw-header-label", f"color: {_MUTED}; font-size: 12px; text-transform: uppercase;"),
    (".nimw-pill", "border-radius: 12px; padding: 0 8px; font-size: 12px; font-weight: 600;"),
    (".nimw-pill-ready", f"background: #f3faf2; color: {_SUCCESS}; border: 1px solid {_SUCCESS};"),
    (".nimw-pill-pending", "background: #e7f1fa; color: #002952; border: 1px solid #2b9af3;"),
    (".nimw-pill-error", f"background: #faeae8; color: {_DANGER}; border: 1px solid {_DANGER};"),
    (".nimw-pill-missing", f"background: #faeae8; color: {_DANGER}; border: 1px solid {_DANGER};"),
    (".nimw-pill-loading", f"background: #f0f0f0; color: {_MUTED}; border: 1px solid {_BORDER};"),
    (".nimw-stepper", "display: flex; gap: 4px; list-style: none; padding: 0; margin: 6px 0;"),
    (
        ".nimw-stepper li",
        f"flex: 1; padding: 6px 10px; border-bottom: 3px solid {_BORDER}; color: {_MUTED};",
    ),
    (".nimw-stepper li.is-done", f"border-bottom-color: {_SUCCESS}; color: #151515;"),
    (".nimw-stepper li.is-current", f"border-bottom-color: {_PRIMARY}; color: {_PRIMARY}; font-weight: 600;"),
    (".nimw-stepper .nimw-step-num", "display: inline-block; min-width: 1.4em; font-weight: 600;"),
    (".nimw-page", "padding: 4px 0; gap: 6px;"),
    (".nimw-section-title", "font-size: 16px; font-weight: 600; margin: 10px 0 2px 0;"),
    (".nimw-field", "margin: 2px 0 6px 0;"),
    (".nimw-label", "font-weight: 600; margin-bottom: 2px;"),
    (".nimw-required::after", f'content: " *"; color: {_DANGER};'),
    (".nimw-help", f"color: {_MUTED}; font-size: 12px;"),
    (".nimw-field-error", f"color: {_DANGER}; font-size: 12px;"),
    (".nimw-invalid input, .nimw-invalid select, .nimw-invalid textarea", f"border-color: {_DANGER};"),
    (".nimw-alert", "border-radius: 3px; padding: 8px 12px; margin: 4px 0;"),
    (".nimw-alert-title", "font-weight: 600;"),
    (".nimw-alert-info", "background: #e7f1fa; border-left: 4px solid #2b9af3;"),
    (".nimw-alert-warning", "background: #fdf7e7; border-left: 4px solid #f0ab00;"),
    (".nimw-alert-danger", f"background: #faeae8; border-left: 4px solid {_DANGER};"),
    (".nimw-alert-success", f"background: #f3faf2; border-left: 4px solid {_SUCCESS};"),
    (".nimw-alert ul", "margin: 4px 0 0 0; padding-left: 18px;"),
    (".nimw-picker-list select", "font-family: inherit; min-height: 16em;"),
    (".nimw-picker-list, .nimw-picker-search", "max-width: 100%; box-sizing: border-box;"),
    (".nimw-picker-count", f"color: {_MUTED}; font-size: 12px;"),
    (".nimw-model-card", f"border: 1px solid {_BORDER}; border-radius: 3px; padding: 8px 12px;"),
    (".nimw-model-card .nimw-model-name", "font-weight: 600; font-size: 15px;"),
    (".nimw-model-card .nimw-model-org", f"color: {_MUTED}; font-size: 12px;"),
    (".nimw-env-row", "gap: 6px; align-items: flex-start;"),
    (".nimw-summary", "border-collapse: collapse; margin: 0 0 6px 0;"),
    (
        ".nimw-summary th",
        f"color: {_MUTED}; font-weight: normal; text-align: left; vertical-align: top;"
        " white-space: nowrap; padding: 1px 24px 1px 0;",
    ),
    (".nimw-summary td", "padding: 1px 0; word-break: break-word;"),
    (".nimw-yaml", f"max-height: 420px; overflow: auto; border: 1px solid {_BORDER}; border-radius: 3px;"),
    (".nimw-yaml pre", "margin: 0; padding: 8px; font-size: 12px; line-height: 1.35;"),
    (".nimw-actions", "display: flex; gap: 16px; align-items: center; flex-wrap: wrap;"),
    (".nimw-link", f"color: {_PRIMARY}; text-decoration: underline; cursor: pointer;"),
    (".nimw-progress-list", "margin: 4px 0;"),
    (".nimw-step", "display: flex; gap: 8px; padding: 2px 0; align-items: baseline;"),
    (".nimw-step-icon", "flex: 0 0 1.6em; text-align: center; font-weight: 700;"),
    (".nimw-step-title", "flex: 0 0 24em;"),
    (".nimw-step-duration", f"flex: 0 0 5em; color: {_MUTED}; font-size: 12px;"),
    (".nimw-step-detail", f"flex: 1 1 auto; color: {_MUTED}; font-size: 12px; word-break: break-word;"),
    (".nimw-state-pending .nimw-step-icon", f"color: {_MUTED};"),
    (".nimw-state-running .nimw-step-icon", f"color: {_PRIMARY};"),
    (".nimw-state-succeeded .nimw-step-icon", f"color: {_SUCCESS};"),
    (".nimw-state-skipped .nimw-step-icon", f"color: {_MUTED};"),
    (".nimw-state-failed .nimw-step-icon", f"color: {_DANGER};"),
    (".nimw-state-rolled_back .nimw-step-icon", f"color: {_WARNING};"),
    (".nimw-footer", f"border-top: 1px solid {_BORDER}; padding-top: 8px; gap: 8px;"),
    # Navigation between the form and the deployments, and the edit-mode bar.
    ("&.nimw-wide", "max-width: 1320px;"),
    (".nimw-nav", "gap: 4px; margin: 2px 0;"),
    (".nimw-nav button.is-current", f"box-shadow: inset 0 -3px 0 {_PRIMARY}; font-weight: 600;"),
    (".nimw-edit-bar", "gap: 8px; align-items: center;"),
    (".nimw-edit-banner", "flex: 1 1 auto;"),
    # Step 13, "Wait until ready".
    (".nimw-wait-step", "width: 100%;"),
    (".nimw-wait-details", "margin: 2px 0 8px 2.2em; gap: 4px;"),
    (".nimw-wait-message", "margin-top: 2px;"),
    (".nimw-wait-detail", f"color: {_MUTED}; font-size: 12px; word-break: break-word;"),
    (".nimw-wait-elapsed", f"color: {_MUTED}; font-size: 12px; margin-left: 6px;"),
    # Model access: the token and a curl to copy.
    (".nimw-access-token-row", "gap: 8px; align-items: flex-end;"),
    (".nimw-token-value", "font-family: monospace; word-break: break-all;"),
    (
        ".nimw-curl",
        f"background: #f5f5f5; border: 1px solid {_BORDER}; border-radius: 3px; padding: 8px;"
        " margin: 4px 0; font-size: 12px; white-space: pre-wrap; word-break: break-all;",
    ),
    # The exact change of an edit.
    (
        ".nimw-changes",
        f"font-family: monospace; font-size: 12px; white-space: pre-wrap; border: 1px solid {_BORDER};"
        " border-radius: 3px; padding: 6px 8px;",
    ),
    (".nimw-change-update, .nimw-change-create, .nimw-change-restart", "font-weight: 600;"),
    (".nimw-change-unchanged", f"color: {_MUTED};"),
    (".nimw-change-replace", f"color: {_WARNING};"),
    (".nimw-change-add", f"color: {_SUCCESS};"),
    (".nimw-change-remove", f"color: {_DANGER};"),
    # The deployments table: fixed column widths so the header and every row line up.
    (".nimw-dep-table", "width: 100%;"),
    (".nimw-dep-row", f"border-bottom: 1px solid {_BORDER}; padding: 4px 0; align-items: center;"),
    (".nimw-dep-header-row", f"border-bottom: 2px solid {_BORDER}; font-weight: 600; color: {_MUTED};"),
    (".nimw-dep-cells", "display: flex; gap: 8px; font-size: 13px; min-width: 0;"),
    # Proportional columns (grow factors, no basis): header and rows are equally wide, because both
    # reserve the same fixed width for the actions, so their columns line up whatever the page width.
    (".nimw-dep-cell", "overflow-wrap: anywhere; min-width: 0;"),
    (".nimw-dep-name", "flex: 15 1 0;"),
    (".nimw-dep-model", "flex: 13 1 0;"),
    (".nimw-dep-state", "flex: 15 1 0;"),
    (".nimw-dep-urls", "flex: 20 1 0;"),
    (".nimw-dep-replicas", "flex: 7 1 0;"),
    (".nimw-dep-hwp", "flex: 12 1 0;"),
    (".nimw-dep-storage", "flex: 14 1 0;"),
    (".nimw-dep-age", "flex: 5 1 0;"),
    (".nimw-dep-display", "font-weight: 600;"),
    (".nimw-dep-actions, .nimw-dep-actions-spacer", "flex: 0 0 292px; gap: 2px; justify-content: flex-end;"),
    (".nimw-dep-actions button", "padding: 0 6px; margin: 0;"),
    (
        ".nimw-delete, .nimw-access",
        f"border: 1px solid {_BORDER}; border-radius: 3px; padding: 8px 12px; margin: 6px 0; gap: 4px;",
    ),
    (".nimw-delete-name", "font-weight: 600;"),
)


def _scope(selector: str) -> str:
    """Prefix each part with the root class; ``&`` joins a part to the root itself (``&.nimw-wide``)."""
    if not selector:
        return f".{ROOT_CLASS}"
    parts = [part.strip() for part in selector.split(",")]
    return ", ".join(
        f".{ROOT_CLASS}{part[1:]}" if part.startswith("&") else f".{ROOT_CLASS} {part}" for part in parts
    )


def stylesheet() -> str:
    """The CSS text; pure, so tests can check that every selector is scoped."""
    return "\n".join(f"{_scope(selector)} {{ {body} }}" for selector, body in _RULES)


def style_widget() -> widgets.HTML:
    """The ``<style>`` carrier, placed as the first (invisible) child of the wizard root."""
    return widgets.HTML(value=f"<style>{stylesheet()}</style>", layout=widgets.Layout(display="none"))
