"""v1 ``Status`` bodies and the exception that carries them through the sandbox.

Clients (the official client, kubectl, our own engine) branch on ``reason`` and parse ``message``
and ``details.causes``; so every helper here reproduces the exact wording and field layout of
k8s.io/apimachinery's ``errors`` package, including its quirks (the Go ``%q`` quoting of values,
the ``[a, b]`` aggregation of several causes, ``0x0`` for an unsigned zero).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# HTTP code -> reason, as apimachinery's NewGenericServerResponse maps them.
REASONS: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}

# The messages a server uses when it has nothing more specific to say (NewGenericServerResponse).
GENERIC_MESSAGES: dict[int, str] = {
    400: "the server rejected our request for an unknown reason",
    401: "the server has asked for the client to provide credentials",
    403: "the server does not allow access to the requested resource",
    404: "the server could not find the requested resource",
    405: "the server does not allow this method on the requested resource",
    409: "the server reported a conflict",
    415: "the server does not support the requested media type",
    422: "the server rejected our request due to an error in our request",
    429: "the server has received too many requests and has asked us to try again later",
    500: "an error on the server has prevented the request from succeeding",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted, but may still be processing "
    "the request",
}

OPTIMISTIC_LOCK_MESSAGE = (
    "the object has been modified; please apply your changes to the latest version and try again"
)

# Error "types" of k8s.io/apimachinery/pkg/util/validation/field, as they appear in messages.
_TYPE_TEXT: dict[str, str] = {
    "FieldValueRequired": "Required value",
    "FieldValueInvalid": "Invalid value",
    "FieldValueNotSupported": "Unsupported value",
    "FieldValueTypeInvalid": "Invalid value",
    "FieldValueDuplicate": "Duplicate value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueTooLong": "Too long",
    "FieldValueTooMany": "Too many",
    "FieldValueNotFound": "Not found",
}


@dataclass(frozen=True)
class Cause:
    """One entry of ``details.causes``: ``message`` is the error body that follows ``field: ``."""

    field: str
    reason: str
    message: str

    def text(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "field": self.field}


class ApiError(Exception):
    """An API failure with everything needed to render the v1 Status a real server would send."""

    def __init__(
        self,
        *,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def to_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            status["details"] = self.details
        status["code"] = self.code
        return status

    def __repr__(self) -> str:
        return f"ApiError({self.code} {self.reason}: {self.message})"


# ---------------------------------------------------------------- Go value formatting


def go_quote(value: str) -> str:
    """Go's ``%q`` for a string: JSON escaping is identical for everything clients will send."""
    return json.dumps(value, ensure_ascii=False)


