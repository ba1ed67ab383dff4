"""How many sequential round trips a new deployment costs, measured on the wire.

Run: ``.venv/bin/python bench/bench_deploy.py``. Each run deploys one model into a fresh demo
sandbox through a kubeconfig, as the CLI does: once as fast as the machine allows, then with the
sandbox adding 100 ms to every API request (fault-injection latency). With the latency, the wall
time divided by 100 ms is the number of sequential round trips; the target (issue 3) is at most 4:
account and reads, dry-run batch, the serving runtime (the lock), the remaining writes.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from nim_widget.cluster.api import Api
from nim_widget.cluster.connect import connect
from nim_widget.deploy import deploy
from nim_widget.sandbox import FakeClock, Sandbox

LATENCY = 0.100
RUNS = 5
SPEC = {
    "project": "demo",
    "displayName": "Llama 3.1 8B",
    "model": "llama-3.1-8b-instruct",
    "storage": {"mode": "new", "pvcName": "llama-cache", "size": "50Gi", "subPath": "llama"},
    "hardwareProfile": "nvidia-gpu-1x",
    "replicas": 1,
}


def sequential_rounds(arrivals: list[float], *, latency: float) -> int:
    """Requests that arrive within half a latency of a round's first request belong to that round: with
    every answer delayed by `latency`, a request that needed an earlier answer arrives a latency later."""
    rounds, start = 0, None
    for at in sorted(arrivals):
        if start is None or at - start > latency / 2:
            rounds, start = rounds + 1, at
    return rounds


def one_deployment(latency: float) -> tuple[float, int, int, int]:
    """(wall seconds, API requests, of which writes, sequential rounds on the wire) for one new
    deployment in a fresh sandbox."""
    with Sandbox(world="demo", clock=FakeClock()) as sandbox, tempfile.TemporaryDirectory() as tmp:
        path = sandbox.write_kubeconfig(Path(tmp) / "kubeconfig", namespace="demo")
        with connect(kubeconfig=path) as connection:
            api = Api(api_client=connection.api_client)
            api.list(api_version="v1", kind="Namespace")  # open a connection before timing
            if latency:
                sandbox.faults.add(latency=latency, times=1_000_000)
            start = len(sandbox.log)
            began = time.perf_counter()
            deploy(api=api, request=SPEC)
            wall = time.perf_counter() - began
        sandbox.faults.clear()
        entries = sandbox.log.entries[start:]
        rounds = sequential_rounds([e.received for e in entries], latency=latency) if latency else 0
        return wall, len(entries), sum(1 for e in entries if e.is_write), rounds


def main() -> int:
    print(f"new deployment, demo world, {RUNS} runs each (median)")
    fast = [one_deployment(0.0) for _ in range(RUNS)]
    slow = [one_deployment(LATENCY) for _ in range(RUNS)]
    fast_wall = statistics.median(run[0] for run in fast)
    slow_wall = statistics.median(run[0] for run in slow)
    requests, writes = fast[0][1], fast[0][2]
    rounds = sorted({run[3] for run in slow})
    print(
        f"API requests per deployment: {requests} ({requests - writes} reads, {writes} writes incl. dry runs)"
    )
    print(f"0 ms added:   {fast_wall * 1000:7.1f} ms")
    print(f"100 ms added: {slow_wall * 1000:7.1f} ms")
    print(f"effective sequential round trips (wall / 100 ms): {slow_wall / LATENCY:.2f}")
    print(
        f"round trips caused by the latency ((wall - wall at 0 ms) / 100 ms): "
        f"{(slow_wall - fast_wall) / LATENCY:.2f}"
    )
    print(
        f"sequential rounds of requests on the wire (arrival times, each run): "
        f"{', '.join(map(str, rounds))} (target: at most 4)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
