"""A compact structural-schema model, the subset of a CRD's openAPIV3Schema the API server enforces.

The sandbox has to answer like a real API server that has the KServe, NIM and OpenShift AI CRDs
installed, but the package may not ship or read those multi-megabyte CRD files. So the kinds are
described by hand with these small constructors; the validation engine in ``schemas.py`` walks
them the way the apiextensions server walks a structural schema.

A node that is not modelled in depth is written ``opaque()``: its type is still checked, but its
contents are preserved unchanged, the same as ``x-kubernetes-preserve-unknown-fields``. That keeps
the sandbox from rejecting anything a real server accepts just because we did not write a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Kubernetes resource.Quantity pattern, exactly as controller-gen writes it into CRDs.
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|"
    r"([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)

_UNSET: Any = object()


@dataclass(frozen=True)
class Rule:
    """A CEL-like object rule (``x-kubernetes-validations``), written as a Python predicate.

    ``check`` gets the object at the node and returns True when it is valid; a violation is
    reported as the API server reports CEL failures: ``Invalid value: "object": <message>``.
    """

    check: Callable[[Mapping[str, Any]], bool]
    message: str


@dataclass(frozen=True)
class Schema:
    """One node of a structural schema; fields mirror the openAPIV3Schema keywords."""

    type: str | None = None  # string|integer|number|boolean|object|array; None only with int_or_string
    properties: Mapping[str, Schema] | None = None
    additional: Schema | None = None  # additionalProperties: a map's value schema
    items: Schema | None = None
    required: tuple[str, ...] = ()
    preserve_unknown: bool = False
    int_or_string: bool = False
    enum: tuple[Any, ...] | None = None
    fmt: str | None = None  # date-time | duration | int32 | int64
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    list_map_keys: tuple[str, ...] = ()  # x-kubernetes-list-type: map
    default: Any = field(default=_UNSET, compare=False)
    rules: tuple[Rule, ...] = ()

    @property
    def has_default(self) -> bool:
        return self.default is not _UNSET


# ---------------------------------------------------------------- constructors


def string(
    *,
    enum: tuple[str, ...] | None = None,
    fmt: str | None = None,
    pattern: str | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    default: Any = _UNSET,
) -> Schema:
    return Schema(
        type="string",
        enum=enum,
        fmt=fmt,
        pattern=pattern,
        min_length=min_length,
        max_length=max_length,
        default=default,
    )


def integer(
    *, fmt: str | None = None, minimum: int | None = None, maximum: int | None = None, default: Any = _UNSET
) -> Schema:
    return Schema(type="integer", fmt=fmt, minimum=minimum, maximum=maximum, default=default)


def int32(*, minimum: int | None = None, maximum: int | None = None, default: Any = _UNSET) -> Schema:
    return integer(fmt="int32", minimum=minimum, maximum=maximum, default=default)


def int64(*, minimum: int | None = None, default: Any = _UNSET) -> Schema:
    return integer(fmt="int64", minimum=minimum, default=default)


def boolean(*, default: Any = _UNSET) -> Schema:
    return Schema(type="boolean", default=default)


def obj(
    properties: Mapping[str, Schema],
    *,
    required: tuple[str, ...] = (),
    preserve_unknown: bool = False,
    rules: tuple[Rule, ...] = (),
    default: Any = _UNSET,
) -> Schema:
    """A closed object: keys outside ``properties`` are unknown fields (pruned or rejected)."""
    return Schema(
        type="object",
        properties=dict(properties),
        required=required,
        preserve_unknown=preserve_unknown,
        rules=rules,
        default=default,
    )


def opaque() -> Schema:
    """An object whose contents we do not model; kept verbatim like preserve-unknown-fields."""
    return Schema(type="object", preserve_unknown=True)


def opaque_list() -> Schema:
    return array(opaque())


def array(items: Schema, *, map_keys: tuple[str, ...] = ()) -> Schema:
    return Schema(type="array", items=items, list_map_keys=map_keys)


def string_list() -> Schema:
    return array(string())


def mapping(values: Schema) -> Schema:
    return Schema(type="object", additional=values)


def string_map() -> Schema:
    return mapping(string())


def int_or_string(*, pattern: str | None = None) -> Schema:
    return Schema(int_or_string=True, pattern=pattern)


def quantity() -> Schema:
    return int_or_string(pattern=QUANTITY_PATTERN)


def quantity_map() -> Schema:
    return mapping(quantity())


def date_time() -> Schema:
    return string(fmt="date-time")


def with_(base: Schema, **extra: Schema) -> Schema:
    """``base`` with more properties: how KServe's ModelSpec extends a Container."""
    assert base.properties is not None
    return Schema(
        type="object",
        properties={**base.properties, **extra},
        required=base.required,
        preserve_unknown=base.preserve_unknown,
        rules=base.rules,
    )
