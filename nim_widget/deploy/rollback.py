"""Undoing a failed deployment: delete what this run created, restore what it changed.

The ledger is per object, not per request: an object this run created is deleted however often it
was written; an object it changed is put back once, from the copy saved before the run, guarded by
the resourceVersion of this run's last write so a change someone else made since is never
overwritten: a PUT carries that resourceVersion, and a JSON patch (the overwrite path) is undone by
the reverse patch led by a `test` of it. Each undo uses the verb its write used, so the write's dry
run has already proved the permission the undo needs. Objects the run did not write (existing
secrets, an existing PVC) are never touched; nor is a secret this run created that another
deployment's ServingRuntime now uses. A write whose answer was lost may or may not have happened;
the ledger asks the cluster.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nim_widget.cluster.api import RUN_ANNOTATION, Api, covers, diff_ops, strip_server_fields
from nim_widget.cluster.errors import NimWidgetError, NotFound, ObjectRef
from nim_widget.deploy.actions import Write
from nim_widget.deploy.steps import StepState


@dataclass
class _Entry:
    step: int
    created: bool
    saved: Mapping[str, Any] | None = field(default=None, repr=False)
    resource_version: str | None = None
    patched: bool = False  # changed by a JSON patch: undone by the reverse patch
    last: Mapping[str, Any] | None = field(default=None, repr=False)  # the object after our last write


def _annotation(obj: Mapping[str, Any], key: str) -> str | None:
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(key)
    return None if value is None else str(value)


def _rv(obj: Mapping[str, Any] | None) -> str | None:
    value = ((obj or {}).get("metadata") or {}).get("resourceVersion")
    return str(value) if value else None


class Ledger:
    """What this run wrote, in order; safe to record into from several threads."""

    def __init__(self) -> None:
        self._entries: dict[ObjectRef, _Entry] = {}
        self._order: list[ObjectRef] = []
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._entries)

    @property
    def created(self) -> list[ObjectRef]:
        return [ref for ref in self._order if self._entries[ref].created]

    @property
    def changed(self) -> list[ObjectRef]:
        return [ref for ref in self._order if not self._entries[ref].created]

    def newest_first(self) -> list[tuple[ObjectRef, _Entry]]:
        with self._lock:
            return [(ref, self._entries[ref]) for ref in reversed(self._order)]

    def record(self, *, write: Write, response: Mapping[str, Any]) -> None:
        with self._lock:
            entry = self._entries.get(write.ref)
            if entry is None:
                entry = _Entry(
                    step=write.step,
                    created=write.verb == "create",
                    saved=write.existing,
                    patched=write.verb in ("patch", "json_patch"),
                )
                self._entries[write.ref] = entry
                self._order.append(write.ref)
            entry.resource_version = _rv(response) or entry.resource_version
            entry.last = response

    def record_unknown(self, *, api: Api, write: Write) -> None:
        """The request may have reached the cluster: look, and record it if it did. A created object
        counts as ours only when it carries this run's id, so someone else's is never rolled back."""
        try:
            current = api.try_get(
                api_version=write.ref.api_version,
                kind=write.ref.kind,
                name=write.ref.name,
                namespace=write.ref.namespace,
            )
        except NimWidgetError:
            return  # cannot tell; the final error says the cluster is unreachable
        if current is None:
            return
        if write.verb == "create":
            ours = _annotation(current, RUN_ANNOTATION) == _annotation(write.manifest, RUN_ANNOTATION)
        else:
            ours = covers(live=strip_server_fields(current), wanted=strip_server_fields(write.manifest))
        if ours:
            self.record(write=write, response=current)


UndoReport = Callable[[int, StepState, str], None]
_RUNTIME_API = "serving.kserve.io/v1alpha1"


def roll_back(*, api: Api, ledger: Ledger, report: UndoReport) -> list[str]:
    """Undo the ledger newest first; returns what could not be undone, in people's words."""
    problems: list[str] = []
    for ref, entry in ledger.newest_first():
        try:
            user = _other_user(api, ref, ledger) if entry.created and ref.kind == "Secret" else None
            if user is not None:
                report(
                    entry.step,
                    StepState.ROLLED_BACK,
                    f"Kept {ref} (created by this run): ServingRuntime {user} uses it",
                )
            elif entry.created:
                api.delete(api_version=ref.api_version, kind=ref.kind, name=ref.name, namespace=ref.namespace)
                report(entry.step, StepState.ROLLED_BACK, f"Deleted {ref} (created by this run)")
            elif ref.kind == "PersistentVolumeClaim":
                problems.append(f"{ref} keeps its new size: volumes cannot shrink")
                report(
                    entry.step,
                    StepState.FAILED,
                    f"Cannot undo: {ref} keeps its new size (volumes cannot shrink)",
                )
            else:
                assert entry.saved is not None
                _restore(api, ref, entry)
                report(entry.step, StepState.ROLLED_BACK, f"Restored {ref} as it was before this run")
        except NotFound:
            report(entry.step, StepState.ROLLED_BACK, f"{ref} is already gone")
        except NimWidgetError as error:
            problems.append(f"{ref}: {error}")
            report(entry.step, StepState.FAILED, f"Could not undo the change to {ref}: {error}")
    return problems


def _other_user(api: Api, secret: ObjectRef, ledger: Ledger) -> str | None:
    """The name of a ServingRuntime this run did not write that refers to `secret`, if any.

    `ngc-secret` and `nvidia-nim-secrets` are shared by every deployment of a project: a deploy that
    ran meanwhile may have found the one this run created and reused it, and deleting it would leave
    that deployment unable to pull its image or read its key."""
    ours = {ref.name for ref, _ in ledger.newest_first() if ref.kind == "ServingRuntime"}
    runtimes = api.list(api_version=_RUNTIME_API, kind="ServingRuntime", namespace=secret.namespace)
    for runtime in sorted(runtimes, key=lambda item: str((item.get("metadata") or {}).get("name"))):
        name = str((runtime.get("metadata") or {}).get("name"))
        if name not in ours and secret.name in _secret_refs(runtime.get("spec")):
            return name
    return None


def _secret_refs(node: Any) -> set[str]:
    """Secrets named by pull secrets, env `secretKeyRef` or envFrom `secretRef` anywhere below `node`."""
    found: set[str] = set()
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in ("secretKeyRef", "secretRef") and isinstance(value, Mapping) and value.get("name"):
                found.add(str(value["name"]))
            elif key == "imagePullSecrets" and isinstance(value, list):
                found.update(str(v["name"]) for v in value if isinstance(v, Mapping) and v.get("name"))
            else:
                found |= _secret_refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= _secret_refs(item)
    return found


def _restore(api: Api, ref: ObjectRef, entry: _Entry) -> None:
    assert entry.saved is not None
    guard = entry.resource_version or _rv(entry.saved)
    if entry.patched and entry.last is not None and guard:
        ops = diff_ops(old=entry.last, new=entry.saved)
        if ops:
            api.patch_ops(
                api_version=ref.api_version,
                kind=ref.kind,
                name=ref.name,
                namespace=ref.namespace,
                ops=[{"op": "test", "path": "/metadata/resourceVersion", "value": guard}, *ops],
            )
        return
    api.replace(body=strip_server_fields(entry.saved), resource_version=guard)
