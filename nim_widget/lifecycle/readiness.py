"""Follow a deployment until it is ready, stopped or failed, reporting each change of stage.

A NIM needs minutes (several GB of image, then the model download and engine build), so the
follower watches instead of polling: one watch each on the InferenceService, its predictor Pods,
the model-cache PVC and the namespace's Events, fed into `stages.observe`. The timeout is measured
on an injectable clock (default 30 minutes: big models are slow), so tests drive it with the
sandbox's fake clock and never sleep.

The widget runs `Follower.run()` on its worker thread and `cancel()`s it from the UI; the CLI calls
`follow()`. Callbacks run on the thread that called `run()`; nothing here prints.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from nim_widget.cluster.api import Api, WatchEvent
from nim_widget.cluster.errors import Forbidden, NimWidgetError, Unavailable
from nim_widget.lifecycle import kinds as k
from nim_widget.lifecycle.errors import DeploymentNotFound
from nim_widget.lifecycle.stages import STAGE_TITLES, Progress, Snapshot, Stage, observe

__all__ = [
    "DEFAULT_TIMEOUT",
    "STAGE_TITLES",
    "Clock",
    "FollowResult",
    "Follower",
    "Progress",
    "Snapshot",
    "Stage",
    "SystemClock",
    "follow",
    "format_elapsed",
    "observe",
    "snapshot_of",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30 * 60.0
_TICK = 0.1  # real seconds between clock checks while no watch event arrives
_LINGER = 1.0  # at most this long (real seconds) to collect late events before reporting a failure
_QUIET = 0.25  # ... and stop as soon as the watches are quiet this long


class Clock(Protocol):
    """Anything with `now()` in seconds; the sandbox's FakeClock and RealClock both qualify."""

    def now(self) -> float: ...


class SystemClock:
    def now(self) -> float:
        return time.time()


@dataclass(frozen=True)
class FollowResult:
    """How following ended: the last progress, and whether time ran out or the caller cancelled."""

    progress: Progress
    timed_out: bool = False
    cancelled: bool = False

    @property
    def ready(self) -> bool:
        return self.progress.stage is Stage.READY

    @property
    def message(self) -> str:
        if self.timed_out:
            return (
                f"Not ready after {format_elapsed(self.progress.elapsed)}; "
                f"last stage: {self.progress.message}"
            )
        if self.cancelled:
            return f"Stopped following; last stage: {self.progress.message}"
        return self.progress.message


def format_elapsed(seconds: float) -> str:
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def snapshot_of(*, api: Api, namespace: str, name: str) -> Snapshot:
    """Read everything `observe` needs once (no watch): `nim-widget status` without --wait."""
    isvc = api.try_get(api_version=k.IS_API, kind=k.IS_KIND, name=name, namespace=namespace)
    if isvc is None:
        return Snapshot(name=name, namespace=namespace, inference_service=None)
    runtime = _runtime_of(api, namespace, isvc)
    mount = k.cache_mount(runtime)
    pvc = (
        api.try_get(api_version="v1", kind="PersistentVolumeClaim", name=mount.pvc, namespace=namespace)
        if mount
        else None
    )
    pods = api.list(
        api_version="v1", kind="Pod", namespace=namespace, label_selector=f"{k.PREDICTOR_POD_LABEL}={name}"
    )
    events = _list_events(api, namespace)
    return Snapshot(
        name=name,
        namespace=namespace,
        inference_service=isvc,
        runtime=runtime,
        pvc=pvc,
        pods=tuple(pods),
        events=tuple(events),
    )


def _runtime_of(api: Api, namespace: str, isvc: Mapping[str, Any]) -> dict[str, Any] | None:
    runtime = k.runtime_name(isvc)
    if not runtime:
        return None
    try:
        return api.try_get(api_version=k.SR_API, kind=k.SR_KIND, name=runtime, namespace=namespace)
    except Forbidden:
        return None


