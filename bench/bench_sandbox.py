"""Sandbox benchmarks through the official client: round trip, large list, memory per object.

Run: ``.venv/bin/python bench/bench_sandbox.py``. Targets (issue 2): create + get median under
5 ms, listing 1,000 objects under 150 ms, 10,000 stored objects under 100 MB. The memory figure
is the resident-set growth of a sandbox running in its own process (``nim-widget sandbox``), so
the client's own allocations are not counted.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from kubernetes import client

from nim_widget.sandbox import FakeClock, Sandbox

ROUND_TRIPS = 500
LIST_SIZE = 1_000
LIST_RUNS = 20
MEMORY_OBJECTS = 10_000


def config_map(name: str) -> dict[str, Any]:
    """A ConfigMap of a realistic size (about 0.5 KB of JSON)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/part-of": "nim-widget", "bench": "true"},
            "annotations": {"opendatahub.io/display-name": f"Benchmark object {name}"},
        },
        "data": {"model": "meta/llama-3.1-8b-instruct", "tag": "1.8.6", "notes": "x" * 200},
    }


def median_ms(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def bench_round_trip(sb: Sandbox) -> None:
    core: Any = client.CoreV1Api(sb.api_client())
    custom: Any = client.CustomObjectsApi(sb.api_client())
    counter = iter(range(10**9))

    def core_round_trip() -> None:
        name = f"rt-{next(counter)}"
        core.create_namespaced_config_map("bench", config_map(name))
        core.read_namespaced_config_map(name, "bench")

    def custom_round_trip() -> None:
        name = f"rt-{next(counter)}"
        body = {
            "apiVersion": "serving.kserve.io/v1alpha1",
            "kind": "ServingRuntime",
            "metadata": {"name": name},
            "spec": {
                "containers": [{"name": "kserve-container", "image": "nvcr.io/nim/meta/llama:1.8.6"}],
                "supportedModelFormats": [{"name": "llama", "autoSelect": True}],
            },
        }
        custom.create_namespaced_custom_object(
            "serving.kserve.io", "v1alpha1", "bench", "servingruntimes", body
        )
        custom.get_namespaced_custom_object("serving.kserve.io", "v1alpha1", "bench", "servingruntimes", name)

    median_ms(core_round_trip, 20)  # warm the connection pool and the client's model classes
    print(
        f"create+get ConfigMap (CoreV1Api), median of {ROUND_TRIPS}:        "
        f"{median_ms(core_round_trip, ROUND_TRIPS):7.2f} ms   (target < 5 ms)"
    )
    median_ms(custom_round_trip, 20)
    print(
        f"create+get ServingRuntime (CustomObjectsApi), median of {ROUND_TRIPS}: "
        f"{median_ms(custom_round_trip, ROUND_TRIPS):7.2f} ms   (target < 5 ms)"
    )


def bench_list(sb: Sandbox) -> None:
    core: Any = client.CoreV1Api(sb.api_client())
    core.create_namespace({"metadata": {"name": "listing"}})
    for i in range(LIST_SIZE):
        core.create_namespaced_config_map("listing", config_map(f"item-{i:04d}"))
    assert len(core.list_namespaced_config_map("listing").items) == LIST_SIZE
    typed = median_ms(lambda: core.list_namespaced_config_map("listing"), LIST_RUNS)
    raw = median_ms(
        lambda: core.list_namespaced_config_map("listing", _preload_content=False).read(), LIST_RUNS
    )
    dicts = median_ms(
        lambda: json.loads(core.list_namespaced_config_map("listing", _preload_content=False).data), LIST_RUNS
    )
    print(
        f"list {LIST_SIZE} ConfigMaps, CoreV1Api (pydantic models), median: {typed:7.2f} ms"
        "   (target < 150 ms)"
    )
    print(f"list {LIST_SIZE} ConfigMaps, decoded to dicts (json.loads), median: {dicts:7.2f} ms")
    print(f"list {LIST_SIZE} ConfigMaps, server + wire only (no decoding), median: {raw:7.2f} ms")


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def bench_memory() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nim_widget", "sandbox", "--empty", "--no-controllers"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        config = client.Configuration()
        config.host = url
        core: Any = client.CoreV1Api(client.ApiClient(config))
        core.create_namespace({"metadata": {"name": "memory"}})
        for i in range(200):  # warm-up: imports, code paths, the first pages of every structure
            core.create_namespaced_config_map("memory", config_map(f"warm-{i}"))
        before = _rss_kb(proc.pid)
        started = time.perf_counter()
        for i in range(MEMORY_OBJECTS):
            core.create_namespaced_config_map("memory", config_map(f"obj-{i:05d}"))
        elapsed = time.perf_counter() - started
        after = _rss_kb(proc.pid)
        print(
            f"memory for {MEMORY_OBJECTS} ConfigMaps (server RSS growth):       "
            f"{(after - before) / 1024:7.1f} MB   (target < 100 MB; total RSS {after / 1024:.1f} MB)"
        )
        print(
            f"  ({MEMORY_OBJECTS} creates took {elapsed:.1f} s, "
            f"{elapsed / MEMORY_OBJECTS * 1000:.2f} ms each)"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    with Sandbox(world=None, clock=FakeClock(), controllers=False) as sb:
        client.CoreV1Api(sb.api_client()).create_namespace({"metadata": {"name": "bench"}})  # type: ignore[arg-type]
        bench_round_trip(sb)
        bench_list(sb)
    bench_memory()


if __name__ == "__main__":
    main()
