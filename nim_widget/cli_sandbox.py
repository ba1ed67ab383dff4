"""``nim-widget sandbox``: run the local Kubernetes API server in the foreground.

Useful on its own (point kubectl or a notebook at it) and as what ``make sandbox`` runs. It stops
cleanly on Ctrl-C and on SIGTERM, so a supervisor or a CI step can end it like any server.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="run the local Kubernetes API server (the sandbox) in the foreground",
        description="Serve a Kubernetes-compatible API on 127.0.0.1 with the OpenShift AI NIM demo world.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free port)")
    parser.add_argument(
        "--kubeconfig-out", metavar="PATH", help="write a kubeconfig for this sandbox to PATH"
    )
    parser.add_argument("--empty", action="store_true", help="start without the demo world")
    parser.add_argument("--no-controllers", action="store_true", help="do not run the simulated controllers")
    parser.add_argument("--token", help="require this bearer token from clients")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nim_widget.sandbox import Sandbox

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    sandbox = Sandbox(
        world=None if args.empty else "demo",
        controllers=not args.no_controllers,
        token=args.token,
        port=args.port,
    )
    try:
        sandbox.start()
        # the kubeconfig exists before the URL is announced: whoever waits for that line can use both
        path = (
            sandbox.write_kubeconfig(args.kubeconfig_out, namespace="demo") if args.kubeconfig_out else None
        )
        print(f"nim-widget sandbox serving at {sandbox.url}", flush=True)
        if path is not None:
            print(f"kubeconfig written to {path} (context nim-sandbox, namespace demo)", flush=True)
            print(f"try: KUBECONFIG={path} kubectl get inferenceservices", flush=True)
        print("press Ctrl-C to stop", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    except OSError as exc:
        print(f"nim-widget sandbox: {exc}", file=sys.stderr)
        return 1
    finally:
        sandbox.stop()
        signal.signal(signal.SIGTERM, previous)
    print("sandbox stopped", flush=True)
    return 0