def _list_events(api: Api, namespace: str) -> list[dict[str, Any]]:
    try:
        return api.list(api_version="v1", kind="Event", namespace=namespace)
    except Forbidden:
        return []  # events only explain; a user who may not read them still gets the stage


@dataclass(frozen=True)
class _Feed:
    """One watch: which kind, which selector, and where its objects go in the snapshot."""

    key: str
    api_version: str
    kind: str
    label_selector: str | None = None
    field_selector: str | None = None
    required: bool = False


class Follower:
    """Watches one deployment and calls `on_progress` whenever its stage or message changes."""

    def __init__(
        self,
        *,
        api: Api,
        namespace: str,
        name: str,
        on_progress: Callable[[Progress], None] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Clock | None = None,
        watch_timeout: int = 30,
    ) -> None:
        self._api = api
        self._namespace = namespace
        self._name = name
        self._on_progress = on_progress
        self._timeout = timeout
        self._clock: Clock = clock or SystemClock()
        self._watch_timeout = watch_timeout
        self._stop = threading.Event()
        self._queue: queue.Queue[tuple[str, WatchEvent | Exception]] = queue.Queue()
        self._isvc: dict[str, Any] | None = None
        self._runtime: dict[str, Any] | None = None
        self._pvc: dict[str, Any] | None = None
        self._pods: dict[str, dict[str, Any]] = {}
        self._events: dict[str, dict[str, Any]] = {}
        self._threads: list[threading.Thread] = []
        self._start_rv: str | None = None

    def cancel(self) -> None:
        """Stop following; `run()` returns with `cancelled=True` within a fraction of a second."""
        self._stop.set()

    def snapshot(self) -> Snapshot:
        return Snapshot(
            name=self._name,
            namespace=self._namespace,
            inference_service=self._isvc,
            runtime=self._runtime,
            pvc=self._pvc,
            pods=tuple(self._pods[n] for n in sorted(self._pods)),
            events=tuple(self._events.values()),
        )

    def run(self) -> FollowResult:
        start = self._clock.now()
        initial = snapshot_of(api=self._api, namespace=self._namespace, name=self._name)
        self._isvc = dict(initial.inference_service) if initial.inference_service else None
        self._start_rv = str(k.meta(self._isvc).get("resourceVersion") or "") or None
        self._runtime = dict(initial.runtime) if initial.runtime else None
        self._pvc = dict(initial.pvc) if initial.pvc else None
        self._pods = {k.name_of(p): dict(p) for p in initial.pods}
        self._events = {_event_key(e): dict(e) for e in initial.events}
        last = self._emit(None, start)
        if last.terminal:
            return FollowResult(progress=last)
        self._start_watches()
        try:
            while True:
                if self._stop.is_set():
                    return FollowResult(progress=last, cancelled=True)
                if self._clock.now() - start >= self._timeout:
                    return FollowResult(
                        progress=replace(last, elapsed=self._clock.now() - start), timed_out=True
                    )
                try:
                    item = self._queue.get(timeout=_TICK)
                except queue.Empty:
                    continue
                self._apply(item)
                while True:  # fold a burst of events into one observation
                    try:
                        self._apply(self._queue.get_nowait())
                    except queue.Empty:
                        break
                last = self._emit(last, start)
                if last.stage is Stage.FAILED:
                    last = self._linger(last, start)
                if last.terminal:
                    return FollowResult(progress=last)
        finally:
            self._stop.set()

    # -- internals ---------------------------------------------------------------------------------

    def _linger(self, last: Progress, start: float) -> Progress:
        """Before reporting a failure, take what the other watches are still delivering.

        Pods and Events arrive on separate streams: a Pod may say ErrImagePull a moment before the
        Event that names the missing pull secret arrives, and the failure should carry the reason.
        """
        deadline = time.monotonic() + _LINGER
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                self._apply(self._queue.get(timeout=min(remaining, _QUIET)))
            except queue.Empty:
                break
        return self._emit(last, start)

    def _emit(self, last: Progress | None, start: float) -> Progress:
        progress = replace(observe(self.snapshot()), elapsed=self._clock.now() - start)
        if progress.same_as(last):
            assert last is not None
            return last
        if self._on_progress is not None:
            try:
                self._on_progress(progress)
            except Exception:  # a broken display must not stop the following
                log.exception("on_progress callback failed")
        return progress

    def _feeds(self) -> list[_Feed]:
        feeds = [
            _Feed("isvc", k.IS_API, k.IS_KIND, field_selector=f"metadata.name={self._name}", required=True),
            _Feed("pod", "v1", "Pod", label_selector=f"{k.PREDICTOR_POD_LABEL}={self._name}"),
            _Feed("event", "v1", "Event"),
        ]
        mount = k.cache_mount(self._runtime)
        if mount is not None:
            feeds.append(
                _Feed("pvc", "v1", "PersistentVolumeClaim", field_selector=f"metadata.name={mount.pvc}")
            )
        return feeds

    def _start_watches(self) -> None:
        for feed in self._feeds():
            thread = threading.Thread(
                target=self._watch_loop, args=(feed,), name=f"nim-widget-watch-{feed.key}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _watch_loop(self, feed: _Feed) -> None:
        # Start from the InferenceService's resourceVersion, read before every other initial read, so
        # a change made between those reads and this watch (a deletion above all) is replayed.
        resource_version = self._start_rv
        borrowed = resource_version is not None and feed.key != "isvc"
        failures = 0
        while not self._stop.is_set():
            try:
                for event in self._api.watch(
                    api_version=feed.api_version,
                    kind=feed.kind,
                    namespace=self._namespace,
                    resource_version=resource_version,
                    label_selector=feed.label_selector,
                    field_selector=feed.field_selector,
                    timeout_seconds=self._watch_timeout,
                ):
                    if self._stop.is_set():
                        continue  # read the stream to its end: an abandoned stream would go back
                        # to the connection pool half-read and confuse the next request on it
                    failures = 0
                    borrowed = False
                    resource_version = str(
                        k.meta(event.object).get("resourceVersion") or resource_version or ""
                    )
                    resource_version = resource_version or None
                    if event.type != "BOOKMARK":
                        self._queue.put((feed.key, event))
            except NimWidgetError as error:
                if error.status == 410 or borrowed:
                    # too old; or another kind's version this server will not take: start from now
                    resource_version, borrowed = None, False
                    continue
                if isinstance(error, Unavailable) and failures < 5:
                    failures += 1
                    self._stop.wait(min(2.0**failures, 10.0))
                    continue
                if feed.required:
                    self._queue.put(("error", error))
                return
            except Exception as error:  # a bug: report it from run(), not from this thread
                self._queue.put(("error", error))
                return

    def _apply(self, item: tuple[str, WatchEvent | Exception]) -> None:
        key, payload = item
        if isinstance(payload, Exception):
            raise payload
        obj, deleted = payload.object, payload.type == "DELETED"
        if key == "isvc":
            self._isvc = None if deleted else obj
        elif key == "pvc":
            self._pvc = None if deleted else obj
        elif key == "pod":
            if deleted:
                self._pods.pop(k.name_of(obj), None)
            else:
                self._pods[k.name_of(obj)] = obj
        elif key == "event" and not deleted:
            self._events[_event_key(obj)] = obj


def _event_key(event: Mapping[str, Any]) -> str:
    meta = k.meta(event)
    return str(meta.get("uid") or meta.get("name") or id(event))


def follow(
    *,
    api: Api,
    namespace: str,
    name: str,
    on_progress: Callable[[Progress], None] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    clock: Clock | None = None,
) -> FollowResult:
    """Follow until ready, stopped, failed or `timeout` seconds on `clock`; raise NotFound early."""
    follower = Follower(
        api=api, namespace=namespace, name=name, on_progress=on_progress, timeout=timeout, clock=clock
    )
    result = follower.run()
    if result.progress.stage is Stage.FAILED and follower.snapshot().inference_service is None:
        raise DeploymentNotFound(namespace=namespace, name=name)
    return result
