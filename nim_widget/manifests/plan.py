"""The Plan: what one deployment will write, and what it relies on without writing.

One value serves every consumer: `nim-widget render` prints `render_yaml()`, the review step shows it,
the orchestrator executes `objects` (dry run, then for real) and rolls back by role, and `reused` tells
it what existed before and must never be touched. Manifests in `objects` are the real request bodies
(secret values included, as `RevealedSecret`); everything meant for people goes through `redacted()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import yaml

from nim_widget.manifests.redaction import plain, redact

Role = Literal["runtime", "inference_service", "pvc", "api_key_secret", "pull_secret"]
Operation = Literal["create", "replace", "patch", "reuse"]

ROLE_TITLES: Mapping[str, str] = {
    "runtime": "serving runtime",
    "inference_service": "inference service",
    "pvc": "model cache storage",
    "api_key_secret": "NGC API key secret",
    "pull_secret": "image pull secret",
}


@dataclass(frozen=True)
class PlannedObject:
    """One object of the plan.

    `operation`: `create` (POST), `replace` (PUT of `manifest`, which carries the live
    resourceVersion), `patch` (a JSON patch from `existing` to `manifest`, computed by the API layer),
    `reuse` (exists, not written; `manifest` is then only a reference: apiVersion, kind, name).
    `existing` is the live object for replace/patch, the base for a patch and for restoring on rollback.
    Treat `manifest`/`existing` as read-only; copy before changing.
    """

    kind: str
    api_version: str
    name: str
    namespace: str
    role: Role
    operation: Operation
    manifest: Mapping[str, Any] = field(repr=False)
    existing: Mapping[str, Any] | None = field(default=None, repr=False)
    summary: str = ""

    def redacted_manifest(self) -> dict[str, Any]:
        return redact(self.manifest)

    def redacted(self) -> PlannedObject:
        return replace(
            self,
            manifest=redact(self.manifest),
            existing=None if self.existing is None else redact(self.existing),
        )

    def headline(self) -> str:
        """`create ServingRuntime llama-31-8b: ...`, the comment above it in rendered YAML."""
        text = f"{self.operation} {self.kind} {self.name}"
        return f"{text}: {self.summary}" if self.summary else text


@dataclass(frozen=True)
class Plan:
    """The objects one deployment writes (`objects`, in a stable order: runtime, inference service,
    PVC, secrets) and the existing ones it relies on (`reused`)."""

    project: str
    name: str
    display_name: str
    model: str
    image: str
    tag: str
    update: bool
    objects: tuple[PlannedObject, ...]
    reused: tuple[PlannedObject, ...] = ()

    def object(self, role: Role) -> PlannedObject | None:
        for item in (*self.objects, *self.reused):
            if item.role == role:
                return item
        return None

    def redacted(self) -> Plan:
        """The same plan with every secret value replaced by `<redacted>`, safe to show or log."""
        return replace(
            self,
            objects=tuple(o.redacted() for o in self.objects),
            reused=tuple(o.redacted() for o in self.reused),
        )

    def render_yaml(self) -> str:
        """Multi-document YAML of the objects to write, keys sorted, secrets redacted, each document
        headed by a comment saying what happens to it; reused objects are listed as comments."""
        mode = "update" if self.update else "new deployment"
        lines = [
            f'# nim-widget plan ({mode}): "{self.display_name}" ({self.name}) in project {self.project}',
            f"# image: {self.image}",
        ]
        lines += [f"# {item.headline()}" for item in self.reused]
        parts = ["\n".join(lines) + "\n"]
        for item in self.objects:
            body = yaml.safe_dump(
                plain(item.redacted_manifest()),
                sort_keys=True,
                default_flow_style=False,
                allow_unicode=True,
                width=1000,
            )
            parts.append(f"---\n# {item.headline()}\n{body}")
        return "".join(parts)
