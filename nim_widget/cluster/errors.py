"""One error hierarchy for everything the engine reports to a person.

The widget, the CLI and notebooks show `title` and `detail`; they never see a kubernetes
`ApiException` (whose text carries raw HTTP headers and bodies). Messages follow the OpenShift AI
dashboard's wording where it has one, so users of both get the same sentences.
"""

from __future__ import annotations

import copy
import json
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import urllib3.exceptions

REDACTED = "<redacted>"

# The dashboard replaces these resource keys in Kubernetes messages (reference E.2).
_RESOURCE_WORDS = (
    (re.compile(r"\b(?:llm)?inferenceservices\.serving\.kserve\.io\b"), "model deployment"),
    (re.compile(r"\bservingruntimes\.serving\.kserve\.io\b"), "serving runtime"),
)


@dataclass(frozen=True)
class ObjectRef:
    """Which object an error or event is about; never carries the object's content."""

    api_version: str
    kind: str
    name: str
    namespace: str | None = None

    def __str__(self) -> str:
        if not self.name:  # a list
            return f"{self.kind} list in {self.namespace}" if self.namespace else f"{self.kind} list"
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


class NimWidgetError(Exception):
    """Base of every error the engine raises on purpose.

    `bad_input` separates "you asked for something that cannot be" (CLI exit 2) from "the cluster
    refused or a step failed" (exit 1).
    """

    default_title: ClassVar[str] = "Error"
    bad_input: ClassVar[bool] = False

    def __init__(
        self,
        title: str | None = None,
        detail: str = "",
        *,
        step: int | None = None,
        obj: ObjectRef | None = None,
        status: int | None = None,
        causes: Mapping[str, str] | None = None,
    ) -> None:
        self.title = title or self.default_title
        self.detail = detail
        self.step = step
        self.obj = obj
        self.status = status
        # Field path -> message, for forms to show next to the field (request or object fields).
        self.causes: dict[str, str] = dict(causes or {})
        # Seconds the server asked to wait before trying again (429/503), when it said.
        self.retry_after: float | None = None
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.title}: {self.detail}" if self.detail else self.title

    def __repr__(self) -> str:
        return f"{type(self).__name__}(title={self.title!r}, detail={self.detail!r}, step={self.step!r})"

    def __reduce__(self) -> Any:
        # Keyword-only state would otherwise be lost when errors cross process boundaries.
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[NimWidgetError], state: dict[str, Any]) -> NimWidgetError:
    error = cls.__new__(cls)
    Exception.__init__(error)
    error.__dict__.update(state)
    return error


class NotFound(NimWidgetError):
    default_title = "Not found"


class AlreadyExists(NimWidgetError):
    default_title = "Already exists"


class Conflict(NimWidgetError):
    default_title = "Changed by someone else"


class Invalid(NimWidgetError):
    """The cluster rejected an object's content; `causes` maps field paths to messages."""

    default_title = "Rejected by the cluster"


class Forbidden(NimWidgetError):
    default_title = "Permission denied"


class Unauthorized(NimWidgetError):
    default_title = "Not logged in"


class Unavailable(NimWidgetError):
    """5xx, throttling, timeouts and broken connections: worth trying again later."""

    default_title = "Cluster unavailable"


class BadRequest(NimWidgetError):
    default_title = "Bad request"


class ConnectionConfigError(NimWidgetError):
    """No usable kubeconfig, context or service account: the user's input, not the cluster."""

    default_title = "Cannot connect"
    bad_input = True


class RequestInvalid(NimWidgetError):
    """The deployment request breaks a rule (step 1); `causes` maps request fields to messages."""

    default_title = "Invalid deployment request"
    bad_input = True

    def __init__(
        self,
        title: str | None = None,
        detail: str = "",
        *,
        causes: Mapping[str, str] | None = None,
        step: int | None = None,
        obj: ObjectRef | None = None,
    ) -> None:
        if not detail and causes:
            detail = "; ".join(f"{field}: {message}" for field, message in causes.items())
        super().__init__(title, detail, step=step, obj=obj, causes=causes)


class UnknownNameError(NimWidgetError):
    """A name the cluster does not have: model, tag, hardware profile, storage class, project, PVC."""

    default_title = "Unknown name"
    bad_input = True


class NimAccountError(NimWidgetError):
    """The project's NIM account is missing, pending or unhealthy."""

    default_title = "NVIDIA NIM is not ready"


class TemplateError(NimWidgetError):
    """The account's runtime Template is missing or not a ServingRuntime template."""

    default_title = "NIM runtime template unavailable"


class PreflightFailed(NimWidgetError):
    """A pre-flight check (step 6) found what would make the deployment fail; nothing was written."""

    default_title = "Pre-flight check failed"


class DeployFailed(NimWidgetError):
    """A step failed after writes began; the detail says what was rolled back."""

    default_title = "Deployment failed"


