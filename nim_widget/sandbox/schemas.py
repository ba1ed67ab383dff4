"""Structural validation, pruning and defaulting, the way the API server applies a CRD schema.

The order mirrors the apiextensions server: nulls of non-nullable fields are dropped and defaults
filled in first, then the object is validated, so ``modelStatus: {}`` is valid (its required
``transitionStatus`` has a default) exactly as on a real cluster. Messages are built from the
same kube-openapi templates (``<path> in body must be of type integer: "string"``) because
clients and our own engine surface them to users verbatim.

Unknown fields are a separate question (``unknown_fields``/``prune_unknown``): the server drops
them silently, warns, or rejects them depending on ``fieldValidation``, which is the HTTP
layer's decision. ``metadata`` is left to the generic ObjectMeta validation; here it only
contributes its field names, so ``metadata.labelz`` is reported as unknown.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from .schema_core_rules import CORE_RULES
from .schema_kinds import KIND_SCHEMAS
from .schema_model import Schema
from .status import Cause, duplicate, go_quote, invalid, not_supported, required, too_long, type_invalid

_ROOT_META_FIELDS = ("apiVersion", "kind", "metadata")


def has_schema(*, kind_key: str) -> bool:
    return kind_key in KIND_SCHEMAS


def validate_structure(*, kind_key: str, obj: Mapping[str, Any]) -> list[Cause]:
    """Causes for every structural violation, in a stable order; ``[]`` for an unknown kind."""
    kind = KIND_SCHEMAS.get(kind_key)
    if kind is None:
        return []
    work = _normalize(kind.root, obj, custom=kind.custom, root=True)
    validator = _Validator(custom=kind.custom)
    validator.walk(kind.root, work, "", root=True)
    causes = validator.causes
    rule = CORE_RULES.get(kind_key)
    if rule is not None:
        causes += rule(work)
    return list(dict.fromkeys(causes))


def apply_defaults(*, kind_key: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with the nulls the server drops removed and, for custom resources, CRD defaults set.

    A real server returns (and stores) ``validationRefreshRate: 24h`` for an Account created
    without it; the store calls this on every write of a custom resource to do the same.
    """
    kind = KIND_SCHEMAS.get(kind_key)
    if kind is None:
        return copy.deepcopy(dict(obj))
    normalized = _normalize(kind.root, obj, custom=kind.custom, root=True)
    assert isinstance(normalized, dict)
    return normalized


def unknown_fields(*, kind_key: str, obj: Mapping[str, Any]) -> list[str]:
    """Dotted paths (``spec.x``, ``spec.predictor.model.env[0].foo``) the schema does not know."""
    kind = KIND_SCHEMAS.get(kind_key)
    if kind is None:
        return []
    found: list[str] = []
    _prune(kind.root, obj, "", found)
    if kind.custom:
        found.sort()  # the CRD pruner sorts its paths; Go's strict decoder reports in document order
    return found


