"""Watches: the window of recent changes they resume from (the watch cache) and the stream itself.

Events reference the stored objects themselves (which are never mutated once stored), so the
window costs little memory; a watch from a resourceVersion older than the window gets the same
``410 Expired`` ERROR event a real server sends.
"""

from __future__ import annotations

import bisect
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from . import discovery
from .kinds import Kind
from .selectors import FieldSelector, LabelSelector, build_matcher, parse_field_selector
from .status import bad_request, expired
from .wire import JSON, Request, chunk, start_stream

if TYPE_CHECKING:
    from .store import Store

DEFAULT_WATCH_TIMEOUT = 1800.0  # a real server picks 30-60 minutes when the client sets none


@dataclass(frozen=True)
class Event:
    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    kind_key: str
    namespace: str
    obj: Mapping[str, Any]
    old: Mapping[str, Any] | None = None  # the previous version, for selector enter/leave


class TooOld(Exception):
    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class EventLog:
    def __init__(self, *, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._events: list[Event] = []
        self._rvs: list[int] = []
        self._cond = threading.Condition()
        # everything at or below this rv is known: a watch from it needs no events before it
        self._floor = 0
        self._closed = False

    def set_floor(self, rv: int) -> None:
        with self._cond:
            self._floor = rv

    def append(self, event: Event) -> None:
        with self._cond:
            self._events.append(event)
            self._rvs.append(event.rv)
            if len(self._events) > 2 * self._capacity:
                drop = len(self._events) - self._capacity
                self._floor = self._rvs[drop - 1]
                del self._events[:drop]
                del self._rvs[:drop]
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def since(self, rv: int) -> list[Event]:
        """Events with a resourceVersion above ``rv``; TooOld when the window no longer reaches it."""
        with self._cond:
            return self._since_locked(rv)

    def _since_locked(self, rv: int) -> list[Event]:
        if rv < self._floor:
            raise TooOld(rv, self._floor + 1 if not self._events else self._events[0].rv - 1)
        start = bisect.bisect_right(self._rvs, rv)
        return self._events[start:]

    def wait_since(self, rv: int, timeout: float, stop: Callable[[], bool]) -> list[Event]:
        """Block until there are events above ``rv``, ``stop()`` is true, or ``timeout`` elapses."""
        with self._cond:
            events = self._since_locked(rv)
            if events or self._closed or stop():
                return events
            self._cond.wait(timeout)
            return self._since_locked(rv)


def serve_watch(
    *,
    req: Request,
    handler: BaseHTTPRequestHandler,
    store: Store,
    kind: Kind,
    labels: LabelSelector | None,
    fields: FieldSelector | None,
    stopping: threading.Event,
    on_started: Callable[[], None],
) -> None:
    """Stream ``ADDED``/``MODIFIED``/``DELETED`` lines over chunked HTTP until timeout or shutdown.

    Without a resourceVersion (or with ``0``) the stream opens with the current objects as
    synthetic ADDED events, taken atomically with the version the stream continues from.
    """
    if req.name:
        name_sel = parse_field_selector(
            f"metadata.name={req.name}", resource=kind.plural, is_custom=kind.is_custom
        )
        fields = FieldSelector((fields.requirements if fields else ()) + name_sel.requirements)
    matcher = build_matcher(labels, fields) or (lambda _obj: True)
    timeout_text = req.param("timeoutSeconds")
    timeout = float(timeout_text) if timeout_text.isdigit() else DEFAULT_WATCH_TIMEOUT
    rv_text = req.param("resourceVersion")
    namespace = req.namespace
    initial: list[dict[str, Any]] = []
    if rv_text in ("", "0"):
        items, rv_str = store.list_refs(kind.key, namespace or None, labels=labels, fields=fields)
        initial, rv = list(items), int(rv_str)
    else:
        try:
            rv = int(rv_text)
        except ValueError:
            raise bad_request(
                f"resourceVersion: Invalid value: {json.dumps(rv_text)}: strconv.ParseUint: "
                f"parsing {json.dumps(rv_text)}: invalid syntax"
            ) from None
    as_table = "as=Table" in req.headers.get("Accept", "")
    include = req.param("includeObject", "Metadata")
    first_table = True

    def send(event: dict[str, Any]) -> None:
        nonlocal first_table
        if as_table and event["type"] != "ERROR":
            # kubectl get -w: one-row Tables; like a server, column definitions only in the first
            table = discovery.table(
                kind,
                [event["object"]],
                rv=event["object"]["metadata"].get("resourceVersion", ""),
                now=store.clock.now(),
                include=include,
            )
            if not first_table:
                table["columnDefinitions"] = []
            first_table = False
            event = {"type": event["type"], "object": table}
        chunk(handler, event)

    start_stream(
        handler,
        [("Content-Type", JSON), ("Cache-Control", "no-cache, private"), ("Transfer-Encoding", "chunked")],
    )
    on_started()
    deadline = time.monotonic() + timeout
    try:
        for obj in initial:
            send({"type": "ADDED", "object": obj})
        while not stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                events = store.events.wait_since(rv, min(remaining, 0.5), stopping.is_set)
            except TooOld as exc:
                chunk(handler, {"type": "ERROR", "object": expired(str(exc)).to_status()})
                break
            for event in events:
                rv = event.rv
                out = _translate(event, kind.key, namespace, matcher)
                if out is not None:
                    send(out)
        handler.wfile.write(b"0\r\n\r\n")
    except OSError:  # the client went away (BrokenPipe, ConnectionReset)
        handler.close_connection = True


def _translate(
    event: Event, kind_key: str, namespace: str, matcher: Callable[[Any], bool]
) -> dict[str, Any] | None:
    """Turn a store event into what this watcher sees, selectors' enter/leave included."""
    if event.kind_key != kind_key or (namespace and event.namespace != namespace):
        return None
    now = matcher(event.obj)
    if event.type == "MODIFIED" and event.old is not None:
        before = matcher(event.old)
        if before and not now:
            return {"type": "DELETED", "object": event.obj}
        if now and not before:
            return {"type": "ADDED", "object": event.obj}
    return {"type": event.type, "object": event.obj} if now else None
