"""`nim-widget list | status | stop | start | delete | export | diff | access`: after the deploy.

Every command connects like kubectl (`--kubeconfig`, `--context`, then the in-cluster service
account), works in `-n NS` or the context's namespace, and exits 0 on success, 1 when the cluster
refuses or the deployment failed, 2 for bad input (including names the cluster does not have).
Expected failures print one human sentence on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import yaml

from nim_widget.cluster.api import Api
from nim_widget.cluster.connect import Connection, connect
from nim_widget.cluster.errors import NimWidgetError
from nim_widget.lifecycle import access, control, delete, listing, readiness
from nim_widget.lifecycle.errors import ConfirmationRequired
from nim_widget.lifecycle.extract import EditSession, export_request
from nim_widget.lifecycle.stages import Stage
from nim_widget.request import SpecError, dump_spec, load_spec, load_spec_file

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kubeconfig", metavar="PATH", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)"
    )
    parser.add_argument("--context", metavar="NAME", help="kubeconfig context (default: the current one)")
    parser.add_argument("-n", "--namespace", metavar="NS", help="project (default: the context's namespace)")


def _named(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the deployment's resource name (InferenceService)")
    _common(parser)


def register(subparsers: Any) -> None:
    """Add the lifecycle sub-commands to the `nim-widget` dispatcher."""
    p = subparsers.add_parser("list", help="list the NIM deployments of a project")
    _common(p)
    p.add_argument("-o", "--output", choices=("table", "yaml", "json"), default="table")
    p.set_defaults(func=cmd_list)

    p = subparsers.add_parser("status", help="show (or wait for) the readiness of a deployment")
    _named(p)
    p.add_argument("--wait", action="store_true", help="follow the deployment until it is ready or failed")
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=readiness.DEFAULT_TIMEOUT,
        metavar="S",
        help="give up waiting after S seconds (default 1800)",
    )
    p.add_argument("--show-token", action="store_true", help="print the access token instead of bullets")
    p.add_argument("-o", "--output", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_status)

    for verb, text in (
        ("stop", "stop a deployment (scale to zero, keep everything)"),
        ("start", "start a stopped deployment"),
    ):
        p = subparsers.add_parser(verb, help=text)
        _named(p)
        p.add_argument("--dry-run", action="store_true", help="ask the cluster to check the change only")
        p.set_defaults(func=cmd_stop if verb == "stop" else cmd_start)

    p = subparsers.add_parser("delete", help="delete a deployment and clean up what only it used")
    _named(p)
    p.add_argument(
        "--delete-storage",
        action="store_true",
        help="also delete the model cache PVC when no other deployment uses it",
    )
    p.add_argument(
        "--keep-secrets",
        action="store_true",
        help="keep the copied ngc-secret / nvidia-nim-secrets even when unused",
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_delete)

    p = subparsers.add_parser("export", help="print the spec file of a deployment (for deploy --update)")
    _named(p)
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser("diff", help="show the exact change `deploy --update` would make (JSON patch)")
    p.add_argument(
        "-f", "--filename", required=True, metavar="SPEC", help="the spec file; - reads standard input"
    )
    p.add_argument("--overwrite", action="store_true", help="preview the JSON-patch (overwrite) path")
    p.add_argument("-o", "--output", choices=("text", "json"), default="text")
    p.add_argument(
        "--kubeconfig", metavar="PATH", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)"
    )
    p.add_argument("--context", metavar="NAME", help="kubeconfig context (default: the current one)")
    p.set_defaults(func=cmd_diff, namespace=None)

    p = subparsers.add_parser("access", help="show or enable model access: URL, token and a curl example")
    _named(p)
    p.add_argument(
        "--enable",
        action="store_true",
        help="create token authentication (service account, role, token) as the dashboard does",
    )
    p.add_argument(
        "--internal-only",
        action="store_true",
        help="with --enable: require tokens but keep the model off the external route",
    )
    p.add_argument("--show-token", action="store_true", help="print the token instead of bullets")
    p.set_defaults(func=cmd_access)


# -- plumbing --------------------------------------------------------------------------------------


def _fail(error: NimWidgetError, *, err: TextIO) -> int:
    """One sentence (and the field causes it does not already say), as `deploy` prints them."""
    print(f"Error: {error}", file=err)
    for field, message in error.causes.items():
        if message not in error.detail:
            print(f"  {field or 'object'}: {message}", file=err)
    return EXIT_BAD_INPUT if error.bad_input else EXIT_REFUSED


def _run(args: argparse.Namespace, body: Callable[[Api, str], int], *, err: TextIO | None = None) -> int:
    stream = err if err is not None else sys.stderr
    try:
        connection: Connection = connect(kubeconfig=args.kubeconfig, context=args.context)
    except NimWidgetError as error:
        return _fail(error, err=stream)
    with connection:
        namespace = args.namespace or connection.namespace or "default"
        try:
            return body(Api(api_client=connection.api_client), namespace)
        except NimWidgetError as error:
            return _fail(error, err=stream)


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


# -- commands --------------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    def body(api: Api, namespace: str) -> int:
        rows = listing.list_deployments(api=api, namespace=namespace, now=time.time())
        if args.output == "json":
            print(json.dumps([r.to_dict() for r in rows], indent=2))
        elif args.output == "yaml":
            print(yaml.safe_dump([r.to_dict() for r in rows], sort_keys=False, allow_unicode=True), end="")
        elif not rows:
            print(f"No NIM deployments in project {namespace}.")
        else:
            header = (
                "NAME",
                "DISPLAY NAME",
                "MODEL",
                "TAG",
                "STATE",
                "REPLICAS",
                "HARDWARE",
                "STORAGE",
                "URL",
                "AGE",
                "BY",
            )
            lines = [header] + [
                (
                    r.name,
                    r.display_name,
                    r.model,
                    r.tag,
                    r.state.title,
                    r.replicas_text,
                    r.hardware_profile or "-",
                    r.storage_text or "-",
                    r.url or r.internal_url or "-",
                    listing.format_age(r.age_seconds),
                    r.made_by,
                )
                for r in rows
            ]
            print(_table(lines))
        return EXIT_OK

    return _run(args, body)


def _progress_line(progress: readiness.Progress) -> str:
    return f"[{readiness.format_elapsed(progress.elapsed):>8}] {progress.message}"


def _print_access(api: Api, namespace: str, name: str, *, reveal: bool) -> None:
    info = access.model_access(api=api, namespace=namespace, name=name)
    print(f"Endpoint: {info.endpoint}" + ("" if info.external else " (inside the cluster)"))
    if info.token_auth:
        if not info.tokens:
            print(f"Token: none (create one with `nim-widget access {name} --enable`)")
        for token in info.tokens:
            shown = token.reveal() if (reveal and token.issued) else token.masked
            print(f"Token ({token.secret_name}): {shown}")
    print("Try it:")
    if info.token_auth and not reveal:
        print("  export TOKEN=...   # the token above (--show-token prints it)")
    if not info.endpoint:
        print("  (no URL yet: the deployment is not ready)")
    print("  " + info.curl(reveal=reveal).replace("\n", "\n  "))


def seconds_argument(text: str) -> float:
    """The `--timeout S` type of `status --wait` and `deploy --wait`."""
    return _seconds(text)


def wait_for_ready(
    *, api: Api, namespace: str, name: str, timeout: float, output: str = "text", show_token: bool = False
) -> int:
    """Follow a deployment to ready or failure, one line per stage; shared by `status --wait` and
    `deploy --wait` so both speak the same words. Returns the command's exit code."""

    def show(progress: readiness.Progress) -> None:
        if output == "json":
            print(json.dumps(progress.to_dict()), flush=True)
        else:
            print(_progress_line(progress), flush=True)

    result = readiness.follow(api=api, namespace=namespace, name=name, on_progress=show, timeout=timeout)
    if result.timed_out:
        print(f"Error: {result.message}", file=sys.stderr)
        return EXIT_REFUSED
    if result.ready:
        if output == "text":
            _print_access(api, namespace, name, reveal=show_token)
        return EXIT_OK
    if result.progress.detail and result.progress.detail not in result.progress.message:
        print(f"  cluster says: {result.progress.detail}", file=sys.stderr)
    return EXIT_REFUSED


