"""Fixtures for the lifecycle tests: an Api on the sandbox, deployments, and a readiness follower
running on a thread while the test moves the sandbox's fake clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from nim_widget.cluster.api import Api
from nim_widget.deploy import deploy
from nim_widget.lifecycle.readiness import Follower, FollowResult, Progress, snapshot_of
from nim_widget.lifecycle.stages import Stage, observe
from nim_widget.request import DeploymentRequest
from nim_widget.sandbox import FakeClock, Sandbox

SETTLE_SECONDS = 10.0  # real time the follower may take to see what the sandbox already did


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[Api]:
    configuration = sandbox.configuration()
    with client.ApiClient(configuration) as api_client:
        yield Api(api_client=api_client)


def advance(sandbox: Sandbox, seconds: float) -> None:
    """Move the sandbox's fake clock (its controllers run in this thread)."""
    clock = sandbox.clock
    assert isinstance(clock, FakeClock)
    clock.advance(seconds)


def wait_for(check: Callable[[], bool], *, what: str, seconds: float = SETTLE_SECONDS) -> None:
    """Poll `check` until it holds, failing after `seconds` of real time."""
    deadline = time.monotonic() + seconds
    pause = threading.Event()
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        pause.wait(0.01)


def request_for(**fields: Any) -> DeploymentRequest:
    data: dict[str, Any] = {
        "project": "demo",
        "displayName": "Llama small",
        "model": "llama-3.2-1b-instruct",
        "hardwareProfile": "nvidia-gpu-1x",
        "storage": {"mode": "new", "size": "20Gi"},
    }
    data.update(fields)
    return DeploymentRequest.model_validate(data, by_alias=True, by_name=False)


@pytest.fixture
def deployed(sandbox: Sandbox, api: Api) -> DeploymentRequest:
    """A nim-widget deployment just created by the orchestrator (not yet ready)."""
    request = request_for()
    deploy(api=api, request=request, clock=sandbox.clock)
    return request


class FollowRun:
    """A `Follower` on a thread; the test advances the fake clock and `settle()`s between steps."""

    def __init__(self, *, sandbox: Sandbox, api: Api, name: str, timeout: float = 1800.0) -> None:
        self.sandbox = sandbox
        self.api = api
        self.name = name
        self.seen: list[Progress] = []
        self._cond = threading.Condition()
        self.follower = Follower(
            api=api,
            namespace="demo",
            name=name,
            on_progress=self._record,
            timeout=timeout,
            clock=sandbox.clock,
        )
        self.result: FollowResult | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _record(self, progress: Progress) -> None:
        with self._cond:
            self.seen.append(progress)
            self._cond.notify_all()

    def _run(self) -> None:
        try:
            self.result = self.follower.run()
        except BaseException as exc:  # surfaced by finish()
            self.error = exc
        with self._cond:
            self._cond.notify_all()

    def watching(self) -> None:
        """Wait until the follower's four watches are open on the sandbox."""
        kinds = {"inferenceservices", "pods", "persistentvolumeclaims", "events"}
        wait_for(
            lambda: kinds <= {e.resource for e in self.sandbox.log.entries if e.verb == "watch"},
            what="the follower's watches",
        )

    def settle(self) -> Progress:
        """Wait (event-driven, with a deadline) until the follower reports what a fresh read shows."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            expected = observe(snapshot_of(api=self.api, namespace="demo", name=self.name))
            with self._cond:
                if self.seen and self.seen[-1].same_as(expected):
                    return self.seen[-1]
                if not self.thread.is_alive() and self.seen:
                    return self.seen[-1]
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"follower stuck at {self.seen[-1:]} while the cluster says {expected}"
                self._cond.wait(timeout=min(remaining, 0.2))

    def advance_until(
        self, done: Callable[[Progress], bool], *, step: float = 1.0, limit: float = 600.0
    ) -> Progress:
        """Move the fake clock `step` seconds at a time until `done(progress)` or `limit` seconds."""
        progress = self.settle()
        moved = 0.0
        while not done(progress):
            assert moved < limit, f"not done after {limit} s of cluster time; last: {progress.message}"
            advance(self.sandbox, step)
            moved += step
            progress = self.settle()
        return progress

    def finish(self) -> FollowResult:
        self.thread.join(timeout=SETTLE_SECONDS)
        assert not self.thread.is_alive(), "the follower did not return"
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result

    def stages(self) -> list[Stage]:
        out: list[Stage] = []
        for progress in self.seen:
            if not out or out[-1] is not progress.stage:
                out.append(progress.stage)
        return out


@pytest.fixture
def follow(sandbox: Sandbox, api: Api) -> Iterator[Callable[..., FollowRun]]:
    runs: list[FollowRun] = []

    def start(name: str, **kw: Any) -> FollowRun:
        run = FollowRun(sandbox=sandbox, api=api, name=name, **kw)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.follower.cancel()
        run.thread.join(timeout=SETTLE_SECONDS)


def ready(progress: Progress) -> bool:
    return progress.terminal
