"""`nim-widget app`: the wizard as a web page (Voila), on a real cluster or the demo cluster.

Only argument parsing lives here; :mod:`nim_widget.app` is imported when the command runs, so the
other sub-commands do not pay for it.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the `app` sub-command to the `nim-widget` dispatcher."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "app",
        help="serve the deploy wizard as a web app (Voila)",
        description=(
            "Serve the NIM deploy wizard as a web page with Voila. Without a kubeconfig or in-cluster "
            "configuration (or with --demo), it starts the built-in demo cluster and runs on it."
        ),
    )
    parser.add_argument("--demo", action="store_true", help="run on the built-in demo cluster")
    parser.add_argument("--port", type=int, default=None, help="port to serve on (default 8866, else free)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (default: the usual lookup)")
    parser.add_argument("--context", metavar="NAME", help="kubeconfig context")
    parser.add_argument("--namespace", metavar="NS", help="project the wizard opens on")
    parser.add_argument(
        "--ip", default="127.0.0.1", help="address to bind (anything but loopback requires --token)"
    )
    parser.add_argument("--token", metavar="TOKEN", help="require this token to open the app")
    parser.add_argument(
        "--kubeconfig-out",
        metavar="PATH",
        help="demo only: also write the demo cluster's kubeconfig here (for kubectl or tests)",
    )
    parser.add_argument("--debug", action="store_true", help="show notebook tracebacks on the page")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from nim_widget.app import AppOptions, run_app

    return run_app(
        options=AppOptions(
            demo=args.demo,
            port=args.port,
            open_browser=not args.no_browser,
            kubeconfig=args.kubeconfig,
            context=args.context,
            namespace=args.namespace,
            ip=args.ip,
            token=args.token,
            kubeconfig_out=args.kubeconfig_out,
            debug=args.debug,
        )
    )
