"""Discovery documents, server-side printing (``as=Table``) and the small OpenAPI v3 index.

Generic clients learn everything from these: the official client's DynamicClient and kubectl
read ``/api`` and ``/apis`` to map kinds to URLs, ``kubectl get`` asks for Tables, and kubectl's
``--validate=strict`` asks OpenAPI v3 whether a kind's PATCH accepts ``fieldValidation``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from .kinds import Column, Kind, Registry

VERSION_INFO = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4",
    "gitCommit": "59526cd4867447956156ae3a602fcbac5d3ec7ee",
    "gitTreeState": "clean",
    "buildDate": "2025-04-22T16:03:25Z",
    "goVersion": "go1.23.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}

_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def _version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes version priority: GA > beta > alpha, higher numbers first."""
    match = _VERSION_RE.match(version)
    if match is None:
        return (3, 0, 0)
    major, stage, minor = int(match.group(1)), match.group(2), int(match.group(3) or 0)
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -major, -minor)


def sorted_versions(versions: Sequence[str]) -> list[str]:
    return sorted(versions, key=_version_priority)


def api_versions(*, server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group_doc(group: str, versions: Sequence[str]) -> dict[str, Any]:
    ordered = sorted_versions(versions)
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in ordered]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(registry: Registry) -> dict[str, Any]:
    groups = [_group_doc(g, vs) for g, vs in registry.groups().items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, group: str) -> dict[str, Any] | None:
    versions = registry.groups().get(group)
    if not group or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(group, versions)}


def _storage_hash(kind: Kind) -> str:
    digest = hashlib.sha256(f"{kind.group}/{kind.version}/{kind.kind}".encode()).digest()
    import base64

    return base64.b64encode(digest[:8]).decode()


def resource_list(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    kinds = [k for k in registry.all() if k.group == group and k.version == version]
    if not kinds:
        return None
    resources: list[dict[str, Any]] = []
    for kind in sorted(kinds, key=lambda k: k.plural):
        entry: dict[str, Any] = {
            "name": kind.plural,
            "singularName": kind.singular,
            "namespaced": kind.namespaced,
            "kind": kind.kind,
            "verbs": list(kind.verbs),
        }
        if kind.short_names:
            entry["shortNames"] = list(kind.short_names)
        if kind.categories:
            entry["categories"] = list(kind.categories)
        if len(kind.verbs) > 1:
            entry["storageVersionHash"] = _storage_hash(kind)
        resources.append(entry)
        if kind.status_subresource:
            resources.append(
                {
                    "name": f"{kind.plural}/status",
                    "singularName": "",
                    "namespaced": kind.namespaced,
                    "kind": kind.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": version if not group else f"{group}/{version}",
        "resources": resources,
    }


# ---------------------------------------------------------------- OpenAPI v3 (just enough for kubectl)


def openapi_v3_root(registry: Registry) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for group, versions in registry.groups().items():
        for version in versions:
            prefix = "api/v1" if not group else f"apis/{group}/{version}"
            paths[prefix] = {"serverRelativeURL": f"/openapi/v3/{prefix}?hash={_gv_hash(group, version)}"}
    return {"paths": paths}


def _gv_hash(group: str, version: str) -> str:
    return hashlib.sha512(f"{group}/{version}".encode()).hexdigest()[:32].upper()


def openapi_v3_group_version(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    """PATCH operations with their GVK and the ``fieldValidation`` parameter, no schemas.

    kubectl only looks for that parameter to decide on server-side validation; with no
    strategic-merge media type listed it builds patches from its compiled-in types, as it should.
    """
    kinds = [k for k in registry.all() if k.group == group and k.version == version]
    if not kinds:
        return None
    prefix = "/api/v1" if not group else f"/apis/{group}/{version}"
    paths: dict[str, Any] = {}
    for kind in kinds:
        if "patch" not in kind.verbs:
            continue
        scope = "/namespaces/{namespace}" if kind.namespaced else ""
        paths[f"{prefix}{scope}/{kind.plural}/{{name}}"] = {
            "patch": {
                "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": kind.kind},
                "parameters": [
                    {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                    {
                        "name": "fieldManager",
                        "in": "query",
                        "schema": {"type": "string", "uniqueItems": True},
                    },
                    {
                        "name": "fieldValidation",
                        "in": "query",
                        "schema": {"type": "string", "uniqueItems": True},
                    },
                    {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": True}},
                ],
                "requestBody": {
                    "content": {
                        "application/json-patch+json": {"schema": {"type": "object"}},
                        "application/merge-patch+json": {"schema": {"type": "object"}},
                        "application/apply-patch+yaml": {"schema": {"type": "object"}},
                    }
                },
                "responses": {"200": {"description": "OK"}},
            }
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": VERSION_INFO["gitVersion"]},
        "paths": paths,
        "components": {"schemas": {}},
    }


# ---------------------------------------------------------------- Tables (server-side printing)

_NAME_COLUMN = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "description": "Name must be unique within a namespace. Is required when creating resources, "
    "although some "
    "resources may allow a client to request the generation of an appropriate name automatically. Name is "
    "primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    "priority": 0,
}


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration, as the AGE column shows it."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


_STEP = re.compile(
    r"\.([A-Za-z0-9_\-]+)|\[\*\]|\[\?\(@\.([A-Za-z0-9_.]+)\s*==\s*(?:'([^']*)'|\"([^\"]*)\"|(\w+))\)\]"
)


def jsonpath(obj: Any, path: str) -> list[Any]:
    """The tiny JSONPath subset printer columns use: ``.a.b``, ``[*]``, ``[?(@.k=='v')]``."""
    current = [obj]
    pos = 0
    while pos < len(path):
        match = _STEP.match(path, pos)
        if match is None:
            return []
        pos = match.end()
        token = match.group(0)
        nxt: list[Any] = []
        for value in current:
            if token.startswith("."):
                if isinstance(value, Mapping) and match.group(1) in value:
                    nxt.append(value[match.group(1)])
            elif token == "[*]":
                if isinstance(value, list):
                    nxt.extend(value)
            elif isinstance(value, list):
                expected = next(g for g in (match.group(3), match.group(4), match.group(5)) if g is not None)
                for item in value:
                    actual = item
                    for part in match.group(2).split("."):
                        actual = actual.get(part) if isinstance(actual, Mapping) else None
                    rendered = str(actual).lower() if isinstance(actual, bool) else str(actual)
                    if rendered == expected:
                        nxt.append(item)
        current = nxt
    return current


def _cell(obj: Mapping[str, Any], column: Column, now: float) -> Any:
    values = jsonpath(obj, column.path)
    if not values:
        return None
    if column.type == "date":
        try:
            created = datetime.strptime(str(values[0]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return None
        return human_duration(now - created.timestamp())
    if column.type in ("integer", "boolean", "number") and len(values) == 1:
        return values[0]
    return ",".join(str(v).lower() if isinstance(v, bool) else str(v) for v in values)


def table(
    kind: Kind, items: Sequence[Mapping[str, Any]], *, rv: str, now: float, include: str
) -> dict[str, Any]:
    columns = [_NAME_COLUMN] + [
        {
            "name": c.name,
            "type": "string" if c.type == "date" else c.type,
            "format": "",
            "description": c.name,
            "priority": c.priority,
        }
        for c in kind.columns
    ]
    rows = []
    for obj in items:
        cells: list[Any] = [obj["metadata"]["name"]] + [_cell(obj, c, now) for c in kind.columns]
        row: dict[str, Any] = {"cells": cells}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj["metadata"],
            }
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
        "columnDefinitions": columns,
        "rows": rows,
    }
