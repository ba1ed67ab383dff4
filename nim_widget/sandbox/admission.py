"""What happens to an incoming object before the store accepts it: decoding, pruning, validation.

The same order as the API server: decode-level checks (400), unknown fields per
``fieldValidation`` (400 on create/update, 422 on patch, pruned with a warning by default),
defaulting, then validation of metadata, structure and the kind's own rules (422). These are
pure functions of the object; the store adds what needs its state (existence, versions, events).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import patching, validation
from .kinds import Kind
from .status import Cause, bad_request, go_quote, invalid_error, invalid_raw

try:
    from . import schemas as _schemas
except ModuleNotFoundError as exc:  # schemas.py is optional while the package is assembled
    if exc.name != f"{__package__}.schemas":
        raise
    _schemas = None  # type: ignore[assignment]

Obj = dict[str, Any]
_META_ORDER = (
    "name",
    "generateName",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
)


@dataclass(frozen=True)
class WriteOptions:
    """What an HTTP request adds to a write; internal callers use the defaults."""

    dry_run: bool = False
    field_validation: str | None = None  # None: keep unknown fields (internal callers)
    field_manager: str = ""
    from_http: bool = False  # apply the rules a client is subject to (status stripping, ...)


def decode(kind: Kind, obj: Obj, opts: WriteOptions, *, patch: bool) -> tuple[Obj, list[str]]:
    """Defaults, decode-level (400) checks and unknown-field handling of an incoming object."""
    obj.setdefault("apiVersion", kind.api_version)
    obj.setdefault("kind", kind.kind)
    if not isinstance(obj.get("metadata"), dict):
        obj["metadata"] = {}
    validation.check_decodable(kind, obj)
    warnings: list[str] = []
    directive = opts.field_validation
    if directive is not None and _schemas is not None and _schemas.has_schema(kind_key=kind.key):
        unknown = _schemas.unknown_fields(kind_key=kind.key, obj=obj)
        if unknown:
            messages = [f"unknown field {go_quote(path)}" for path in unknown]
            detail = "strict decoding error: " + ", ".join(messages)
            if directive == "Strict":
                if patch:
                    raise invalid_error(
                        kind="",
                        group="",
                        name="",
                        causes=[invalid_raw("patch", go_quote(patching.compact_json(obj)), detail)],
                    )
                raise bad_request(
                    f"{kind.kind} in version {go_quote(kind.version)} cannot be handled as a "
                    f"{kind.kind}: {detail}"
                )
            obj = _schemas.prune_unknown(kind_key=kind.key, obj=obj)
            if directive == "Warn":
                warnings = messages
    if _schemas is not None and kind.is_custom and hasattr(_schemas, "apply_defaults"):
        obj = _schemas.apply_defaults(kind_key=kind.key, obj=obj)
    return obj, warnings


def validate(kind: Kind, obj: Obj, old: Obj | None) -> None:
    causes: list[Cause] = validation.validate_metadata(kind, obj)
    if old is not None:
        causes += validation.validate_metadata_update(obj, old)
    if _schemas is not None:
        causes += _schemas.validate_structure(kind_key=kind.key, obj=obj)
    causes += validation.validate_kind(kind, obj)
    if old is not None:
        causes += validation.validate_kind_update(kind, obj, old)
    if causes:
        name = (obj.get("metadata") or {}).get("name") or ""
        raise invalid_error(kind=kind.kind, group=kind.group, name=name, causes=causes)


def merge_subresource(kind: Kind, current: Obj, new: Obj, subresource: str, opts: WriteOptions) -> Obj:
    if subresource == "status":
        merged = dict(current)
        if "status" in new:
            merged["status"] = new["status"]
        else:
            merged.pop("status", None)
        return merged
    if opts.from_http and kind.status_subresource:
        merged = dict(new)
        if "status" in current:
            merged["status"] = current["status"]
        else:
            merged.pop("status", None)
        return merged
    return new


def check_apply_version(kind: Kind, body: Obj) -> None:
    version = body.get("apiVersion")
    if version and version != kind.api_version:
        raise bad_request(
            f"Incorrect version specified in apply patch. Specified patch version: {version}, "
            f"expected: {kind.api_version}"
        )


def check_name(kind: Kind, obj: Any, namespace: str, name: str) -> None:
    if not isinstance(obj, dict):
        return
    meta = obj.get("metadata") or {}
    obj_name = meta.get("name") or ""
    if obj_name != name:
        raise bad_request(f"the name of the object ({obj_name}) does not match the name on the URL ({name})")
    obj_ns = meta.get("namespace") or ""
    if kind.namespaced and obj_ns and obj_ns != namespace:
        raise bad_request(
            f"the namespace of the object ({obj_ns}) does not match the namespace on the URL ({namespace})"
        )


def structure_causes(kind: Kind, obj: Obj) -> list[Cause]:
    """Structural causes for an object that is never stored (SelfSubjectAccessReview)."""
    return _schemas.validate_structure(kind_key=kind.key, obj=obj) if _schemas is not None else []


def spec_of(obj: Obj) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def ordered(obj: Obj) -> Obj:
    """Field order as a real server serialises it: apiVersion, kind, metadata (Go field order), rest."""
    meta = obj.get("metadata") or {}
    ordered_meta = {k: meta[k] for k in _META_ORDER if k in meta}
    ordered_meta.update((k, v) for k, v in meta.items() if k not in ordered_meta)
    out: Obj = {}
    for key in ("apiVersion", "kind"):
        if key in obj:
            out[key] = obj[key]
    out["metadata"] = ordered_meta
    out.update((k, v) for k, v in obj.items() if k not in out)
    if "status" in out:
        out["status"] = out.pop("status")
    return out


def with_identity(body: Obj, kind: Kind, namespace: str, name: str) -> Obj:
    obj = dict(body)
    meta = dict(obj.get("metadata") or {})
    meta.setdefault("name", name)
    if kind.namespaced:
        meta.setdefault("namespace", namespace)
    obj["metadata"] = meta
    return obj