def cmd_status(args: argparse.Namespace) -> int:
    def body(api: Api, namespace: str) -> int:
        if not args.wait:
            row = listing.get_deployment(api=api, namespace=namespace, name=args.name, now=time.time())
            if args.output == "json":
                print(json.dumps({**row.to_dict(), "progress": row.state.to_dict()}, indent=2))
                return EXIT_OK
            print(f"{row.display_name} ({row.name}) in project {namespace}: {row.state.message}")
            if row.state.detail and row.state.detail not in row.state.message:
                print(f"  cluster says: {row.state.detail}")
            if row.state.stage is Stage.READY:
                _print_access(api, namespace, args.name, reveal=args.show_token)
            return EXIT_OK
        listing.get_deployment(api=api, namespace=namespace, name=args.name)  # NotFound before waiting
        return wait_for_ready(
            api=api,
            namespace=namespace,
            name=args.name,
            timeout=args.timeout,
            output=args.output,
            show_token=args.show_token,
        )

    return _run(args, body)


def _control(args: argparse.Namespace, *, stopped: bool) -> int:
    def body(api: Api, namespace: str) -> int:
        result = control.set_stopped(
            api=api, namespace=namespace, name=args.name, stopped=stopped, dry_run=args.dry_run
        )
        print(("(dry run) " if args.dry_run else "") + result.message)
        return EXIT_OK

    return _run(args, body)