def in_context(error: NimWidgetError, *, action: str) -> NimWidgetError:
    """A copy of `error` whose detail ends by saying what was being done, and on which object
    ("Failed while stopping InferenceService demo/llama."), so a person knows where it broke.
    Errors about no object in particular (bad input) are returned as they are."""
    if error.obj is None:
        return error
    result = copy.copy(error)
    sentence = f"Failed while {action} on {error.obj}."
    if sentence not in result.detail:
        result.detail = f"{result.detail} {sentence}".strip()
    return result


def dashboard_words(message: str) -> str:
    """Say "model deployment" where Kubernetes says `inferenceservices.serving.kserve.io`."""
    for pattern, word in _RESOURCE_WORDS:
        message = pattern.sub(word, message)
    return message


def already_exists_detail(*, resource: str, display_name: str) -> str:
    """The dashboard's exact sentence for a 409 AlreadyExists, keyed on the plural resource."""
    if resource in ("inferenceservices", "llminferenceservices"):
        return (
            f'A model deployment with the name "{display_name}" already exists. '
            "Please choose a different model deployment name."
        )
    if resource == "servingruntimes":
        return (
            f'A serving runtime with the name "{display_name}" already exists. '
            "Please choose a different serving runtime name."
        )
    return (
        f'A resource with the name "{display_name}" already exists. Please choose a different resource name.'
    )


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every known secret value in `text`; longest first so prefixes do not leave tails."""
    for value in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text


def _status_body(body: str | bytes | None) -> dict[str, Any]:
    if not body:
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, TypeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def error_from_status(
    *,
    code: int,
    body: str | bytes | None,
    reason_phrase: str = "",
    headers: Mapping[str, str] | None = None,
    obj: ObjectRef | None = None,
    secrets: Iterable[str] = (),
) -> NimWidgetError:
    """Turn an HTTP error status and its v1 Status body into our error, in people's words."""
    status = _status_body(body)
    secret_values = tuple(secrets)
    reason = str(status.get("reason") or "")
    raw_message = str(status.get("message") or reason_phrase or f"HTTP {code}")
    message = scrub(dashboard_words(raw_message), secret_values)
    details = status.get("details") if isinstance(status.get("details"), dict) else {}
    assert isinstance(details, dict)
    if code == 409 and reason == "AlreadyExists":
        name = str(details.get("name") or (obj.name if obj else ""))
        resource = str(details.get("kind") or "")
        return AlreadyExists(
            detail=already_exists_detail(resource=resource, display_name=name), obj=obj, status=code
        )
    if code == 409:
        return Conflict(detail=message, obj=obj, status=code)
    if code == 422 or reason == "Invalid":
        causes: dict[str, str] = {}
        for cause in details.get("causes") or ():
            if not isinstance(cause, dict):
                continue
            field = str(cause.get("field") or "")
            said = str(cause.get("message") or cause.get("reason") or "")
            text = scrub(dashboard_words(said), secret_values)
            causes[field] = f"{causes[field]}; {text}" if field in causes else text
        return Invalid(detail=message, causes=causes, obj=obj, status=code)
    if code == 404:
        return NotFound(detail=message, obj=obj, status=code)
    if code == 403:
        return Forbidden(detail=message, obj=obj, status=code)
    if code == 401:
        return Unauthorized(
            detail="The cluster did not accept the credentials. Log in again or check the token.",
            obj=obj,
            status=code,
        )
    if code == 429 or code >= 500:
        retry = (headers or {}).get("Retry-After")
        suffix = f" (the server asked to retry after {retry} s)" if retry else ""
        return Unavailable(detail=f"{message}{suffix}", obj=obj, status=code)
    if code in (400, 405, 406, 413, 415):
        return BadRequest(detail=message, obj=obj, status=code)
    return NimWidgetError("Request failed", message, obj=obj, status=code)


def error_from_transport(*, error: BaseException, server: str, obj: ObjectRef | None = None) -> Unavailable:
    """Timeouts, refused and reset connections: say what happened without the client's internals."""
    cause: BaseException = error
    if isinstance(error, urllib3.exceptions.MaxRetryError) and error.reason is not None:
        cause = error.reason
    # NewConnectionError is a ConnectTimeoutError in urllib3 2, so it is tested first.
    if isinstance(cause, urllib3.exceptions.NewConnectionError | ConnectionRefusedError):
        what = "the connection was refused"
    elif isinstance(cause, urllib3.exceptions.TimeoutError | socket.timeout | TimeoutError):
        what = "the request timed out"
    elif isinstance(cause, urllib3.exceptions.SSLError):
        what = "the TLS handshake failed (check the certificate settings)"
    elif isinstance(cause, urllib3.exceptions.ProtocolError | ConnectionError):
        what = "the connection was closed before an answer arrived"
    else:
        what = "the request could not be completed"
    return Unavailable(detail=f"Could not reach the cluster at {server}: {what}.", obj=obj)
