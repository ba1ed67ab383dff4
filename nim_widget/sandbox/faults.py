"""Fault injection: make the next matching request(s) fail, hang up, or arrive late.

Tests rehearse what a flaky cluster does to the engine (a 500 on the third write, a dropped
connection during create, a slow list) without any mocking: the failure happens on the wire.
Faults are matched in the order they were added and each match consumes one use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .status import GENERIC_MESSAGES, REASONS, ApiError


@dataclass
class Fault:
    method: str | None = None  # HTTP method (GET, POST, ...)
    verb: str | None = None  # get, list, watch, create, update, patch, delete
    resource: str | None = None  # plural, e.g. "inferenceservices"
    namespace: str | None = None
    name: str | None = None
    dry_run: bool | None = None  # None: both; True: only dry runs; False: only real writes
    status: int | None = None  # None with drop=False: latency only
    reason: str | None = None
    message: str | None = None
    body: dict[str, Any] | None = None  # a full Status body to send instead of the generated one
    drop: bool = False  # close the connection without answering
    latency: float = 0.0  # seconds to wait before answering (or failing)
    times: int = 1
    hits: int = 0

    def matches(
        self, *, method: str, verb: str, resource: str, namespace: str, name: str, dry_run: bool
    ) -> bool:
        return (
            (self.method is None or self.method.upper() == method)
            and (self.verb is None or self.verb == verb)
            and (self.resource is None or self.resource == resource)
            and (self.namespace is None or self.namespace == namespace)
            and (self.name is None or self.name == name)
            and (self.dry_run is None or self.dry_run == dry_run)
        )

    def error(self) -> ApiError | None:
        if self.status is None:
            return None
        code = self.status
        reason = self.reason or REASONS.get(code, "Unknown")
        message = self.message or GENERIC_MESSAGES.get(code, f"injected fault {code}")
        return ApiError(code=code, reason=reason, message=message, details={})


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self,
        *,
        method: str | None = None,
        verb: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        name: str | None = None,
        dry_run: bool | None = None,
        status: int | None = None,
        reason: str | None = None,
        message: str | None = None,
        body: dict[str, Any] | None = None,
        drop: bool = False,
        latency: float = 0.0,
        times: int = 1,
    ) -> Fault:
        if status is None and not drop and latency <= 0:
            raise ValueError("a fault needs a status, drop=True or a latency")
        fault = Fault(
            method=method,
            verb=verb,
            resource=resource,
            namespace=namespace,
            name=name,
            dry_run=dry_run,
            status=status,
            reason=reason,
            message=message,
            body=body,
            drop=drop,
            latency=latency,
            times=times,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(
        self, *, method: str, verb: str, resource: str, namespace: str, name: str, dry_run: bool
    ) -> Fault | None:
        """The first fault matching this request, with one of its uses consumed."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(
                    method=method,
                    verb=verb,
                    resource=resource,
                    namespace=namespace,
                    name=name,
                    dry_run=dry_run,
                ):
                    fault.hits += 1
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
