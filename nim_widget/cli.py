"""The `nim-widget` command: a thin dispatcher.

Each area of the package registers its own sub-commands so that the CLI grows without one module
knowing every option; areas are imported lazily so `nim-widget sandbox` does not pay for ipywidgets.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Modules that expose `register(subparsers) -> None`; each sub-parser sets `func(args) -> int`.
_COMMAND_MODULES = (
    "nim_widget.cli_sandbox",
    "nim_widget.cli_engine",
    "nim_widget.cli_lifecycle",
    "nim_widget.cli_app",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nim-widget",
        description="Deploy NVIDIA NIM models onto Kubernetes / OpenShift AI.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # that area is not part of this build
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