def go_value(value: Any) -> str:
    """How ``field.Error.ErrorBody`` prints a bad value (``%q`` for strings, ``%v`` for scalars)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "[]string{" + ", ".join(go_quote(v) for v in value) + "}"
    if isinstance(value, list):
        return "[]interface {}{" + ", ".join(go_value(v) for v in value) + "}"
    if isinstance(value, dict):
        inner = ", ".join(f"{go_quote(str(k))}:{go_value(v)}" for k, v in value.items())
        return "map[string]interface {}{" + inner + "}"
    return go_quote(str(value))


# ---------------------------------------------------------------- causes (field errors)


def required(field: str, detail: str = "") -> Cause:
    return Cause(field, "FieldValueRequired", _body("FieldValueRequired", None, detail, show_value=False))


def invalid(field: str, value: Any, detail: str = "") -> Cause:
    return Cause(field, "FieldValueInvalid", _body("FieldValueInvalid", value, detail))


def invalid_raw(field: str, rendered_value: str, detail: str = "") -> Cause:
    """An Invalid cause whose value is already rendered the Go way (e.g. ``0x0``)."""
    text = f"Invalid value: {rendered_value}" + (f": {detail}" if detail else "")
    return Cause(field, "FieldValueInvalid", text)


def type_invalid(field: str, value: Any, detail: str = "") -> Cause:
    return Cause(field, "FieldValueTypeInvalid", _body("FieldValueTypeInvalid", value, detail))


def not_supported(field: str, value: Any, supported: Sequence[str]) -> Cause:
    detail = "supported values: " + ", ".join(go_quote(v) for v in supported) if supported else ""
    return Cause(field, "FieldValueNotSupported", _body("FieldValueNotSupported", value, detail))


def duplicate(field: str, value: Any) -> Cause:
    return Cause(field, "FieldValueDuplicate", _body("FieldValueDuplicate", value, ""))


def forbidden_field(field: str, detail: str) -> Cause:
    return Cause(field, "FieldValueForbidden", _body("FieldValueForbidden", None, detail, show_value=False))


def too_long(field: str, max_length: int) -> Cause:
    unit = "byte" if max_length == 1 else "bytes"
    return Cause(
        field,
        "FieldValueTooLong",
        _body("FieldValueTooLong", None, f"may not be more than {max_length} {unit}", show_value=False),
    )


def _body(reason: str, value: Any, detail: str, *, show_value: bool = True) -> str:
    text = _TYPE_TEXT[reason]
    if show_value:
        text += ": " + go_value(value)
    if detail:
        text += ": " + detail
    return text


def aggregate(causes: Sequence[Cause]) -> str:
    """``field.ErrorList.ToAggregate().Error()``: one message as is, several as ``[a, b]``, deduplicated."""
    texts: list[str] = []
    for cause in causes:
        text = cause.text()
        if text not in texts:
            texts.append(text)
    if len(texts) == 1:
        return texts[0]
    return "[" + ", ".join(texts) + "]"


# ---------------------------------------------------------------- errors


def _details(*, name: str, group: str, kind: str) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    if kind:
        details["kind"] = kind
    return details


def qualified(resource: str, group: str) -> str:
    """``schema.GroupResource.String()``: ``plural`` for core, ``plural.group`` otherwise."""
    return f"{resource}.{group}" if group else resource


def not_found(*, resource: str, group: str, name: str) -> ApiError:
    return ApiError(
        code=404,
        reason="NotFound",
        message=f"{qualified(resource, group)} {go_quote(name)} not found",
        details=_details(name=name, group=group, kind=resource),
    )


def already_exists(*, resource: str, group: str, name: str) -> ApiError:
    return ApiError(
        code=409,
        reason="AlreadyExists",
        message=f"{qualified(resource, group)} {go_quote(name)} already exists",
        details=_details(name=name, group=group, kind=resource),
    )


def conflict(*, resource: str, group: str, name: str, message: str = OPTIMISTIC_LOCK_MESSAGE) -> ApiError:
    return ApiError(
        code=409,
        reason="Conflict",
        message=f"Operation cannot be fulfilled on {qualified(resource, group)} {go_quote(name)}: {message}",
        details=_details(name=name, group=group, kind=resource),
    )


def invalid_error(*, kind: str, group: str, name: str, causes: Sequence[Cause]) -> ApiError:
    """``errors.NewInvalid``: ``kind`` is a Kind (``ConfigMap``) or, for some store errors, a resource."""
    qualified_kind = f"{kind}.{group}" if group else kind
    details = _details(name=name, group=group, kind=kind)
    details["causes"] = [c.to_dict() for c in causes]
    message = f"{qualified_kind} {go_quote(name)} is invalid"
    if causes:
        message += ": " + aggregate(causes)
    return ApiError(code=422, reason="Invalid", message=message, details=details)


def forbidden(*, resource: str, group: str, name: str, reason: str) -> ApiError:
    """``errors.NewForbidden``; the named and unnamed shapes differ (create/list have no name)."""
    res = qualified(resource, group)
    if not res:
        message = f"forbidden: {reason}"
    elif not name:
        message = f"{res} is forbidden: {reason}"
    else:
        message = f"{res} {go_quote(name)} is forbidden: {reason}"
    return ApiError(
        code=403, reason="Forbidden", message=message, details=_details(name=name, group=group, kind=resource)
    )


def bad_request(message: str) -> ApiError:
    return ApiError(code=400, reason="BadRequest", message=message)


def unsupported_media_type(accepted: Sequence[str]) -> ApiError:
    return ApiError(
        code=415,
        reason="UnsupportedMediaType",
        message="the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )


def generic(code: int, message: str | None = None) -> ApiError:
    """``NewGenericServerResponse`` without a resource: the generic message and empty details."""
    return ApiError(
        code=code,
        reason=REASONS.get(code, "Unknown"),
        message=message
        or GENERIC_MESSAGES.get(
            code, f"the server responded with the status code {code} but did not return more information"
        ),
        details={},
    )


def method_not_allowed() -> ApiError:
    return generic(405)


def unauthorized() -> ApiError:
    return ApiError(code=401, reason="Unauthorized", message="Unauthorized")


def expired(message: str) -> ApiError:
    return ApiError(code=410, reason="Expired", message=message)


def internal(message: str) -> ApiError:
    return ApiError(
        code=500,
        reason="InternalError",
        message=f"Internal error occurred: {message}",
        details={"causes": [{"message": message}]},
    )
