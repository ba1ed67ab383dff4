"""Label and field selectors, parsed once per request and matched against stored objects.

Syntax and failure messages follow k8s.io/apimachinery/pkg/labels and /fields, since clients show
those messages to users when they pass a bad ``-l`` / ``--field-selector``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .status import ApiError, bad_request, go_quote

_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
)
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_TOKEN = re.compile(r"\s*(==|!=|=|!|,|\(|\)|[^\s=!,()]+)")

# Field selectors every kind supports, plus the extra ones the built-in kinds register.
_COMMON_FIELDS = ("metadata.name", "metadata.namespace")
_EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "pods": (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    "events": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "secrets": ("type",),
    "namespaces": ("status.phase",),
    "nodes": ("spec.unschedulable",),
}


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # =, !=, in, notin, exists, !
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.op == "exists":
            return self.key in labels
        if self.op == "!":
            return self.key not in labels
        if self.op in ("=", "in"):
            return self.key in labels and labels[self.key] in self.values
        # != and notin also match objects without the label
        return self.key not in labels or labels[self.key] not in self.values


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...]

    def matches(self, obj: Mapping[str, Any]) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(r.matches(labels) for r in self.requirements)


def parse_label_selector(text: str) -> LabelSelector:
    tokens = [t for t in _TOKEN.findall(text) if t]
    reqs: list[Requirement] = []
    i = 0

    def fail(found: str, expected: str) -> ApiError:
        return bad_request(f"unable to parse requirement: found '{found}', expected: {expected}")

    while i < len(tokens):
        tok = tokens[i]
        if tok == "!":
            if i + 1 >= len(tokens):
                raise fail("", "identifier after '!'")
            key = tokens[i + 1]
            _check_key(key)
            reqs.append(Requirement(key, "!"))
            i += 2
        else:
            key = tok
            if key in ("=", "==", "!=", ",", "(", ")"):
                raise fail(key, "!, identifier, or 'end of string'")
            _check_key(key)
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ","
            if nxt == ",":
                reqs.append(Requirement(key, "exists"))
                i += 1
            elif nxt in ("=", "==", "!="):
                value = tokens[i + 2] if i + 2 < len(tokens) and tokens[i + 2] != "," else ""
                _check_value(value)
                reqs.append(Requirement(key, "!=" if nxt == "!=" else "=", (value,)))
                i += 3 if value else 2
            elif nxt in ("in", "notin"):
                if i + 2 >= len(tokens) or tokens[i + 2] != "(":
                    raise fail(tokens[i + 2] if i + 2 < len(tokens) else "", "'('")
                j = i + 3
                values: list[str] = []
                while j < len(tokens) and tokens[j] != ")":
                    if tokens[j] != ",":
                        _check_value(tokens[j])
                        values.append(tokens[j])
                    j += 1
                if j >= len(tokens):
                    raise fail("", "')'")
                reqs.append(Requirement(key, nxt, tuple(values)))
                i = j + 1
            else:
                raise fail(nxt, "'=', '!=', '==', 'in', notin'")
        if i < len(tokens):
            if tokens[i] != ",":
                raise fail(tokens[i], "',' or 'end of string'")
            i += 1
    return LabelSelector(tuple(reqs))


def _check_key(key: str) -> None:
    if len(key.split("/")[-1]) > 63 or not _KEY.match(key):
        raise bad_request(
            f"unable to parse requirement: values[0][{key}]: Invalid value: {go_quote(key)}: name part must "
            "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric "
            "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        )


def _check_value(value: str) -> None:
    if len(value) > 63 or not _VALUE.match(value):
        raise bad_request(
            f"unable to parse requirement: values[0]: Invalid value: {go_quote(value)}: a valid "
            "label must be "
            "an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
            "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        )


@dataclass(frozen=True)
class FieldRequirement:
    path: tuple[str, ...]
    op: str  # = or !=
    value: str


@dataclass(frozen=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...]

    def matches(self, obj: Mapping[str, Any]) -> bool:
        for req in self.requirements:
            actual = _field_value(obj, req.path)
            if (actual == req.value) != (req.op == "="):
                return False
        return True

    def exact_name(self) -> str | None:
        """The name an ``metadata.name=x`` selector pins, which lets list skip a scan."""
        for req in self.requirements:
            if req.path == ("metadata", "name") and req.op == "=":
                return req.value
        return None


def _field_value(obj: Mapping[str, Any], path: tuple[str, ...]) -> str:
    cur: Any = obj
    for part in path:
        if not isinstance(cur, Mapping):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def parse_field_selector(text: str, *, resource: str, is_custom: bool) -> FieldSelector:
    reqs: list[FieldRequirement] = []
    allowed = _COMMON_FIELDS + _EXTRA_FIELDS.get(resource, ())
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        for op in ("!=", "==", "="):
            if op in part:
                key, value = part.split(op, 1)
                break
        else:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        key = key.strip()
        if key not in allowed:
            if is_custom:
                raise bad_request(
                    f'"{key}" is not a known field selector: only "metadata.name", "metadata.namespace"'
                )
            raise bad_request(f"field label not supported: {key}")
        reqs.append(FieldRequirement(tuple(key.split(".")), "!=" if op == "!=" else "=", value.strip()))
    return FieldSelector(tuple(reqs))


Matcher = Callable[[Mapping[str, Any]], bool]


def build_matcher(label: LabelSelector | None, fields: FieldSelector | None) -> Matcher | None:
    if label is None and fields is None:
        return None
    if fields is None:
        assert label is not None
        return label.matches
    if label is None:
        return fields.matches
    return lambda obj: label.matches(obj) and fields.matches(obj)
