"""The fault matrix's machinery: request positions, injected faults, state resets and the table.

A *position* is one API request of a flow, found by running the flow once and reading the
sandbox's request log: its method, verb, resource, namespace, name and dry-run flag, and which
occurrence of that combination it is (the sandbox's faults match on those fields and are consumed
in the order they were added, so pass-through faults skip the earlier occurrences).

Faults are injected through `Sandbox.faults` only. The sandbox has no Retry-After header and no
read timeout as such, so "503 with Retry-After" sends a v1 Status whose `details.retryAfterSeconds`
is set (the API server sends both; the engine reads either), and "read timeout" holds the answer
longer than the client's read timeout. A held request is still carried out by the sandbox after
the client gave up, as a real API server would; `delivered` waits until every request sent to the
faulted position has been answered, so a late write is judged, never missed.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nim_widget.cluster.api import SERVER_MANAGED_METADATA
from nim_widget.sandbox import LoggedRequest, Sandbox
from nim_widget.sandbox.status import ApiError

READ_TIMEOUT = 0.12  # the client's read timeout in the matrix
HELD = 0.2  # how long the "read timeout" fault holds an answer (longer than READ_TIMEOUT)
RETRY_AFTER = 3  # seconds a 503 asks for

FAULTS: dict[str, dict[str, Any]] = {
    "500": {"status": 500, "message": "Internal error occurred: injected"},
    "503+RA": {
        "status": 503,
        "body": {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "the server is currently unable to handle the request",
            "reason": "ServiceUnavailable",
            "details": {"retryAfterSeconds": RETRY_AFTER},
            "code": 503,
        },
    },
    "429": {"status": 429},
    "403": {"status": 403, "message": "injected: forbidden"},
    "409": {"status": 409},
    "422": {"status": 422},
    "reset": {"drop": True},
    "timeout": {"latency": HELD},
}
TRANSIENT = frozenset({"503+RA", "429", "reset", "timeout"})
_PASS = 1e-6  # a latency fault this short lets a request through while counting it


class FakeSleep:
    """The Api's sleep in the matrix: records each delay, never waits."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.delays.append(seconds)

    def clear(self) -> None:
        with self._lock:
            self.delays.clear()


@dataclass(frozen=True)
class Position:
    method: str
    verb: str
    resource: str
    namespace: str
    name: str
    dry_run: bool
    occurrence: int  # 1 for the first request with these fields in the flow
    body_name: str = field(default="", compare=False)

    @property
    def selector(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "verb": self.verb,
            "resource": self.resource,
            "namespace": self.namespace,
            "name": self.name,
            "dry_run": self.dry_run,
        }

    @property
    def label(self) -> str:
        what = self.name or self.body_name
        where = f"{self.namespace}/{what}" if self.namespace and what else (what or self.namespace or "*")
        dry = " dry" if self.dry_run else ""
        nth = (
            f" #{self.occurrence}"
            if self.occurrence > 1 or self.resource == "selfsubjectaccessreviews"
            else ""
        )
        return f"{self.verb}{dry} {self.resource} {where}{nth}"

    def matches(self, entry: LoggedRequest) -> bool:
        return (
            entry.method == self.method
            and entry.verb == self.verb
            and entry.resource == self.resource
            and entry.namespace == self.namespace
            and entry.name == self.name
            and entry.dry_run == self.dry_run
        )


def _body_name(entry: LoggedRequest) -> str:
    body = entry.body if isinstance(entry.body, Mapping) else {}
    return str((body.get("metadata") or {}).get("name") or "")


def positions(entries: Iterable[LoggedRequest]) -> list[Position]:
    """Every request of a clean run, in log order, numbered per identical request."""
    seen: Counter[tuple[Any, ...]] = Counter()
    found = []
    for e in entries:
        key = (e.method, e.verb, e.resource, e.namespace, e.name, e.dry_run)
        seen[key] += 1
        found.append(Position(*key, occurrence=seen[key], body_name=_body_name(e)))
    return found


@dataclass
class Injected:
    position: Position
    counters: list[Any]  # the sandbox's Fault objects aimed at this position's requests

    def sent(self) -> int:
        return sum(f.hits for f in self.counters)


def inject(sandbox: Sandbox, position: Position, fault: str) -> Injected:
    """Fail the position's request once with `fault`; count every request sent to its fields."""
    sandbox.faults.clear()
    counters = []
    if position.occurrence > 1:
        counters.append(sandbox.faults.add(latency=_PASS, times=position.occurrence - 1, **position.selector))
    counters.append(sandbox.faults.add(times=1, **position.selector, **FAULTS[fault]))
    counters.append(sandbox.faults.add(latency=_PASS, times=10**9, **position.selector))
    return Injected(position, counters)


def delivered(sandbox: Sandbox, injected: Injected, *, deadline: float = 10.0) -> None:
    """Wait until the log holds every request sent to the faulted fields (a held answer included)."""
    pause = threading.Event()
    end = time.monotonic() + deadline
    while True:
        logged = sum(1 for e in sandbox.log.entries if injected.position.matches(e))
        if logged >= injected.sent():
            return
        assert time.monotonic() < end, f"requests to {injected.position.label} never finished"
        pause.wait(0.005)