def cmd_stop(args: argparse.Namespace) -> int:
    return _control(args, stopped=True)


def cmd_start(args: argparse.Namespace) -> int:
    return _control(args, stopped=False)


def _confirm(name: str, *, stdin: TextIO | None) -> None:
    if stdin is None or stdin.closed:
        raise ConfirmationRequired(detail="Refusing to delete without confirmation: pass --yes.")
    print(f'Type the deployment name "{name}" to delete it: ', end="", flush=True)
    try:
        answer = stdin.readline()
    except (OSError, ValueError):
        answer = ""
    if not answer:
        print()
        raise ConfirmationRequired(detail="Refusing to delete without confirmation: no input; pass --yes.")
    if answer.strip() != name:
        raise ConfirmationRequired(detail=f'Not deleted: "{answer.strip()}" is not "{name}".')


def cmd_delete(args: argparse.Namespace) -> int:
    def body(api: Api, namespace: str) -> int:
        plan = delete.plan_delete(
            api=api,
            namespace=namespace,
            name=args.name,
            delete_storage=args.delete_storage,
            delete_secrets=not args.keep_secrets,
        )
        print(f'Deleting "{plan.display_name}" ({plan.name}) in project {namespace}:')
        for line in plan.lines():
            print(f"  {line}")
        if not args.yes:
            _confirm(args.name, stdin=sys.stdin)
        report = delete.execute_delete(api=api, plan=plan)
        print("Done:" if report.ok else "Finished with errors:")
        for line in report.lines():
            print(f"  {line}")
        print(delete.summary(report.items) + ".")
        for error in report.errors:
            print(f"Error: {error}", file=sys.stderr)
        return EXIT_OK if report.ok else EXIT_REFUSED

    return _run(args, body)


def cmd_export(args: argparse.Namespace) -> int:
    def body(api: Api, namespace: str) -> int:
        request = export_request(api=api, namespace=namespace, name=args.name)
        print(dump_spec(request=request), end="")
        return EXIT_OK

    return _run(args, body)


def cmd_diff(args: argparse.Namespace) -> int:
    try:
        request = (
            load_spec(text=sys.stdin.read()) if args.filename == "-" else load_spec_file(path=args.filename)
        )
    except SpecError as error:
        print("Error: the spec file is not valid:", file=sys.stderr)
        for field, message in error.errors.items():
            print(f"  {field or 'spec'}: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT

    def body(api: Api, namespace: str) -> int:
        session = EditSession.open(api=api, namespace=request.project, name=request.name)
        preview = session.preview(request, overwrite=args.overwrite)
        if args.output == "json":
            print(json.dumps(preview.to_dict(), indent=2))
        else:
            print("\n".join(preview.lines()))
        return EXIT_OK

    return _run(args, body)


def cmd_access(args: argparse.Namespace) -> int:
    def body(api: Api, namespace: str) -> int:
        if args.enable:
            change = access.enable_model_access(
                api=api,
                namespace=namespace,
                name=args.name,
                external_route=not args.internal_only,
                token_auth=True,
            )
            for item in change.created:
                print(f"created {item}")
            for item in change.reused:
                print(f"exists  {item}")
            for item in change.patched:
                print(f"updated {item} (route and token authentication)")
        _print_access(api, namespace, args.name, reveal=args.show_token)
        return EXIT_OK

    return _run(args, body)
