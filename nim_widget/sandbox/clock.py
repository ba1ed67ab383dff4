"""Injectable time for the sandbox: timestamps and the timed work of the simulated controllers.

Tests drive a ``FakeClock`` by hand (nothing moves until ``advance``), so they never sleep and
every run is the same; the demo uses ``RealClock`` whose single scheduler thread makes the
simulated cluster progress on its own.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def call_later(self, delay: float, fn: Callable[[], None]) -> None: ...


def rfc3339(ts: float) -> str:
    """Kubernetes' ``metav1.Time`` wire format: whole seconds, UTC, ``Z``."""
    return datetime.fromtimestamp(int(ts), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeClock:
    """A clock that only moves when told to; due callbacks run in the caller's thread."""

    def __init__(self, *, start: float = 1_767_225_600.0) -> None:
        self._now = start
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._lock = threading.RLock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        with self._lock:
            heapq.heappush(self._queue, (self._now + max(0.0, delay), next(self._seq), fn))

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def advance(self, seconds: float) -> None:
        """Run every callback due within the window in time order, then land on the window's end.

        Callbacks scheduled while advancing run too when they fall due inside the window, which is
        how a controller's chain of timed transitions plays out in one call.
        """
        with self._lock:
            end = self._now + seconds
        while True:
            with self._lock:
                if not self._queue or self._queue[0][0] > end:
                    self._now = max(self._now, end)
                    return
                due, _, fn = heapq.heappop(self._queue)
                self._now = max(self._now, due)
            fn()


class RealClock:
    """Wall time; callbacks run on one daemon scheduler thread so they never overlap each other."""

    def __init__(self) -> None:
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def now(self) -> float:
        return time.time()

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        with self._cond:
            if self._stopped:
                return
            heapq.heappush(self._queue, (time.monotonic() + max(0.0, delay), next(self._seq), fn))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sandbox-clock", daemon=True)
                self._thread.start()
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._queue)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._queue.clear()
            self._cond.notify()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._queue or self._queue[0][0] > time.monotonic()):
                    timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _, _, fn = heapq.heappop(self._queue)
            try:
                fn()
            except Exception:  # a failing controller step must not stop the demo cluster
                logging.getLogger(__name__).exception("sandbox clock callback failed")