# -- the cluster's state, saved and put back between cells ----------------------------------------

Key = tuple[str, str, str]


def _strip(obj: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in obj.items() if k != "status"}
    out["metadata"] = {
        k: v for k, v in (obj.get("metadata") or {}).items() if k not in SERVER_MANAGED_METADATA
    }
    return out


class World:
    """Every object of every kind in a sandbox's store, to compare against and to restore."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.saved = self.capture()

    def capture(self) -> dict[Key, dict[str, Any]]:
        objects: dict[Key, dict[str, Any]] = {}
        for kind in self.sandbox.registry.all():
            items, _ = self.sandbox.store.list(kind.key)
            for obj in items:
                meta = obj["metadata"]
                objects[(kind.key, meta.get("namespace", ""), meta["name"])] = obj
        return objects

    def changes(self) -> tuple[set[Key], set[Key], set[Key]]:
        """(added, removed, modified) since the save."""
        now = self.capture()
        added = set(now) - set(self.saved)
        removed = set(self.saved) - set(now)
        modified = {
            k
            for k in set(now) & set(self.saved)
            if now[k]["metadata"]["resourceVersion"] != self.saved[k]["metadata"]["resourceVersion"]
        }
        return added, removed, modified

    def restore(self) -> None:
        store = self.sandbox.store
        added, removed, modified = self.changes()
        now = self.capture()
        for key in added:
            self._remove(key, now[key])
        for key in removed | modified:
            saved = self.saved[key]
            body = _strip(saved)
            if key in modified:
                try:
                    store.replace(
                        key[0],
                        {
                            **body,
                            "metadata": {
                                **body["metadata"],
                                "resourceVersion": now[key]["metadata"]["resourceVersion"],
                            },
                        },
                    )
                except ApiError:  # e.g. a grown volume cannot shrink: make it anew
                    self._remove(key, now[key])
                    store.create(key[0], body)
            else:
                store.create(key[0], body)
            if saved.get("status") is not None:
                store.update_status(key[0], key[1] or None, key[2], saved["status"])
        left = self.changes()
        assert not left[0] and not left[1], f"could not restore the world: {left}"
        self.saved = self.capture()

    def _remove(self, key: Key, obj: dict[str, Any]) -> None:
        store = self.sandbox.store
        if obj["metadata"].get("finalizers"):
            store.replace(key[0], {**obj, "metadata": {**obj["metadata"], "finalizers": []}})
        if store.try_get(key[0], key[1] or None, key[2]) is not None:
            store.delete(key[0], key[1] or None, key[2])


# -- the table --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    flow: str
    position: str
    fault: str
    consistent: bool
    outcome: str  # "ok" (succeeded), "failed" (refused with a message), or what went wrong


@dataclass
class Matrix:
    cells: list[Cell] = field(default_factory=list)

    def add(self, cell: Cell) -> None:
        self.cells.append(cell)

    def render(self, flows: Iterable[str] | None = None) -> str:
        chosen = list(flows) if flows is not None else list(dict.fromkeys(c.flow for c in self.cells))
        lines = []
        for flow in chosen:
            cells = [c for c in self.cells if c.flow == flow]
            if not cells:
                continue
            rows = list(dict.fromkeys(c.position for c in cells))
            width = max(len(r) for r in rows)
            lines.append(f"\n{flow}: {sum(c.consistent for c in cells)}/{len(cells)} cells consistent")
            lines.append(" " * width + " | " + " ".join(f"{f:>7}" for f in FAULTS))
            for row in rows:
                marks = []
                for fault in FAULTS:
                    cell = next((c for c in cells if c.position == row and c.fault == fault), None)
                    mark = (
                        ""
                        if cell is None
                        else (
                            {"ok": "ok", "failed": "refused"}.get(cell.outcome, "BAD")
                            if cell.consistent
                            else "BAD"
                        )
                    )
                    marks.append(f"{mark:>7}")
                lines.append(f"{row:<{width}} | " + " ".join(marks))
        total = sum(c.consistent for c in self.cells)
        lines.append(
            f"\nfault matrix: {total}/{len(self.cells)} cells consistent "
            "(ok = completed, refused = failed with a message and nothing half-done)"
        )
        return "\n".join(lines)


def run_cells(
    *,
    flow: str,
    sandbox: Sandbox,
    world: World,
    cells: Iterable[tuple[Position, str]],
    run: Callable[[], Any],
    judge: Callable[[Position, str, Any], str | None],
    matrix: Matrix,
) -> list[Cell]:
    """Each cell: restore the world, inject, run the flow, wait for late answers, judge.

    `run` returns the flow's result or the NimWidgetError it raised; `judge` returns None when the
    cell is consistent, else what is wrong."""
    done = []
    for position, fault in cells:
        world.restore()
        sandbox.log.clear()
        injected = inject(sandbox, position, fault)
        outcome = run()
        delivered(sandbox, injected)
        sandbox.faults.clear()
        problem = judge(position, fault, outcome)
        kind = "failed" if isinstance(outcome, Exception) else "ok"
        cell = Cell(flow, position.label, fault, problem is None, kind if problem is None else problem)
        matrix.add(cell)
        done.append(cell)
    return done
