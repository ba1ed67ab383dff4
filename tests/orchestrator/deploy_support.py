"""Helpers for the orchestrator tests: a spec, the request log settled, and store snapshots."""

from __future__ import annotations

import contextlib
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from nim_widget.deploy.steps import StepEvent
from nim_widget.sandbox import FakeClock, LoggedRequest, Sandbox

SERVING_RUNTIMES = "servingruntimes.serving.kserve.io"
INFERENCE_SERVICES = "inferenceservices.serving.kserve.io"
WATCHED = (SERVING_RUNTIMES, INFERENCE_SERVICES, "persistentvolumeclaims", "secrets", "configmaps")
API_KEY = "nvapi-DEMO-sandbox-key-not-valid-0000000000000000000000000000000000000"
API_KEY_B64 = (
    "bnZhcGktREVNTy1zYW5kYm94LWtleS1ub3QtdmFsaWQtMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA=="
)


def spec(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "project": "demo",
        "displayName": "Llama 3.1 8B",
        "model": "llama-3.1-8b-instruct",
        "storage": {"mode": "new", "pvcName": "llama-cache", "size": "50Gi", "subPath": "llama"},
        "hardwareProfile": "nvidia-gpu-1x",
        "replicas": 1,
    }
    base.update(changes)
    return base


def settled(sandbox: Sandbox) -> list[LoggedRequest]:
    """The request log once every answered request is in it.

    The sandbox records a request just after sending its answer; a marker request, answered after
    every earlier one, closes that gap."""
    marker = f"log-marker-{len(sandbox.log)}"
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(f"{sandbox.url}/api/v1/namespaces/demo/serviceaccounts/{marker}", timeout=10)
    deadline = time.monotonic() + 5
    pause = threading.Event()
    while not sandbox.log.find(name=marker):
        assert time.monotonic() < deadline, "the sandbox never logged the marker request"
        pause.wait(0.001)
    return [e for e in sandbox.log.entries if e.name != marker]


# Access reviews: POSTs (sent as dry runs) that store nothing; the pre-flight asks them before any write.
REVIEWS = "selfsubjectaccessreviews"


def real_writes(sandbox: Sandbox, *, since: int = 0) -> list[LoggedRequest]:
    return [e for e in settled(sandbox)[since:] if e.is_write and not e.dry_run]


def body_name(entry: LoggedRequest) -> str:
    if entry.name:
        return entry.name
    return str(((entry.body or {}).get("metadata") or {}).get("name") or "")


def snapshot(sandbox: Sandbox) -> dict[tuple[str, str, str], str]:
    """(kind, namespace, name) -> resourceVersion of every object a deployment could touch."""
    result: dict[tuple[str, str, str], str] = {}
    for key in WATCHED:
        items, _ = sandbox.store.list(key)
        for obj in items:
            meta = obj["metadata"]
            result[(key, meta.get("namespace", ""), meta["name"])] = meta["resourceVersion"]
    return result


def event_text(events: list[StepEvent]) -> str:
    return "\n".join(f"{e!r} {e.line()} {e.manifests!r}" for e in events)


def advance(sandbox: Sandbox, seconds: float) -> None:
    """Let the sandbox's controllers do `seconds` worth of work (tests run it on a FakeClock)."""
    clock = sandbox.clock
    assert isinstance(clock, FakeClock)
    clock.advance(seconds)
