"""`nim-widget render` and `nim-widget deploy`: the deploy engine on the command line.

Both read a spec file (`-f SPEC`, `-f -` for stdin), connect like kubectl (`--kubeconfig`,
`--context`, then the in-cluster service account) and read the template and catalog from the cluster.
Exit codes: 0 success; 1 the cluster refused or a step failed; 2 bad input, including names the
cluster does not have. Expected failures print a sentence on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # the kubernetes client takes a second to import: only the commands pay for it
    from nim_widget.cluster.errors import NimWidgetError
    from nim_widget.request import DeploymentRequest, SpecError

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f",
        "--filename",
        required=True,
        metavar="SPEC",
        help="the deployment spec file (YAML); - reads standard input",
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="the deployment exists: update it (PUT guarded by resourceVersion)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="with --update: replace concurrent changes (JSON patch) instead of failing",
    )
    parser.add_argument(
        "--kubeconfig",
        metavar="PATH",
        help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)",
    )
    parser.add_argument("--context", metavar="NAME", help="kubeconfig context (default: the current one)")


def register(subparsers: Any) -> None:
    """Add `render` and `deploy` to the `nim-widget` dispatcher."""
    p = subparsers.add_parser(
        "render",
        help="print the objects a deploy would write (YAML, secrets redacted)",
        description="Read the template and catalog from the cluster and print, as multi-document YAML, "
        "exactly what `nim-widget deploy` would write. Nothing is written.",
    )
    _common(p)
    p.set_defaults(func=cmd_render)

    p = subparsers.add_parser(
        "deploy",
        help="deploy a NIM model from a spec file",
        description="Run the 12 deployment steps, printing one line per step event. Every write is "
        "dry-run first; a failure after the first write undoes this run's writes.",
    )
    _common(p)
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="let the cluster check every write (dryRun=All) without storing anything",
    )
    p.add_argument(
        "--wait",
        action="store_true",
        help="after deploying, follow the deployment until it is ready or has failed",
    )
    p.add_argument(
        "--timeout",
        type=_timeout,
        default=1800.0,
        metavar="S",
        help="with --wait: give up after S seconds (default 1800; big models are slow)",
    )
    p.set_defaults(func=cmd_deploy)


def _timeout(text: str) -> float:
    from nim_widget.cli_lifecycle import seconds_argument

    return seconds_argument(text)


def _load(path: str, stdin: TextIO) -> DeploymentRequest:
    from nim_widget.request import load_spec, load_spec_file

    if path == "-":
        return load_spec(text=stdin.read())
    return load_spec_file(path=path)


def _report(error: NimWidgetError, out: TextIO) -> int:
    print(f"Error: {error}", file=out)
    for field, message in error.causes.items():
        # Bad input names its spec key even when the sentence above already said it: the author of
        # a spec file needs to know which line to fix (`model:`), as the spec-file problems do.
        if error.bad_input or message not in error.detail:
            print(f"  {field or 'object'}: {message}", file=out)
    return EXIT_BAD_INPUT if error.bad_input else EXIT_REFUSED


def _spec_problem(error: SpecError, out: TextIO) -> int:
    print("Error: the spec file is not valid:", file=out)
    for field, message in error.errors.items():
        print(f"  {field or 'spec'}: {message}", file=out)
    return EXIT_BAD_INPUT


def _read_request(args: argparse.Namespace, *, stderr: TextIO, stdin: TextIO) -> DeploymentRequest | int:
    """The request from the spec file, or the exit code of why there is none (bad flags or spec)."""
    from nim_widget.request import SpecError

    if not _check_flags(args, stderr):
        return EXIT_BAD_INPUT
    try:
        return _load(args.filename, stdin)
    except SpecError as error:
        return _spec_problem(error, stderr)


def _check_flags(args: argparse.Namespace, out: TextIO) -> bool:
    if args.overwrite and not args.update:
        print("Error: --overwrite applies only with --update", file=out)
        return False
    return True


def cmd_render(
    args: argparse.Namespace,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    from nim_widget.cluster.api import Api
    from nim_widget.cluster.connect import connect
    from nim_widget.cluster.discovery import gather
    from nim_widget.cluster.errors import NimWidgetError
    from nim_widget.deploy.validation import validation_error
    from nim_widget.manifests import assemble
    from nim_widget.request import validate_against_facts

    stdout, stderr, stdin = stdout or sys.stdout, stderr or sys.stderr, stdin or sys.stdin
    request = _read_request(args, stderr=stderr, stdin=stdin)
    if isinstance(request, int):
        return request
    try:
        with connect(kubeconfig=args.kubeconfig, context=args.context) as connection:
            api = Api(api_client=connection.api_client)
            facts = gather(api=api, project=request.project)
            failure = validation_error(
                errors=validate_against_facts(request=request, facts=facts, update=args.update), facts=facts
            )
            if failure is not None:
                raise failure
            plan = assemble(request=request, facts=facts, update=args.update, overwrite=args.overwrite)
    except NimWidgetError as error:
        return _report(error, stderr)
    stdout.write(plan.render_yaml())
    return EXIT_OK


def cmd_deploy(
    args: argparse.Namespace,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    from nim_widget.cluster.api import Api
    from nim_widget.cluster.connect import connect
    from nim_widget.cluster.errors import NimWidgetError
    from nim_widget.deploy.orchestrator import deploy
    from nim_widget.deploy.steps import StepEvent, StepState

    stdout, stderr, stdin = stdout or sys.stdout, stderr or sys.stderr, stdin or sys.stdin
    request = _read_request(args, stderr=stderr, stdin=stdin)
    if isinstance(request, int):
        return request

    out = stdout

    def show(event: StepEvent) -> None:
        if event.state != StepState.PENDING:  # the checklist's initial state; a terminal needs no echo
            print(event.line(), file=out, flush=True)

    try:
        with connect(kubeconfig=args.kubeconfig, context=args.context) as connection:
            api = Api(api_client=connection.api_client)
            result = deploy(
                api=api,
                request=request,
                on_event=show,
                dry_run=args.dry_run,
                update=args.update,
                overwrite=args.overwrite,
            )
            print(result.summary(), file=stdout, flush=True)
            if getattr(args, "wait", False) and not args.dry_run:
                from nim_widget.cli_lifecycle import wait_for_ready

                return wait_for_ready(
                    api=api, namespace=request.project, name=request.name, timeout=args.timeout
                )
    except NimWidgetError as error:
        return _report(error, stderr)
    return EXIT_OK
