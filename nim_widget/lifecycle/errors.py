"""Lifecycle errors: subclasses of the engine's hierarchy, so the CLI and widget treat them alike."""

from __future__ import annotations

from collections.abc import Mapping

from nim_widget.cluster.errors import NimWidgetError, NotFound


class DeploymentNotFound(NotFound):
    """The named deployment is not in the project: the user's input (CLI exit 2), not a refusal."""

    default_title = "Deployment not found"
    bad_input = True

    def __init__(self, *, namespace: str, name: str, what: str = "model deployment") -> None:
        self.namespace = namespace
        self.name = name
        super().__init__(detail=f'No {what} named "{name}" in project {namespace}.')


class ExtractError(NimWidgetError):
    """The deployment cannot be expressed as a nim-widget request (e.g. it has no model cache PVC)."""

    default_title = "Cannot read this deployment back"

    def __init__(self, detail: str, *, causes: Mapping[str, str] | None = None) -> None:
        found = dict(causes or {})
        if found:
            detail = detail + " " + "; ".join(f"{f}: {m}" for f, m in found.items())
        super().__init__(detail=detail, causes=found)


class EditRefused(NimWidgetError):
    """The edit changes something an edit may not change; no API call was made."""

    default_title = "This change is not possible in an edit"
    bad_input = True

    def __init__(self, causes: Mapping[str, str]) -> None:
        found = dict(causes)
        super().__init__(detail="; ".join(f"{f}: {m}" for f, m in found.items()), causes=found)


class ConfirmationRequired(NimWidgetError):
    """A destructive action was not confirmed (no terminal to ask, or the typed name did not match)."""

    default_title = "Not confirmed"
    bad_input = True
