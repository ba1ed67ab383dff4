"""Every request the sandbox answered, so tests can assert on what actually went over the wire."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    content_type: str
    body: Any
    status: int
    dry_run: bool
    resource: str
    namespace: str
    name: str
    verb: str
    subresource: str = ""
    group: str = ""
    user_agent: str = ""
    warnings: tuple[str, ...] = field(default=())
    # time.monotonic() at arrival: lets a benchmark count the client's sequential rounds of requests
    received: float = 0.0

    @property
    def is_write(self) -> bool:
        return self.verb in WRITE_VERBS


class RequestLog:
    """Bounded, thread-safe; ``maxlen`` keeps a long demo session from growing without end."""

    def __init__(self, *, maxlen: int = 20_000) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    @property
    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def writes(self) -> list[LoggedRequest]:
        return [e for e in self.entries if e.is_write]

    def find(
        self,
        *,
        verb: str | None = None,
        resource: str | None = None,
        name: str | None = None,
        method: str | None = None,
    ) -> list[LoggedRequest]:
        return [
            e
            for e in self.entries
            if (verb is None or e.verb == verb)
            and (resource is None or e.resource == resource)
            and (name is None or e.name == name)
            and (method is None or e.method == method)
        ]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