def prune_unknown(*, kind_key: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    """A new object without the fields ``unknown_fields`` reports; the input is not modified."""
    kind = KIND_SCHEMAS.get(kind_key)
    if kind is None:
        return copy.deepcopy(dict(obj))
    pruned = _prune(kind.root, obj, "", [])
    assert isinstance(pruned, dict)
    return pruned


# ---------------------------------------------------------------- normalisation (nulls, defaults)


def _normalize(schema: Schema | None, value: Any, *, custom: bool, root: bool = False) -> Any:
    if schema is None:
        return copy.deepcopy(value)
    if isinstance(value, Mapping) and schema.type == "object":
        props = schema.properties or {}
        out: dict[str, Any] = {}
        for key, item in value.items():
            if root and key == "metadata":
                out[key] = copy.deepcopy(item)  # ObjectMeta is the generic validation's business
                continue
            child = props.get(key) if key in props else schema.additional
            if item is None and key in props:
                continue  # the server prunes nulls of non-nullable fields before defaulting
            out[key] = _normalize(child, item, custom=custom)
        if custom:
            for key, child in props.items():
                if key not in out and child.has_default:
                    out[key] = copy.deepcopy(child.default)
        return out
    if isinstance(value, list) and schema.type == "array":
        return [_normalize(schema.items, item, custom=custom) for item in value]
    return copy.deepcopy(value)


# ---------------------------------------------------------------- pruning


def _prune(schema: Schema | None, value: Any, path: str, found: list[str]) -> Any:
    if schema is None:
        return copy.deepcopy(value)
    if isinstance(value, Mapping) and schema.type == "object":
        out: dict[str, Any] = {}
        props = schema.properties
        for key, item in value.items():
            child_path = f"{path}.{key}" if path else key
            if props is not None and key in props:
                out[key] = _prune(props[key], item, child_path, found)
            elif schema.additional is not None:
                out[key] = _prune(schema.additional, item, f"{path}[{key}]", found)
            elif schema.preserve_unknown:
                out[key] = copy.deepcopy(item)
            else:
                found.append(child_path)
        return out
    if isinstance(value, list) and schema.type == "array":
        return [_prune(schema.items, item, f"{path}[{i}]", found) for i, item in enumerate(value)]
    return copy.deepcopy(value)


# ---------------------------------------------------------------- validation


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _matches_type(expected: str, actual: str, value: Any) -> bool:
    if expected == actual:
        return True
    if expected == "number":
        return actual == "integer"
    if expected == "integer":
        return actual == "number" and float(value).is_integer()
    return False


class _Validator:
    def __init__(self, *, custom: bool) -> None:
        self.custom = custom
        self.causes: list[Cause] = []

    def walk(self, schema: Schema, value: Any, path: str, *, root: bool = False) -> None:
        actual = _json_type(value)
        if schema.int_or_string:
            if actual not in ("integer", "string") and not (actual == "number" and float(value).is_integer()):
                self._type_error(path, "integer,string", actual)
                return
        elif schema.type is not None and not _matches_type(schema.type, actual, value):
            self._type_error(path, schema.type, actual)
            return
        if schema.enum is not None and value not in schema.enum:
            supported = [v if isinstance(v, str) else repr(v) for v in schema.enum]
            self.causes.append(not_supported(path, value, supported))
        if isinstance(value, str):
            self._string(schema, value, path)
        elif actual in ("integer", "number"):
            self._number(schema, value, path)
        elif isinstance(value, Mapping):
            self._object(schema, value, path, root=root)
        elif isinstance(value, list):
            self._array(schema, value, path)

    def _type_error(self, path: str, expected: str, actual: str) -> None:
        self.causes.append(
            type_invalid(path, actual, f'{path} in body must be of type {expected}: "{actual}"')
        )

    def _string(self, schema: Schema, value: str, path: str) -> None:
        if schema.fmt is not None and not _FORMAT_CHECKS.get(schema.fmt, _any_string)(value):
            self.causes.append(
                type_invalid(path, value, f"{path} in body must be of type {schema.fmt}: {go_quote(value)}")
            )
        if schema.max_length is not None and len(value) > schema.max_length:
            self.causes.append(too_long(path, schema.max_length))
        if schema.min_length is not None and len(value) < schema.min_length:
            self.causes.append(
                invalid(path, value, f"{path} in body should be at least {schema.min_length} chars long")
            )
        # Built-in kinds decode quantities in Go, so only CRDs carry (and check) the pattern.
        if schema.pattern is not None and self.custom and re.search(schema.pattern, value) is None:
            self.causes.append(invalid(path, value, f"{path} in body should match '{schema.pattern}'"))

    def _number(self, schema: Schema, value: float, path: str) -> None:
        if schema.minimum is not None and value < schema.minimum:
            self.causes.append(
                invalid(path, value, f"{path} in body should be greater than or equal to {schema.minimum}")
            )
        if schema.maximum is not None and value > schema.maximum:
            self.causes.append(
                invalid(path, value, f"{path} in body should be less than or equal to {schema.maximum}")
            )

    def _object(self, schema: Schema, value: Mapping[str, Any], path: str, *, root: bool) -> None:
        before = len(self.causes)
        for name in schema.required:
            if name not in value:
                self.causes.append(required(f"{path}.{name}" if path else name))
        props = schema.properties or {}
        for key in sorted(value):
            if root and key in _ROOT_META_FIELDS:
                continue
            child_path = f"{path}.{key}" if path else key
            if key in props:
                self.walk(props[key], value[key], child_path)
            elif schema.additional is not None:
                self.walk(schema.additional, value[key], child_path)
        if len(self.causes) == before:  # CEL rules only see objects that passed the schema
            for rule in schema.rules:
                if not rule.check(value):
                    self.causes.append(invalid(path, "object", rule.message))

    def _array(self, schema: Schema, value: list[Any], path: str) -> None:
        if schema.items is not None:
            for i, item in enumerate(value):
                self.walk(schema.items, item, f"{path}[{i}]")
        if schema.list_map_keys and self.custom:
            seen: set[str] = set()
            for i, item in enumerate(value):
                if not isinstance(item, Mapping):
                    continue
                key = {k: item[k] for k in sorted(schema.list_map_keys) if k in item}
                marker = repr(sorted(key.items()))
                if marker in seen:
                    self.causes.append(duplicate(f"{path}[{i}]", key))
                seen.add(marker)


# ---------------------------------------------------------------- string formats (kube-openapi strfmt)


def _any_string(value: str) -> bool:
    return True


_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$")
_GO_DURATION = re.compile(r"^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$")
_LOOSE_DURATION = re.compile(r"(\d+)\s*([A-Za-zµ]+)")
_DURATION_UNITS = (
    ("ns", "nano"),
    ("us", "µs", "micro"),
    ("ms", "milli"),
    ("s", "sec"),
    ("m", "min"),
    ("h", "hr", "hour"),
    ("d", "day"),
    ("w", "wk", "week"),
)


def _is_date_time(value: str) -> bool:
    """strfmt.IsDateTime: a full date, ``t``, then ``HH:MM:SS[.frac](z|±HH:MM)``, case-insensitive."""
    parts = value.lower().split("t")
    if len(value) < 4 or len(parts) < 2:
        return False
    date = _DATE.match(parts[0])
    if date is None:
        return False
    year, month, day = (int(g) for g in date.groups())
    if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
        return False
    clock = _TIME.match(parts[1])
    return clock is not None and clock[1] <= "23" and clock[2] <= "59" and clock[3] <= "59"


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _is_duration(value: str) -> bool:
    """strfmt.ParseDuration: Go's time.ParseDuration, else any ``<n> <unit>`` with a known unit."""
    if value == "0" or _GO_DURATION.match(value):
        return True
    for _count, unit in _LOOSE_DURATION.findall(value):
        unit = unit.lower()
        if any(unit in variants or unit.startswith(variants[-1]) for variants in _DURATION_UNITS):
            return True
    return False


_FORMAT_CHECKS = {"date-time": _is_date_time, "duration": _is_duration}
