"""The HTTP face of the sandbox: authentication, faults, authorization, routing, the socket server.

A standard-library ``ThreadingHTTPServer`` (one daemon thread per connection, HTTP/1.1
keep-alive) so it coexists with a Jupyter kernel's event loop; ``TCP_NODELAY`` and single-write
responses keep keep-alive round trips well under a millisecond.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import discovery
from .access import Access
from .clock import Clock
from .endpoints import Endpoints
from .faults import Faults
from .kinds import Registry
from .requestlog import LoggedRequest, RequestLog
from .status import ApiError, generic, internal, method_not_allowed, unauthorized
from .store import Store
from .watch import serve_watch
from .wire import (
    Dropped,
    Request,
    Response,
    dumps,
    hang_up,
    json_response,
    page_not_found,
    parse_lenient,
    send,
    with_sub,
)

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class ApiServer:
    """Everything one request needs; the HTTP handler class only moves bytes."""

    def __init__(
        self,
        *,
        store: Store,
        registry: Registry,
        access: Access,
        faults: Faults,
        log: RequestLog,
        clock: Clock,
    ) -> None:
        self.store = store
        self.registry = registry
        self.access = access
        self.faults = faults
        self.log = log
        self.clock = clock
        self.endpoints = Endpoints(store=store, registry=registry, access=access, clock=clock)
        self.address = "127.0.0.1:0"
        self.stopping = threading.Event()

    # ------------------------------------------------------------ entry point

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length > 0 else b""
        req = Request(
            method=handler.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=handler.headers,
            raw_body=raw,
            content_type=handler.headers.get("Content-Type", ""),
            received=time.monotonic(),
        )
        warnings: list[str] = []
        response: Response | None = None
        streamed = False
        try:
            if not self.access.authenticate(handler.headers.get("Authorization")):
                raise unauthorized()
            response = self._route(req)
            if response is None:  # a resource request
                fault = self.faults.take(
                    method=req.method,
                    verb=req.verb,
                    resource=req.resource,
                    namespace=req.namespace,
                    name=req.name,
                    dry_run=req.dry_run,
                )
                if fault is not None:
                    if fault.latency > 0:
                        time.sleep(fault.latency)
                    if fault.drop:
                        raise Dropped()
                    error = fault.error()
                    if error is not None:
                        if fault.body is not None:
                            response = Response(error.code, dumps(fault.body))
                        else:
                            raise error
                if response is None:
                    assert req.kind is not None
                    self.access.check(
                        verb=req.verb,
                        resource=with_sub(req),
                        group=req.group,
                        namespace=req.namespace,
                        name=req.name,
                    )
                    if req.verb == "watch":
                        streamed = True
                        labels, fields = self.endpoints.selectors(req, req.kind)
                        serve_watch(
                            req=req,
                            handler=handler,
                            store=self.store,
                            kind=req.kind,
                            labels=labels,
                            fields=fields,
                            stopping=self.stopping,
                            on_started=lambda: self._record(req, 200, []),
                        )
                        response = Response(200, b"")
                    else:
                        response = self.endpoints.resource(req, warnings)
        except Dropped:
            handler.close_connection = True
            hang_up(handler)
            self._record(req, 0, warnings)
            return
        except ApiError as error:
            response = Response(error.code, dumps(error.to_status()), headers=tuple(error.headers.items()))
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True
            return
        except Exception as exc:  # a bug must still answer like a server, not kill the connection
            log.exception("sandbox request failed: %s %s", req.method, req.path)
            response = Response(500, dumps(internal(str(exc)).to_status()))
        if not streamed:
            # recorded before answering, so a client that saw the answer also sees the log entry
            self._record(req, response.status, warnings)
            headers = list(response.headers) + [("Warning", f"299 - {json.dumps(w)}") for w in warnings]
            send(handler, response.status, response.body, response.content_type, headers)

    def _record(self, req: Request, status: int, warnings: list[str]) -> None:
        body = req.body
        if body is None and req.raw_body:
            body = parse_lenient(req.raw_body)
        self.log.record(
            LoggedRequest(
                method=req.method,
                path=req.path,
                query=req.query,
                content_type=req.content_type,
                body=body,
                status=status,
                dry_run=req.dry_run,
                resource=req.resource,
                namespace=req.namespace,
                name=req.name,
                verb=req.verb,
                subresource=req.subresource,
                group=req.group,
                user_agent=req.headers.get("User-Agent", ""),
                warnings=tuple(warnings),
                received=req.received,
            )
        )

    # ------------------------------------------------------------ routing

    def _route(self, req: Request) -> Response | None:
        parts = [p for p in req.path.split("/") if p]
        if not parts:
            return json_response(
                200, {"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"]}
            )
        head = parts[0]
        if head in ("healthz", "livez", "readyz") and len(parts) == 1:
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if head == "version" and len(parts) == 1:
            return json_response(200, discovery.VERSION_INFO)
        if head == "openapi":
            return self._openapi(parts)
        if head == "api":
            group, version, rest = "", parts[1] if len(parts) > 1 else "", parts[2:]
            if len(parts) == 1:
                return self._get_only(req, discovery.api_versions(server_address=self.address))
        elif head == "apis":
            if len(parts) == 1:
                return self._get_only(req, discovery.api_group_list(self.registry))
            group, version, rest = parts[1], parts[2] if len(parts) > 2 else "", parts[3:]
            if len(parts) == 2:
                doc = discovery.api_group(self.registry, group)
                return page_not_found() if doc is None else self._get_only(req, doc)
        else:
            return page_not_found()
        if group not in self.registry.groups() or version not in self.registry.groups()[group]:
            return page_not_found()
        if not rest:
            doc = discovery.resource_list(self.registry, group, version)
            return page_not_found() if doc is None else self._get_only(req, doc)
        self._resolve(req, group, version, rest)
        return None

    def _get_only(self, req: Request, doc: Obj) -> Response:
        if req.method != "GET":
            raise method_not_allowed()
        return json_response(200, doc)

    def _openapi(self, parts: list[str]) -> Response:
        if parts[1:2] == ["v3"]:
            if len(parts) == 2:
                return json_response(200, discovery.openapi_v3_root(self.registry))
            if parts[2] == "api" and parts[3:] == ["v1"]:
                doc = discovery.openapi_v3_group_version(self.registry, "", "v1")
            elif parts[2] == "apis" and len(parts) == 5:
                doc = discovery.openapi_v3_group_version(self.registry, parts[3], parts[4])
            else:
                doc = None
            if doc is not None:
                return json_response(200, doc)
        return page_not_found()

    def _resolve(self, req: Request, group: str, version: str, rest: list[str]) -> None:
        """Fill the request's resource coordinates and verb, as the RequestInfo resolver does."""
        namespace = ""
        if (
            rest[0] == "namespaces"
            and len(rest) >= 3
            and not (group == "" and len(rest) == 3 and rest[2] in ("status", "finalize"))
        ):
            namespace, rest = rest[1], rest[2:]
        plural = rest[0]
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        kind = self.registry.by_gvr(group, version, plural)
        req.group, req.version, req.resource, req.namespace, req.name, req.subresource = (
            group,
            version,
            plural,
            namespace,
            name,
            sub,
        )
        if (
            kind is None
            or len(rest) > 3
            or (namespace and not kind.namespaced)
            or (kind.namespaced and name and not namespace)
            or (sub and not (sub == "status" and kind.status_subresource))
        ):
            raise generic(404)
        req.kind = kind
        watch = req.param("watch") in ("true", "1")
        method = req.method
        if method == "GET":
            req.verb = "watch" if watch else ("get" if name else "list")
        elif method == "POST" and not name and (namespace or not kind.namespaced):
            req.verb = "create"
        elif method == "PUT" and name:
            req.verb = "update"
        elif method == "PATCH" and name:
            req.verb = "patch"
        elif method == "DELETE":
            req.verb = "delete" if name else "deletecollection"
        else:
            raise method_not_allowed()
        if req.verb not in kind.verbs:
            raise method_not_allowed()


# ---------------------------------------------------------------- the socket server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nim-widget-sandbox"
    sys_version = ""
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def _dispatch(self) -> None:
        self.server.app.handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    # the engine opens a dozen connections at once; the default backlog of 5 stalls some of them ~1 s
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: ApiServer) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, conn: socket.socket, *, add: bool) -> None:
        with self._conn_lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def close_connections(self) -> None:
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class HttpServer:
    """Owns the listening socket and its serving thread."""

    def __init__(self, *, app: ApiServer, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._server = _HttpServer((host, port), app)
        address = self._server.server_address
        self.host, self.port = str(address[0]), int(address[1])
        app.address = f"{self.host}:{self.port}"
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"sandbox-http-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self.app.stopping.set()
        self.app.store.events.close()
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
