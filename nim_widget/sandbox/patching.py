"""The four PATCH flavours, chosen strictly by Content-Type as the API server chooses them.

A client that sends the wrong header must fail here exactly as it fails against a cluster (the
official client's custom-object JSON-patch bug is the classic case), so no flavour ever guesses
from the body's shape.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import jsonpatch

from .status import (
    ApiError,
    bad_request,
    generic,
    go_quote,
    invalid_error,
    invalid_raw,
    unsupported_media_type,
)

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

BUILTIN_PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)
CUSTOM_PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, APPLY_PATCH)

# patchMergeKey of the list fields a strategic merge patch merges instead of replacing (core/v1 tags).
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "ownerReferences": "uid",
    "conditions": "type",
    "hostAliases": "ip",
    "secrets": "name",
    "resourceClaims": "name",
}
# Primitive lists with patchStrategy "merge" (union instead of replace).
PRIMITIVE_MERGE_LISTS = frozenset({"finalizers"})


def patch_type_for(content_type: str, *, custom: bool) -> str:
    media = content_type.split(";", 1)[0].strip().lower()
    accepted = CUSTOM_PATCH_TYPES if custom else BUILTIN_PATCH_TYPES
    if media not in accepted:
        raise unsupported_media_type(accepted)
    return media


def compact_json(obj: Any) -> str:
    """Go's json.Marshal of an unstructured object: compact, map keys sorted."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _go_type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "array" if isinstance(value, list) else "null"


def not_an_object(patched: Any) -> ApiError:
    """A patch that produced something other than an object fails to decode, a 422 on ``patch``."""
    detail = (
        f"couldn't get version/kind; json parse error: json: cannot unmarshal {_go_type(patched)} "
        "into Go value "
        'of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string '
        '"json:\\"kind,omitempty\\"" }'
    )
    return invalid_error(
        kind="", group="", name="", causes=[invalid_raw("patch", go_quote(compact_json(patched)), detail)]
    )


def apply_json_patch(doc: dict[str, Any], ops: Any) -> dict[str, Any]:
    if not isinstance(ops, list):
        raise bad_request(f"json: cannot unmarshal {_go_type(ops)} into Go value of type jsonpatch.Patch")
    try:
        result = jsonpatch.apply_patch(doc, ops, in_place=False)
    except (
        jsonpatch.JsonPatchException,
        jsonpatch.JsonPointerException,
        KeyError,
        TypeError,
        ValueError,
        IndexError,
    ):
        # The real server drops the library's reason: NewGenericServerResponse(422, ...)
        raise generic(422) from None
    if not isinstance(result, dict):
        raise not_an_object(result)
    return result


def apply_merge_patch(doc: dict[str, Any], patch: Any) -> dict[str, Any]:
    if isinstance(patch, list):
        raise not_an_object([_prune_nulls(p) for p in patch])
    if not isinstance(patch, dict):
        raise bad_request("Invalid JSON Patch")
    merged: dict[str, Any] = _merge(doc, patch)
    return merged


def _merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result


def _prune_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _prune_nulls(v) for k, v in value.items() if v is not None}
    return value


# ---------------------------------------------------------------- strategic merge patch


def apply_strategic_merge_patch(doc: dict[str, Any], patch: Any) -> dict[str, Any]:
    if not isinstance(patch, dict):
        if isinstance(patch, list):
            raise not_an_object(patch)
        raise bad_request("invalid JSON document")
    result = _smp_map(doc, patch)
    if not isinstance(result, dict):
        raise not_an_object(result)
    return result


