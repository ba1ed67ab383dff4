"""Bytes on the wire: the request/response records and how JSON goes in and out.

Responses are written with one ``send`` (headers and body together) because a header-then-body
pair of small writes meets Nagle's algorithm and delayed ACKs on keep-alive connections and costs
tens of milliseconds per request.
"""

from __future__ import annotations

import contextlib
import json
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import yaml

from .kinds import Kind
from .status import bad_request

Obj = dict[str, Any]
JSON = "application/json"


class Dropped(Exception):
    """A fault asked to hang up without answering."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Any
    raw_body: bytes
    content_type: str
    verb: str = ""
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    kind: Kind | None = None
    body: Any = None
    duplicates: tuple[str, ...] = ()
    received: float = 0.0  # time.monotonic() when the request arrived (before any injected latency)

    def param(self, key: str, default: str = "") -> str:
        values = self.query.get(key)
        return values[-1] if values else default

    @property
    def dry_run(self) -> bool:
        return self.query.get("dryRun", []) == ["All"] or (
            isinstance(self.body, dict)
            and self.verb in ("delete", "deletecollection")
            and self.body.get("dryRun") == ["All"]
        )


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()


# ---------------------------------------------------------------- wire helpers


def with_sub(req: Request) -> str:
    return f"{req.resource}/{req.subresource}" if req.subresource else req.resource


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(status: int, obj: Any) -> Response:
    return Response(status, dumps(obj))


def page_not_found() -> Response:
    return Response(404, b"404 page not found\n", "text/plain; charset=utf-8")


def json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else "object"


class _DupDict(dict[str, Any]):
    duplicates: list[str]


def loads_with_duplicates(raw: bytes) -> tuple[Any, tuple[str, ...]]:
    """Parse JSON, also reporting duplicate keys (strict decoding rejects them) by dotted path."""
    seen_dups = False

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal seen_dups
        out = _DupDict()
        dups = []
        for key, value in pairs:
            if key in out:
                dups.append(key)
            out[key] = value
        out.duplicates = dups
        seen_dups = seen_dups or bool(dups)
        return out

    try:
        body = json.loads(raw.decode() if raw else "null", object_pairs_hook=hook)
    except ValueError as exc:
        detail = "unexpected end of JSON input" if not raw.strip() else f"invalid character: {exc}"
        raise bad_request(f"couldn't get version/kind; json parse error: {detail}") from None
    if not seen_dups:
        return body, ()
    found: list[str] = []

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, _DupDict):
            found.extend(f"{prefix}{d}" for d in value.duplicates)
            for key, child in value.items():
                walk(child, f"{prefix}{key}.")
        elif isinstance(value, list):
            for child in value:
                walk(child, prefix)

    walk(body, "")
    return body, tuple(found)


def parse_lenient(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        try:
            return yaml.safe_load(raw.decode(errors="replace"))
        except yaml.YAMLError:
            return raw.decode(errors="replace")


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str,
    headers: Iterable[tuple[str, str]],
) -> None:
    reason = handler.responses.get(status, ("",))[0]
    lines = [
        f"HTTP/1.1 {status} {reason}",
        f"Audit-Id: {uuid.uuid4()}",
        "Cache-Control: no-cache, private",
        f"Content-Type: {content_type}",
        f"Date: {handler.date_time_string()}",
        "X-Kubernetes-Pf-Flowschema-Uid: sandbox",
        "X-Kubernetes-Pf-Prioritylevel-Uid: sandbox",
        f"Content-Length: {len(body)}",
    ]
    lines += [f"{k}: {v}" for k, v in headers]
    if handler.close_connection:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")
    handler.wfile.write(head + body)


def start_stream(handler: BaseHTTPRequestHandler, headers: Iterable[tuple[str, str]]) -> None:
    lines = ["HTTP/1.1 200 OK", f"Audit-Id: {uuid.uuid4()}", f"Date: {handler.date_time_string()}"]
    lines += [f"{k}: {v}" for k, v in headers]
    handler.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


def chunk(handler: BaseHTTPRequestHandler, event: Obj) -> None:
    data = dumps(event) + b"\n"
    handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")


def hang_up(handler: BaseHTTPRequestHandler) -> None:
    with contextlib.suppress(OSError):
        handler.connection.shutdown(socket.SHUT_RDWR)
