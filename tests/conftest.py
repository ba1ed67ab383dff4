"""Project-wide fixtures: a fresh sandbox per test and clients pointed at it over HTTP.

Every test gets its own sandbox (its own port, store and fake clock), so tests never see each
other's objects and can run in any order or in parallel.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from kubernetes import client, dynamic

from nim_widget.sandbox import FakeClock, Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """The demo world, a FakeClock (nothing moves until a test advances it), controllers on."""
    with Sandbox(world="demo", clock=FakeClock(), controllers=True) as sb:
        yield sb


@pytest.fixture
def empty_sandbox() -> Iterator[Sandbox]:
    """No world at all: not even a namespace exists."""
    with Sandbox(world=None, clock=FakeClock(), controllers=False) as sb:
        yield sb


@pytest.fixture
def api_client(sandbox: Sandbox) -> Iterator[client.ApiClient]:
    with sandbox.api_client() as api:
        yield api


@pytest.fixture
def core_v1(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture
def custom_objects(api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


@pytest.fixture
def dynamic_client(api_client: client.ApiClient, tmp_path: Any) -> dynamic.DynamicClient:
    # a per-test discovery cache file, so no state leaks between sandboxes on different ports
    factory: Any = dynamic.DynamicClient  # untyped
    made: dynamic.DynamicClient = factory(api_client, cache_file=str(tmp_path / "discovery.json"))
    return made


@dataclass
class RawResponse:
    status: int
    reason: str
    headers: http.client.HTTPMessage
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


class Raw:
    """Plain HTTP against a sandbox, for wire details the official client hides."""

    def __init__(self, url: str, token: str | None = None) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.token = token

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> RawResponse:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            data: bytes | None
            if body is None:
                data = None
            elif isinstance(body, bytes | str):
                data = body.encode() if isinstance(body, str) else body
            else:
                data = json.dumps(body).encode()
            all_headers = {"Accept": "application/json"}
            if data is not None:
                all_headers["Content-Type"] = content_type
            if self.token:
                all_headers["Authorization"] = f"Bearer {self.token}"
            all_headers.update(headers or {})
            conn.request(method, path, body=data, headers=all_headers)
            resp = conn.getresponse()
            return RawResponse(resp.status, resp.reason, resp.headers, resp.read().decode())
        finally:
            conn.close()

    def get(self, path: str, **kw: Any) -> RawResponse:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> RawResponse:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any, **kw: Any) -> RawResponse:
        return self.request("PUT", path, body, **kw)

    def patch(self, path: str, body: Any, *, content_type: str, **kw: Any) -> RawResponse:
        return self.request("PATCH", path, body, content_type=content_type, **kw)

    def delete(self, path: str, body: Any = None, **kw: Any) -> RawResponse:
        return self.request("DELETE", path, body, **kw)


@pytest.fixture
def raw(sandbox: Sandbox) -> Raw:
    return Raw(sandbox.url, sandbox.token)


@pytest.fixture
def empty_raw(empty_sandbox: Sandbox) -> Raw:
    return Raw(empty_sandbox.url, empty_sandbox.token)


def status_of(exc: client.ApiException) -> dict[str, Any]:
    """The v1 Status body of a failed call made through the official client."""
    body: Any = json.loads(exc.body or "{}")
    assert body["kind"] == "Status", body
    assert body["code"] == exc.status
    return dict(body)


@pytest.fixture(name="status_of")
def status_of_fixture() -> Any:
    return status_of
