"""What every simulated controller shares: the store, the clock, one lock and safe scheduling.

Controllers never sleep and never start threads: they react to store events and schedule their
next step with ``clock.call_later``. All their work runs under one re-entrant lock, so a store
event arriving from an HTTP thread and a timed step running on the clock's thread never see each
other half-done. A failing step is recorded (``Runtime.errors``) and logged instead of breaking
the clock, because one bad object must not stop the rest of the simulated cluster.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ..clock import Clock, rfc3339
from ..status import ApiError
from .timings import Timings

log = logging.getLogger(__name__)

Obj = dict[str, Any]

# Store keys of the kinds the controllers read and write.
PODS = "pods"
EVENTS = "events"
PVCS = "persistentvolumeclaims"
NODES = "nodes"
SECRETS = "secrets"
CONFIGMAPS = "configmaps"
NAMESPACES = "namespaces"
STORAGECLASSES = "storageclasses.storage.k8s.io"
ISVCS = "inferenceservices.serving.kserve.io"
RUNTIMES = "servingruntimes.serving.kserve.io"
ACCOUNTS = "accounts.nim.opendatahub.io"
TEMPLATES = "templates.template.openshift.io"


class Store(Protocol):
    """The part of the sandbox store (``store.py``) the controllers use."""

    def create(self, kind_key: str, obj: Obj, *, dry_run: bool = False) -> Obj: ...

    def get(self, kind_key: str, namespace: str | None, name: str) -> Obj: ...

    def try_get(self, kind_key: str, namespace: str | None, name: str) -> Obj | None: ...

    def list(
        self,
        kind_key: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[list[Obj], str]: ...

    def replace(self, kind_key: str, obj: Obj, *, dry_run: bool = False) -> Obj: ...

    def update_status(self, kind_key: str, namespace: str | None, name: str, status: Obj) -> Obj: ...

    def delete(self, kind_key: str, namespace: str | None, name: str, *, dry_run: bool = False) -> Obj: ...

    def subscribe(self, fn: Callable[[str, str, Obj], None]) -> None: ...


class Runtime:
    """State shared by the controllers of one ``install``: stopping it silences all of them."""

    def __init__(self, *, store: Store, clock: Clock, timings: Timings) -> None:
        self.store = store
        self.clock = clock
        self.timings = timings
        self.lock = threading.RLock()
        self.stopped = False
        self.errors: list[str] = []

    def now(self) -> str:
        return rfc3339(self.clock.now())

    def later(self, delay: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` after ``delay`` seconds of clock time, unless the controllers were stopped."""

        def run() -> None:
            self.guarded(fn)

        self.clock.call_later(delay, run)

    def guarded(self, fn: Callable[[], None]) -> None:
        if self.stopped:
            return
        with self.lock:
            if self.stopped:
                return
            try:
                fn()
            except Exception as exc:  # keep the simulated cluster alive; record for tests
                self.errors.append(f"{type(exc).__name__}: {exc}")
                log.exception("sandbox controller step failed")


class WorkQueue:
    """Debounced per-key work, like a controller's rate-limited queue: the earliest request wins.

    Several events about one object collapse into one reconcile; a request for an earlier time
    (a watch event while a slow resync is pending) moves the run forward instead of being lost.
    """

    def __init__(self, rt: Runtime, work: Callable[[str, str], None]) -> None:
        self._rt = rt
        self._work = work
        self._due: dict[tuple[str, str], float] = {}

    def add(self, namespace: str, name: str, delay: float) -> None:
        key = (namespace, name)
        due = self._rt.clock.now() + delay
        if key in self._due and self._due[key] <= due:
            return
        self._due[key] = due

        def run() -> None:
            if self._due.get(key) != due:
                return  # superseded by an earlier run
            del self._due[key]
            self._work(namespace, name)

        self._rt.later(delay, run)


class Controller:
    """A named controller; subclasses react to store events in ``on_event``."""

    name = ""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.store = rt.store
        self.timings = rt.timings

    def on_event(self, event: str, kind_key: str, obj: Obj) -> None:
        raise NotImplementedError


# ---------------------------------------------------------------- small shared helpers


def meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def name_of(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("name", ""))


def ns_of(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("namespace", ""))


def deleting(obj: Mapping[str, Any]) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    value = meta(obj).get("labels")
    return dict(value) if isinstance(value, dict) else {}


def annotations_of(obj: Mapping[str, Any]) -> dict[str, str]:
    value = meta(obj).get("annotations")
    return dict(value) if isinstance(value, dict) else {}


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def digest(*parts: str, length: int = 64) -> str:
    """A stable hex digest: ids, hashes and suffixes must be the same on every run."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:length]


def fake_uuid(*parts: str) -> str:
    h = digest(*parts, length=32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def safe_suffix(*parts: str, length: int = 5) -> str:
    """The alphabet apimachinery's ``rand.String`` and ``SafeEncodeString`` use for generated names."""
    value = int(digest(*parts), 16)
    out = []
    for _ in range(length):
        value, idx = divmod(value, len(_SAFE_ALPHABET))
        out.append(_SAFE_ALPHABET[idx])
    return "".join(out)


def owner_reference(obj: Mapping[str, Any], *, controller: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": name_of(obj),
        "uid": meta(obj).get("uid", ""),
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def object_reference(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``reference.GetReference``: what controllers put in status and events."""
    ref = {
        "kind": obj.get("kind", ""),
        "namespace": ns_of(obj),
        "name": name_of(obj),
        "uid": meta(obj).get("uid", ""),
        "apiVersion": obj.get("apiVersion", ""),
        "resourceVersion": meta(obj).get("resourceVersion", ""),
    }
    return {k: v for k, v in ref.items() if v}


def mutate(
    store: Store, kind_key: str, namespace: str | None, name: str, change: Callable[[Obj], bool]
) -> Obj | None:
    """Read-modify-write with the optimistic-lock retry every controller does.

    ``change`` edits the object in place and says whether anything changed; nothing is written
    otherwise. Returns the stored object, or None when it no longer exists.
    """
    for _ in range(5):
        current = store.try_get(kind_key, namespace, name)
        if current is None:
            return None
        edited = copy.deepcopy(current)
        if not change(edited):
            return current
        try:
            return store.replace(kind_key, edited)
        except ApiError as exc:
            if exc.code == 404:
                return None
            if exc.code != 409:
                raise
    raise RuntimeError(f"gave up updating {kind_key} {namespace}/{name} after repeated conflicts")


def write_status(store: Store, kind_key: str, namespace: str | None, name: str, status: Obj) -> Obj | None:
    """Replace ``.status`` unless it already says the same; None when the object is gone."""
    current = store.try_get(kind_key, namespace, name)
    if current is None:
        return None
    if current.get("status") == status:
        return current
    try:
        return store.update_status(kind_key, namespace, name, status)
    except ApiError as exc:
        if exc.code == 404:
            return None
        raise


def try_delete(store: Store, kind_key: str, namespace: str | None, name: str) -> None:
    try:
        store.delete(kind_key, namespace, name)
    except ApiError as exc:
        if exc.code != 404:
            raise
