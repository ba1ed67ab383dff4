"""A local Kubernetes API server for tests, notebooks and the demo (see docs/architecture.md)."""

from .access import Access, Rule
from .clock import Clock, FakeClock, RealClock, rfc3339
from .faults import Fault, Faults
from .kinds import DEFAULT_KINDS, Column, Kind, Registry
from .requestlog import LoggedRequest, RequestLog
from .sandbox import Sandbox
from .status import ApiError, Cause
from .store import Store

__all__ = [
    "DEFAULT_KINDS",
    "Access",
    "ApiError",
    "Cause",
    "Clock",
    "Column",
    "FakeClock",
    "Fault",
    "Faults",
    "Kind",
    "LoggedRequest",
    "RealClock",
    "Registry",
    "RequestLog",
    "Rule",
    "Sandbox",
    "Store",
    "rfc3339",
]