def _smp_map(original: Any, patch: Mapping[str, Any]) -> Any:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    body = {k: v for k, v in patch.items() if k != "$patch"}
    if directive == "replace":
        return _strip_directives(body)
    if directive not in (None, "merge"):
        raise bad_request(f"Unknown patch type: {directive}")
    result = dict(original) if isinstance(original, dict) else {}
    retain = body.pop("$retainKeys", None)
    orders: dict[str, list[Any]] = {}
    deletions: dict[str, list[Any]] = {}
    for key in [k for k in body if k.startswith("$setElementOrder/")]:
        orders[key.split("/", 1)[1]] = body.pop(key)
    for key in [k for k in body if k.startswith("$deleteFromPrimitiveList/")]:
        deletions[key.split("/", 1)[1]] = body.pop(key)
    for key, value in body.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = _smp_map(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _smp_list(key, result.get(key), value)
        else:
            result[key] = value
    for key, values in deletions.items():
        if isinstance(result.get(key), list):
            result[key] = [v for v in result[key] if v not in values]
    for key, order in orders.items():
        if isinstance(result.get(key), list):
            result[key] = _reorder(key, result[key], order)
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _smp_list(field: str, original: Any, patch: list[Any]) -> list[Any]:
    merge_key = MERGE_KEYS.get(field)
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [
            _strip_directives(p) for p in patch if not (isinstance(p, dict) and p.get("$patch") == "replace")
        ]
    if field in PRIMITIVE_MERGE_LISTS:
        result = list(original) if isinstance(original, list) else []
        result.extend(v for v in patch if v not in result)
        return result
    if merge_key is None or not all(isinstance(p, dict) for p in patch):
        return [_strip_directives(p) for p in patch]
    result = [dict(x) if isinstance(x, dict) else x for x in original] if isinstance(original, list) else []
    for item in patch:
        key_value = item.get(merge_key)
        index = next(
            (i for i, cur in enumerate(result) if isinstance(cur, dict) and cur.get(merge_key) == key_value),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
            continue
        if index is None:
            result.append(_strip_directives(item))
        else:
            result[index] = _smp_map(result[index], item)
    return result


def _reorder(field: str, items: list[Any], order: list[Any]) -> list[Any]:
    merge_key = MERGE_KEYS.get(field)

    def ident(item: Any) -> Any:
        return item.get(merge_key) if merge_key and isinstance(item, dict) else item

    wanted = [ident(o) if isinstance(o, dict) else o for o in order]
    ranked = sorted(items, key=lambda it: wanted.index(ident(it)) if ident(it) in wanted else len(wanted))
    return ranked


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


# ---------------------------------------------------------------- server-side apply


def leaf_paths(obj: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """The field paths an applied configuration sets; lists are atomic, as in a CRD without list-type."""
    if isinstance(obj, dict) and obj:
        paths: set[tuple[str, ...]] = set()
        for key, value in obj.items():
            paths |= leaf_paths(value, (*prefix, key))
        return paths
    return {prefix} if prefix else set()


def apply_configuration(
    live: dict[str, Any],
    applied: dict[str, Any],
    *,
    previously_applied: set[tuple[str, ...]],
    strategic: bool,
) -> dict[str, Any]:
    """Merge an applied configuration into the live object, dropping fields this manager stopped applying."""
    merged = _smp_map(live, applied) if strategic else _merge_keep_nulls(live, applied)
    assert isinstance(merged, dict)
    now = leaf_paths(applied)
    for path in sorted(previously_applied - now, key=len, reverse=True):
        if path[:1] in (("apiVersion",), ("kind",)) or path[:2] in (
            ("metadata", "name"),
            ("metadata", "namespace"),
        ):
            continue
        if any(path[:i] in now for i in range(1, len(path))):
            continue  # a parent is now applied atomically
        _delete_path(merged, path)
    return merged


def _merge_keep_nulls(target: Any, patch: Any) -> Any:
    return _merge(target, patch)


def _delete_path(obj: dict[str, Any], path: tuple[str, ...]) -> None:
    """Remove one path, copying the maps on the way so shared (stored) subtrees are never mutated."""
    parents: list[tuple[dict[str, Any], str]] = []
    cur = obj
    for key in path[:-1]:
        child = cur.get(key)
        if not isinstance(child, dict):
            return
        child = dict(child)
        cur[key] = child
        parents.append((cur, key))
        cur = child
    cur.pop(path[-1], None)
    # prune maps emptied by the removal, as the server does for fields nobody owns
    for parent, key in reversed(parents):
        if not parent[key] and key not in ("metadata", "spec"):
            parent.pop(key)
