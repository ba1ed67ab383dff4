"""When a failed request may be sent again, and how long to wait first.

A cluster under load answers 429 (its admission queue refused the request before doing anything),
503 or 504 (it may or may not have done it), or the connection breaks before the answer arrives
(the request may well have been carried out). Sending a read again is always harmless. Sending a
write again is not: a create whose answer was lost would fail with AlreadyExists, a PUT with
Conflict, and a JSON patch could apply twice. So the API layer sorts every failure into one of
three classes and, for writes whose outcome is unknown, first looks at the object (see
`Api._call`) before deciding to send again.

Waiting is bounded twice: by a number of retries and by the seconds slept in total for one
request, so a notebook never hangs for minutes on a dying cluster. The server's Retry-After
(header or the Status's `details.retryAfterSeconds`) is honoured up to a ceiling.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nim_widget.cluster.errors import NimWidgetError, Unavailable


class Transience(enum.Enum):
    """What a failure says about the request that caused it."""

    REFUSED = "refused"  # 429: turned away before processing; any request may be sent again
    UNKNOWN = "unknown"  # 503, 504, broken connection, timeout: it may have happened
    FINAL = "final"  # anything else: sending it again would give the same answer


_UNKNOWN_STATUS = frozenset({503, 504})


def classify(error: NimWidgetError) -> Transience:
    if error.status == 429:
        return Transience.REFUSED
    if error.status in _UNKNOWN_STATUS:
        return Transience.UNKNOWN
    if isinstance(error, Unavailable) and error.status is None:  # transport: reset, refused, timeout
        return Transience.UNKNOWN
    return Transience.FINAL


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff from `backoff` seconds, doubling, each delay at most `max_delay`; a
    server's Retry-After raises a delay up to `max_retry_after`. At most `retries` retries and at
    most `budget` seconds asleep for one request."""

    retries: int = 3
    backoff: float = 0.25
    max_delay: float = 4.0
    max_retry_after: float = 10.0
    budget: float = 20.0

    def delay(self, *, attempt: int, retry_after: float | None) -> float:
        delay: float = min(self.backoff * (2.0**attempt), self.max_delay)
        if retry_after is not None:
            delay = min(max(delay, retry_after), self.max_retry_after)
        return delay

    def allows(self, *, attempt: int, slept: float, delay: float) -> bool:
        return attempt < self.retries and slept + delay <= self.budget


def retry_after(*, headers: Mapping[str, Any] | None, status: Mapping[str, Any] | None) -> float | None:
    """Seconds the server asked us to wait: the Retry-After header (seconds form; an HTTP date is
    ignored), else the Status body's `details.retryAfterSeconds` (the API server sends both)."""
    value: Any = None
    if headers:
        value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    if value is None and status:
        details = status.get("details")
        if isinstance(details, Mapping):
            value = details.get("retryAfterSeconds")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None
