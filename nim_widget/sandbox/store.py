"""The sandbox's etcd and registry in one: versioned objects, validation, finalizers, GC, events.

Stored objects are never mutated after they are stored: every write builds a new dict. That lets
the watch window, list responses and the HTTP layer share them without copying, and keeps the
public API's promise that every returned dict is the caller's own copy cheap to honour.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import admission, patching, validation
from .admission import WriteOptions
from .clock import Clock, rfc3339
from .kinds import Kind, Registry
from .selectors import FieldSelector, LabelSelector, build_matcher, parse_field_selector, parse_label_selector
from .status import (
    already_exists,
    bad_request,
    conflict,
    forbidden,
    internal,
    invalid_error,
    invalid_raw,
    not_found,
)
from .watch import Event, EventLog

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped kinds
Subscriber = Callable[[str, str, Obj], None]

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def clone(value: Any) -> Any:
    """A deep copy of JSON-shaped data, several times faster than copy.deepcopy."""
    if type(value) is dict:
        return {k: clone(v) for k, v in value.items()}
    if type(value) is list:
        return [clone(v) for v in value]
    return value


def copy_obj(obj: Obj) -> Obj:
    """``clone`` for one object, typed."""
    copied: Obj = clone(obj)
    return copied


Objs = list[Obj]


@dataclass
class WriteResult:
    obj: Obj  # the stored object (read-only!) or, for a dry run, the would-be object
    warnings: list[str] = field(default_factory=list)


_INTERNAL = WriteOptions()


class Store:
    def __init__(self, *, registry: Registry, clock: Clock, seed: int = 0, history: int = 10_000) -> None:
        self.registry = registry
        self.clock = clock
        self.events = EventLog(capacity=history)
        self._lock = threading.RLock()
        self._objects: dict[str, dict[Key, Obj]] = {}
        self._uids: dict[str, tuple[str, Key]] = {}
        self._dependents: dict[str, set[tuple[str, Key]]] = {}
        self._applied: dict[tuple[str, Key], dict[str, set[tuple[str, ...]]]] = {}
        self._rv = 0
        self._rng = random.Random(seed)
        self._subscribers: list[Subscriber] = []
        self._local = threading.local()

    # ------------------------------------------------------------ public, contract API

    def create(self, kind_key: str, obj: Obj, *, dry_run: bool = False) -> Obj:
        return copy_obj(self.create_ex(kind_key, obj, WriteOptions(dry_run=dry_run)).obj)

    def get(self, kind_key: str, namespace: str | None, name: str) -> Obj:
        return copy_obj(self.get_ref(kind_key, namespace, name))

    def try_get(self, kind_key: str, namespace: str | None, name: str) -> Obj | None:
        with self._lock:
            found = self._bucket(kind_key).get((namespace or "", name))
            return copy_obj(found) if found is not None else None

    def list(
        self,
        kind_key: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[Objs, str]:
        kind = self.registry.get(kind_key)
        labels = parse_label_selector(label_selector) if label_selector else None
        fields = (
            parse_field_selector(field_selector, resource=kind.plural, is_custom=kind.is_custom)
            if field_selector
            else None
        )
        items, rv = self.list_refs(kind_key, namespace, labels=labels, fields=fields)
        return [copy_obj(o) for o in items], rv

    def replace(self, kind_key: str, obj: Obj, *, dry_run: bool = False) -> Obj:
        return copy_obj(self.replace_ex(kind_key, obj, WriteOptions(dry_run=dry_run)).obj)

    def update_status(self, kind_key: str, namespace: str | None, name: str, status: Obj) -> Obj:
        kind = self.registry.get(kind_key)
        with self._writing():
            current = self.get_ref(kind_key, namespace, name)
            new = dict(current)
            new["status"] = copy_obj(status)
            result = self._update_locked(kind, current, new, _INTERNAL)
        return copy_obj(result.obj)

    def delete(self, kind_key: str, namespace: str | None, name: str, *, dry_run: bool = False) -> Obj:
        return copy_obj(self.delete_ex(kind_key, namespace, name, dry_run=dry_run))

    def subscribe(self, fn: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(fn)

    def unsubscribe(self, fn: Subscriber) -> None:
        with self._lock:
            if fn in self._subscribers:
                self._subscribers.remove(fn)

    @property
    def resource_version(self) -> str:
        with self._lock:
            return str(self._rv)

    # ------------------------------------------------------------ reads without copies (HTTP layer)

    def _bucket(self, kind_key: str) -> dict[Key, Obj]:
        bucket = self._objects.get(kind_key)
        if bucket is None:
            bucket = self._objects.setdefault(kind_key, {})
        return bucket

    def get_ref(self, kind_key: str, namespace: str | None, name: str) -> Obj:
        """The stored object itself: callers must not mutate it."""
        with self._lock:
            found = self._bucket(kind_key).get((namespace or "", name))
        if found is None:
            kind = self.registry.get(kind_key)
            raise not_found(resource=kind.plural, group=kind.group, name=name)
        return found

    def list_refs(
        self,
        kind_key: str,
        namespace: str | None,
        *,
        labels: LabelSelector | None = None,
        fields: FieldSelector | None = None,
    ) -> tuple[Objs, str]:
        matcher = build_matcher(labels, fields)
        with self._lock:
            bucket = self._bucket(kind_key)
            name = fields.exact_name() if fields is not None else None
            if name is not None and namespace:
                found = bucket.get((namespace, name))
                candidates: Iterable[tuple[Key, Obj]] = [((namespace, name), found)] if found else []
            else:
                candidates = sorted(bucket.items())
            items = [
                obj
                for (ns, _), obj in candidates
                if (not namespace or ns == namespace) and (matcher is None or matcher(obj))
            ]
            return items, str(self._rv)

    def namespace_exists(self, name: str) -> bool:
        with self._lock:
            return ("", name) in self._bucket("namespaces")

    # ------------------------------------------------------------ writes

    def create_ex(self, kind_key: str, obj: Obj, opts: WriteOptions) -> WriteResult:
        kind = self.registry.get(kind_key)
        with self._writing():
            result = self._create_locked(kind, obj, opts)
        return result

    def replace_ex(
        self, kind_key: str, obj: Obj, opts: WriteOptions, *, subresource: str = ""
    ) -> WriteResult:
        kind = self.registry.get(kind_key)
        meta = obj.get("metadata") or {}
        with self._writing():
            current = self.get_ref(kind_key, meta.get("namespace"), meta.get("name", ""))
            new, warnings = admission.decode(kind, clone(obj), opts, patch=False)
            rv = (new.get("metadata") or {}).get("resourceVersion") or ""
            current_rv = current["metadata"]["resourceVersion"]
            if not rv and not kind.allows_unconditional_update and opts.from_http:
                raise invalid_error(
                    kind=kind.plural,
                    group=kind.group,
                    name=meta.get("name", ""),
                    causes=[
                        invalid_raw("metadata.resourceVersion", "0x0", "must be specified for an update")
                    ],
                )
            if rv and rv != current_rv:
                raise conflict(resource=kind.plural, group=kind.group, name=meta.get("name", ""))
            new = admission.merge_subresource(kind, current, new, subresource, opts)
            result = self._update_locked(kind, current, new, opts, decoded=True)
            result.warnings[:0] = warnings
        return result

    def patch_ex(
        self,
        kind_key: str,
        namespace: str | None,
        name: str,
        *,
        patch_type: str,
        body: Any,
        opts: WriteOptions,
        force: bool = False,
        subresource: str = "",
    ) -> tuple[WriteResult, bool]:
        """Apply a patch; returns the result and whether the object was created (apply only)."""
        kind = self.registry.get(kind_key)
        ns = namespace or ""
        with self._writing():
            current = self._bucket(kind_key).get((ns, name))
            if current is None:
                if patch_type != patching.APPLY_PATCH or subresource:
                    raise not_found(resource=kind.plural, group=kind.group, name=name)
                if not isinstance(body, dict):
                    raise bad_request("error decoding YAML: the applied configuration must be an object")
                admission.check_apply_version(kind, body)
                body_with_identity = admission.with_identity(body, kind, ns, name)
                admission.check_name(kind, body_with_identity, ns, name)
                created = self._create_locked(kind, body_with_identity, opts)
                if not opts.dry_run:
                    self._applied[(kind.key, (ns, name))] = {opts.field_manager: patching.leaf_paths(body)}
                result, was_created = created, True
            else:
                patched = self._patched(kind, current, patch_type, body, opts)
                admission.check_name(kind, patched, ns, name)
                patched, warnings = admission.decode(kind, patched, opts, patch=True)
                rv = (patched.get("metadata") or {}).get("resourceVersion") or ""
                if rv and rv != current["metadata"]["resourceVersion"]:
                    raise conflict(resource=kind.plural, group=kind.group, name=name)
                patched = admission.merge_subresource(kind, current, patched, subresource, opts)
                result = self._update_locked(kind, current, patched, opts, decoded=True)
                result.warnings[:0] = warnings
                if patch_type == patching.APPLY_PATCH and not opts.dry_run and isinstance(body, dict):
                    managers = self._applied.setdefault((kind.key, (ns, name)), {})
                    managers[opts.field_manager] = patching.leaf_paths(body)
                was_created = False
        return result, was_created

    def delete_ex(
        self,
        kind_key: str,
        namespace: str | None,
        name: str,
        *,
        dry_run: bool = False,
        propagation: str = "Background",
        preconditions: dict[str, Any] | None = None,
    ) -> Obj:
        kind = self.registry.get(kind_key)
        with self._writing():
            current = self.get_ref(kind_key, namespace, name)
            self._check_preconditions(kind, current, preconditions or {})
            if dry_run:
                return current
            result = self._delete_locked(kind, current, propagation)
        return result

    # ------------------------------------------------------------ internals (lock held)

    def _next_rv(self) -> int:
        self._rv += 1
        return self._rv

    def _new_uid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _check_namespace(self, kind: Kind, namespace: str, name: str) -> None:
        if not kind.namespaced:
            return
        ns_obj = self._bucket("namespaces").get(("", namespace))
        if ns_obj is None:
            raise not_found(resource="namespaces", group="", name=namespace)
        if ns_obj["metadata"].get("deletionTimestamp"):
            error = forbidden(
                resource=kind.plural,
                group=kind.group,
                name=name,
                reason=f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
            )
            assert error.details is not None
            error.details["causes"] = [
                {
                    "reason": "NamespaceTerminating",
                    "message": f"namespace {namespace} is being terminated",
                    "field": "metadata.namespace",
                }
            ]
            raise error

    def _create_locked(self, kind: Kind, obj: Obj, opts: WriteOptions) -> WriteResult:
        new, warnings = admission.decode(kind, clone(obj), opts, patch=False)
        meta = new["metadata"]
        if meta.get("resourceVersion"):
            raise internal("resourceVersion should not be set on objects to be created")
        if not kind.namespaced:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            prefix = str(meta["generateName"])[:58]
            meta["name"] = prefix + "".join(self._rng.choice(_NAME_CHARS) for _ in range(5))
        if opts.from_http and kind.status_subresource:
            new.pop("status", None)  # a create cannot set status
        validation.prepare(kind, new, creating=True)
        for server_field in ("deletionTimestamp", "deletionGracePeriodSeconds", "managedFields"):
            meta.pop(server_field, None)
        if opts.from_http or not meta.get("uid"):
            meta["uid"] = (
                self._new_uid()
            )  # a client's uid is replaced; internal callers (the world) keep theirs
        meta["creationTimestamp"] = rfc3339(self.clock.now())
        if kind.keeps_generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        name = meta.get("name") or ""
        namespace = meta.get("namespace", "") if kind.namespaced else ""
        if namespace:
            self._check_namespace(kind, namespace, name)  # NamespaceLifecycle admission runs first
        admission.validate(kind, new, None)
        if (namespace, name) in self._bucket(kind.key):
            raise already_exists(resource=kind.plural, group=kind.group, name=name)
        if opts.dry_run:
            return WriteResult(admission.ordered(new), warnings)
        meta["resourceVersion"] = str(self._next_rv())
        new = admission.ordered(new)
        self._store(kind, (namespace, name), new, None, "ADDED")
        return WriteResult(new, warnings)

    def _update_locked(
        self, kind: Kind, current: Obj, new: Obj, opts: WriteOptions, *, decoded: bool = False
    ) -> WriteResult:
        warnings: list[str] = []
        if not decoded:
            new, warnings = admission.decode(kind, clone(new), opts, patch=False)
        else:
            new = dict(new)
        validation.prepare(kind, new, creating=False)
        old_meta = current["metadata"]
        meta = dict(new.get("metadata") or {})
        new["metadata"] = meta
        for kept in (
            "name",
            "namespace",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ):
            if kept in old_meta:
                meta[kept] = old_meta[kept]
            else:
                meta.pop(kept, None)
        if not meta.get("uid"):
            meta["uid"] = old_meta["uid"]
        meta["resourceVersion"] = old_meta["resourceVersion"]
        meta.pop("managedFields", None)
        if kind.keeps_generation:
            generation = old_meta.get("generation", 1)
            if admission.spec_of(new) != admission.spec_of(current):
                generation += 1
            meta["generation"] = generation
        else:
            meta.pop("generation", None)
        admission.validate(kind, new, current)
        if kind.key == "persistentvolumeclaims":
            class_name = (new.get("spec") or {}).get("storageClassName") or ""
            storage_class = self._bucket("storageclasses.storage.k8s.io").get(("", class_name))
            denied = validation.pvc_resize_admission(new=new, old=current, storage_class=storage_class)
            if denied is not None:
                raise denied
        new = admission.ordered(new)
        if new == current:
            return WriteResult(current, warnings)  # a no-op update changes nothing, not even the rv
        if opts.dry_run:
            return WriteResult(new, warnings)
        key = (old_meta.get("namespace", ""), old_meta["name"])
        meta = new["metadata"]
        meta["resourceVersion"] = str(self._next_rv())  # same position as before: the order is kept
        self._store(kind, key, new, current, "MODIFIED")
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            self._remove(kind, key, new)
        return WriteResult(new, warnings)

    def _patched(self, kind: Kind, current: Obj, patch_type: str, body: Any, opts: WriteOptions) -> Obj:
        if patch_type == patching.JSON_PATCH:
            return patching.apply_json_patch(current, body)
        if patch_type == patching.MERGE_PATCH:
            return patching.apply_merge_patch(current, body)
        if patch_type == patching.STRATEGIC_MERGE_PATCH:
            return patching.apply_strategic_merge_patch(current, body)
        if not isinstance(body, dict):
            raise bad_request("error decoding YAML: the applied configuration must be an object")
        admission.check_apply_version(kind, body)
        meta = current["metadata"]
        previous = self._applied.get((kind.key, (meta.get("namespace", ""), meta["name"])), {})
        return patching.apply_configuration(
            current,
            body,
            previously_applied=previous.get(opts.field_manager, set()),
            strategic=not kind.is_custom,
        )

    def _check_preconditions(self, kind: Kind, current: Obj, pre: dict[str, Any]) -> None:
        meta = current["metadata"]
        key = (
            f"{kind.storage_prefix}/{meta['namespace']}/{meta['name']}"
            if kind.namespaced
            else f"{kind.storage_prefix}/{meta['name']}"
        )
        problem = ""
        if pre.get("uid") and pre["uid"] != meta.get("uid"):
            problem = (
                f"Precondition failed: UID in precondition: {pre['uid']}, "
                f"UID in object meta: {meta.get('uid')}"
            )
        elif pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
            problem = (
                f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                f"ResourceVersion in object meta: {meta.get('resourceVersion')}"
            )
        if problem:
            raise conflict(
                resource=kind.plural,
                group=kind.group,
                name=meta["name"],
                message=f"StorageError: invalid object, Code: 4, Key: {key}, ResourceVersion: 0, "
                f"AdditionalErrorMsg: {problem}",
            )

    def _delete_locked(self, kind: Kind, current: Obj, propagation: str) -> Obj:
        meta = current["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        finalizers = list(meta.get("finalizers") or [])
        if (
            propagation == "Foreground"
            and "foregroundDeletion" not in finalizers
            and self._dependents.get(meta["uid"])
        ):
            finalizers.append("foregroundDeletion")
        if propagation == "Orphan" and "orphan" not in finalizers and self._dependents.get(meta["uid"]):
            finalizers.append("orphan")
        if kind.key == "namespaces":
            return self._delete_namespace(kind, current)
        if finalizers:
            if meta.get("deletionTimestamp") and finalizers == list(meta.get("finalizers") or []):
                return current
            new = dict(current)
            new_meta = dict(meta)
            new_meta.setdefault("deletionTimestamp", rfc3339(self.clock.now()))
            new_meta.setdefault("deletionGracePeriodSeconds", 0)
            new_meta["finalizers"] = finalizers
            new_meta["resourceVersion"] = str(self._next_rv())
            new["metadata"] = new_meta
            new = admission.ordered(new)
            self._store(kind, key, new, current, "MODIFIED")
            self._run_system_finalizers(kind, key, new)
            return self._bucket(kind.key).get(key, new)
        return self._remove(kind, key, current)

    def _run_system_finalizers(self, kind: Kind, key: Key, obj: Obj) -> None:
        """What the garbage collector does for the ``orphan`` and ``foregroundDeletion`` finalizers."""
        uid = obj["metadata"]["uid"]
        finalizers = list(obj["metadata"].get("finalizers") or [])
        if "orphan" in finalizers:
            for dep_kind_key, dep_key in sorted(self._dependents.get(uid, set())):
                self._strip_owner(dep_kind_key, dep_key, uid)
            finalizers.remove("orphan")
        if "foregroundDeletion" in finalizers:
            self._delete_dependents(uid)
            finalizers.remove("foregroundDeletion")
        current = self._bucket(kind.key).get(key)
        if current is None or finalizers == list(current["metadata"].get("finalizers") or []):
            return
        new = dict(current)
        new["metadata"] = dict(current["metadata"], finalizers=finalizers)
        if not finalizers:
            new["metadata"].pop("finalizers")
        self._update_locked(kind, current, new, _INTERNAL, decoded=True)

    def _strip_owner(self, kind_key: str, key: Key, owner_uid: str) -> None:
        current = self._bucket(kind_key).get(key)
        if current is None:
            return
        refs = [r for r in current["metadata"].get("ownerReferences") or [] if r.get("uid") != owner_uid]
        new = dict(current)
        new["metadata"] = dict(current["metadata"], ownerReferences=refs)
        if not refs:
            new["metadata"].pop("ownerReferences")
        self._update_locked(self.registry.get(kind_key), current, new, _INTERNAL, decoded=True)

    def _delete_dependents(self, owner_uid: str) -> None:
        for dep_kind_key, dep_key in sorted(self._dependents.get(owner_uid, set())):
            dep = self._bucket(dep_kind_key).get(dep_key)
            if dep is not None and not dep["metadata"].get("deletionTimestamp"):
                self._delete_locked(self.registry.get(dep_kind_key), dep, "Background")

    def _delete_namespace(self, kind: Kind, current: Obj) -> Obj:
        name = current["metadata"]["name"]
        key = ("", name)
        if not current["metadata"].get("deletionTimestamp"):
            new = dict(current)
            new["metadata"] = dict(
                current["metadata"],
                deletionTimestamp=rfc3339(self.clock.now()),
                resourceVersion=str(self._next_rv()),
            )
            new["status"] = dict(current.get("status") or {}, phase="Terminating")
            new = admission.ordered(new)
            self._store(kind, key, new, current, "MODIFIED")
            current = new
        for kind_key, bucket in list(self._objects.items()):
            for (ns, _name), obj in sorted(bucket.items()):
                if ns == name and not obj["metadata"].get("deletionTimestamp"):
                    self._delete_locked(self.registry.get(kind_key), obj, "Background")
        self._finish_namespace(name)
        return current

    def _finish_namespace(self, name: str) -> None:
        ns_obj = self._bucket("namespaces").get(("", name))
        if ns_obj is None or not ns_obj["metadata"].get("deletionTimestamp"):
            return
        if any(ns == name for bucket in self._objects.values() for (ns, _) in bucket):
            return
        self._remove(self.registry.get("namespaces"), ("", name), ns_obj)

    def _remove(self, kind: Kind, key: Key, current: Obj) -> Obj:
        bucket = self._bucket(kind.key)
        if bucket.pop(key, None) is None:
            return current
        meta = current["metadata"]
        gone = dict(current)
        gone["metadata"] = dict(meta, resourceVersion=str(self._next_rv()))
        self._uids.pop(meta["uid"], None)
        self._index_owners(kind.key, key, meta, None)
        self._applied.pop((kind.key, key), None)
        self._emit(Event(int(gone["metadata"]["resourceVersion"]), "DELETED", kind.key, key[0], gone))
        # garbage collection of dependents, as propagationPolicy=Background does
        self._delete_dependents(meta["uid"])
        self._dependents.pop(meta["uid"], None)
        if key[0]:
            self._finish_namespace(key[0])
        return gone

    def _store(self, kind: Kind, key: Key, new: Obj, old: Obj | None, event_type: str) -> None:
        self._bucket(kind.key)[key] = new
        meta = new["metadata"]
        self._uids[meta["uid"]] = (kind.key, key)
        self._index_owners(kind.key, key, old["metadata"] if old is not None else None, meta)
        self._emit(Event(int(meta["resourceVersion"]), event_type, kind.key, key[0], new, old))

    def _index_owners(self, kind_key: str, key: Key, old_meta: Any, new_meta: Any) -> None:
        old = {r.get("uid") for r in (old_meta or {}).get("ownerReferences") or []}
        new = {r.get("uid") for r in (new_meta or {}).get("ownerReferences") or []}
        for uid in old - new:
            deps = self._dependents.get(uid)
            if deps is not None:
                deps.discard((kind_key, key))
        for uid in new - old:
            self._dependents.setdefault(uid, set()).add((kind_key, key))

    def _emit(self, event: Event) -> None:
        self.events.append(event)
        pending = getattr(self._local, "pending", None)
        if pending is None:
            pending = self._local.pending = []
        pending.append(event)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """The store lock for one write; committed events reach subscribers after it is released,
        even when the write fails half-way (a cascade that stopped on an error)."""
        try:
            with self._lock:
                yield
        finally:
            self._flush()

    def _flush(self) -> None:
        """Deliver committed events to subscribers, in order, outside the lock, in this thread."""
        if getattr(self._local, "dispatching", False):
            return  # the outer dispatch loop delivers what nested writes queued
        self._local.dispatching = True
        try:
            queue: deque[Event] = deque()
            while True:
                pending = getattr(self._local, "pending", None)
                if pending:
                    queue.extend(pending)
                    pending.clear()
                if not queue:
                    return
                event = queue.popleft()
                for fn in list(self._subscribers):
                    try:
                        fn(event.type, event.kind_key, clone(event.obj))
                    except Exception:
                        log.exception("sandbox subscriber failed on %s %s", event.type, event.kind_key)
        finally:
            self._local.dispatching = False
