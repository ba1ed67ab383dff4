"""The worlds the sandbox can start with, read from the YAML files shipped in ``sandbox/world/``.

A world is the set of files ``<world>.<NN>-<part>.yaml``; their documents, in file-name order and
then top to bottom, are the objects to create, namespaces first. Keeping them as commented YAML
rather than Python lets a reader see the demo cluster exactly as ``kubectl get -o yaml`` would show
it, and lets the loader stay a few lines long.

Every object gets a fixed ``metadata.uid``: the files write it where another object refers to it
(the NIM Account and the objects it owns), and ``load_world`` derives the others from the object's
identity, so two runs of the sandbox hand out the same uids. The store keeps a uid that a world
object carries (a client-supplied uid would be replaced, as a real server does).
"""

from __future__ import annotations

import copy
import uuid
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import yaml

_WORLD_DIR = "world"
_UID_NAMESPACE = uuid.UUID("6f1c2a8e-3b7d-4c59-9e0a-5d4b3c2a1f00")


def object_uid(*, api_version: str, kind: str, namespace: str | None, name: str) -> str:
    """The fixed uid of a world object; the YAML files use the same values for the ones they write."""
    return str(uuid.uuid5(_UID_NAMESPACE, f"{api_version}/{kind}/{namespace or ''}/{name}"))


def world_names() -> list[str]:
    return sorted({entry.name.split(".", 1)[0] for entry in _world_files()})


def load_world(*, name: str = "demo") -> list[dict[str, Any]]:
    """The objects of world ``name`` in creation order, each a fresh dict the caller may mutate.

    Status blocks are included where a real cluster would have them (the Account's, a bound
    claim's, the Nodes' capacity): the caller creates the object, then writes its status.
    """
    files = sorted((f for f in _world_files() if f.name.startswith(name + ".")), key=lambda f: f.name)
    if not files:
        raise ValueError(f"unknown sandbox world {name!r}; known worlds: {', '.join(world_names())}")
    objects: list[dict[str, Any]] = []
    for file in files:
        for document in yaml.safe_load_all(file.read_text(encoding="utf-8")):
            if document is None:
                continue
            if not isinstance(document, dict) or "kind" not in document or "apiVersion" not in document:
                raise ValueError(f"{file.name}: every document must be a Kubernetes object")
            # YAML aliases share one Python object between documents; give each object its own.
            obj: dict[str, Any] = copy.deepcopy(document)
            meta = obj.setdefault("metadata", {})
            meta.setdefault(
                "uid",
                object_uid(
                    api_version=obj["apiVersion"],
                    kind=obj["kind"],
                    namespace=meta.get("namespace"),
                    name=meta["name"],
                ),
            )
            objects.append(obj)
    return objects


def _world_files() -> list[Traversable]:
    directory = resources.files(__package__ or "nim_widget.sandbox").joinpath(_WORLD_DIR)
    return [entry for entry in directory.iterdir() if entry.is_file() and entry.name.endswith(".yaml")]
