"""The Sandbox object itself: clocks, extra kinds, kubeconfig, lifecycle."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import urllib3
from kubernetes import client
from kubernetes import config as kube_config

from nim_widget.sandbox import FakeClock, Kind, RealClock, Sandbox, rfc3339

config: Any = kube_config  # the config loaders are untyped


def test_fake_clock_runs_due_callbacks_in_time_order_including_ones_scheduled_meanwhile() -> None:
    clock = FakeClock()
    seen: list[tuple[str, float]] = []
    clock.call_later(5, lambda: seen.append(("five", clock.now())))

    def two() -> None:
        seen.append(("two", clock.now()))
        clock.call_later(1, lambda: seen.append(("two+one", clock.now())))

    clock.call_later(2, two)
    clock.call_later(20, lambda: seen.append(("twenty", clock.now())))
    start = clock.now()
    clock.advance(10)
    assert seen == [("two", start + 2), ("two+one", start + 3), ("five", start + 5)]
    assert clock.now() == start + 10
    assert clock.pending() == 1


def test_fake_clock_starts_on_new_years_day_2026() -> None:
    assert rfc3339(FakeClock().now()) == "2026-01-01T00:00:00Z"


def test_real_clock_runs_callbacks_on_its_scheduler_thread() -> None:
    clock = RealClock()
    done = threading.Event()
    ran_on: list[str] = []

    def record() -> None:
        ran_on.append(threading.current_thread().name)
        done.set()

    clock.call_later(0.01, record)
    try:
        assert done.wait(5)
        assert ran_on == ["sandbox-clock"]
    finally:
        clock.stop()


def test_register_kind_is_one_call_and_the_kind_is_served(empty_sandbox: Sandbox, empty_raw: Any) -> None:
    empty_sandbox.register_kind(Kind("example.com", "v1", "Widget", "widgets", True, ("wd",)))
    resources = empty_raw.get("/apis/example.com/v1").json["resources"]
    assert resources[0]["name"] == "widgets" and resources[0]["shortNames"] == ["wd"]
    empty_raw.post("/api/v1/namespaces", {"metadata": {"name": "demo"}})
    created = empty_raw.post(
        "/apis/example.com/v1/namespaces/demo/widgets",
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
    )
    assert created.status == 201 and created.json["metadata"]["generation"] == 1
    missing = empty_raw.get("/apis/example.com/v1/namespaces/demo/widgets/nope")
    assert missing.json["message"] == 'widgets.example.com "nope" not found'


def test_kubeconfig_loads_with_the_official_config_loader(sandbox: Sandbox, tmp_path: Path) -> None:
    path = sandbox.write_kubeconfig(tmp_path / "kubeconfig", namespace="demo")
    api_client = config.new_client_from_config(config_file=str(path))
    core: Any = client.CoreV1Api(api_client)
    namespaces = core.list_namespace()
    assert {n.metadata.name for n in namespaces.items} >= {"demo", "opendatahub"}
    _, context = config.list_kube_config_contexts(config_file=str(path))
    assert context["name"] == "nim-sandbox" and context["context"]["namespace"] == "demo"


def test_kubeconfig_carries_the_token(tmp_path: Path) -> None:
    with Sandbox(world=None, clock=FakeClock(), controllers=False, token="s3cret") as sb:
        path = sb.write_kubeconfig(tmp_path / "kubeconfig")
        assert path.stat().st_mode & 0o077 == 0  # the token is readable by the owner only
        api: Any = client.CoreV1Api(config.new_client_from_config(config_file=str(path)))
        assert api.list_namespace().items == []


def test_url_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        _ = Sandbox(world=None).url


def test_stop_closes_the_port() -> None:
    sb = Sandbox(world=None, clock=FakeClock(), controllers=False).start()
    configuration = sb.configuration()
    configuration.retries = False
    api: Any = client.CoreV1Api(client.ApiClient(configuration))
    api.list_namespace()
    sb.stop()
    with pytest.raises(urllib3.exceptions.HTTPError):
        api.list_namespace(_request_timeout=2)
