"""Decoding the Kubernetes protobuf bodies kubectl's imperative commands send.

``kubectl create secret|configmap|namespace|serviceaccount|role|rolebinding`` post
``application/vnd.kubernetes.protobuf`` (the typed clientsets prefer it for built-in kinds), so a
server that only reads JSON answers them with 415. This decodes the protobuf envelope and those
kinds' messages (field numbers from k8s.io/api's generated.proto) into the JSON-shaped object the
rest of the sandbox works with; other kinds are refused with the 415 a server without protobuf
support would give.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    pass


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) for each field of one message; values stay raw."""
    out: list[tuple[int, int, Any]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        out.append((number, wire, value))
    if pos != len(data):
        raise ProtobufError("truncated message")
    return out


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


# A schema maps a field number to (json name, decoder, repeated?).
Decoder = Callable[[Any], Any]
Schema = dict[int, tuple[str, Decoder, bool]]


def _str(raw: Any) -> str:
    return bytes(raw).decode()


def _bytes_b64(raw: Any) -> str:
    return base64.b64encode(bytes(raw)).decode()


def _bool(raw: Any) -> bool:
    return bool(raw)


def _int(raw: Any) -> int:
    return int(raw)


def _message(schema: Schema) -> Decoder:
    def decode(raw: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for number, _, value in _fields(bytes(raw)):
            if number not in schema:
                continue
            name, decoder, repeated = schema[number]
            decoded = decoder(value)
            if repeated:
                out.setdefault(name, []).append(decoded)
            else:
                out[name] = decoded
        # Go's JSON encoding omits empty values of omitempty fields; protobuf carries them
        return {k: v for k, v in out.items() if v not in ("", 0, {}, None)}

    return decode


def _map(value_decoder: Decoder) -> Decoder:
    def decode(raw: Any) -> tuple[str, Any]:
        key, value = "", value_decoder(b"")
        for number, _, item in _fields(bytes(raw)):
            if number == 1:
                key = _str(item)
            elif number == 2:
                value = value_decoder(item)
        return key, value

    return decode


def _time(raw: Any) -> str:
    seconds = 0
    for number, _, value in _fields(bytes(raw)):
        if number == 1:
            seconds = int(value)
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if seconds else ""


_OWNER_REFERENCE = _message(
    {
        1: ("kind", _str, False),
        3: ("name", _str, False),
        4: ("uid", _str, False),
        5: ("apiVersion", _str, False),
        6: ("controller", _bool, False),
        7: ("blockOwnerDeletion", _bool, False),
    }
)
_OBJECT_META = _message(
    {
        1: ("name", _str, False),
        2: ("generateName", _str, False),
        3: ("namespace", _str, False),
        5: ("uid", _str, False),
        6: ("resourceVersion", _str, False),
        7: ("generation", _int, False),
        8: ("creationTimestamp", _time, False),
        11: ("labels", _map(_str), True),
        12: ("annotations", _map(_str), True),
        13: ("ownerReferences", _OWNER_REFERENCE, True),
        14: ("finalizers", _str, True),
    }
)
_OBJECT_REFERENCE = _message(
    {
        1: ("kind", _str, False),
        2: ("namespace", _str, False),
        3: ("name", _str, False),
        4: ("uid", _str, False),
        5: ("apiVersion", _str, False),
    }
)
_LOCAL_REFERENCE = _message({1: ("name", _str, False)})
_POLICY_RULE = _message(
    {
        1: ("verbs", _str, True),
        2: ("apiGroups", _str, True),
        3: ("resources", _str, True),
        4: ("resourceNames", _str, True),
        5: ("nonResourceURLs", _str, True),
    }
)
_SUBJECT = _message(
    {
        1: ("kind", _str, False),
        2: ("apiGroup", _str, False),
        3: ("name", _str, False),
        4: ("namespace", _str, False),
    }
)
_ROLE_REF = _message({1: ("apiGroup", _str, False), 2: ("kind", _str, False), 3: ("name", _str, False)})

_KINDS: dict[tuple[str, str], Schema] = {
    ("v1", "ConfigMap"): {
        1: ("metadata", _OBJECT_META, False),
        2: ("data", _map(_str), True),
        3: ("binaryData", _map(_bytes_b64), True),
        4: ("immutable", _bool, False),
    },
    ("v1", "Secret"): {
        1: ("metadata", _OBJECT_META, False),
        2: ("data", _map(_bytes_b64), True),
        3: ("type", _str, False),
        4: ("stringData", _map(_str), True),
        5: ("immutable", _bool, False),
    },
    ("v1", "Namespace"): {
        1: ("metadata", _OBJECT_META, False),
        2: ("spec", _message({1: ("finalizers", _str, True)}), False),
    },
    ("v1", "ServiceAccount"): {
        1: ("metadata", _OBJECT_META, False),
        2: ("secrets", _OBJECT_REFERENCE, True),
        3: ("imagePullSecrets", _LOCAL_REFERENCE, True),
        4: ("automountServiceAccountToken", _bool, False),
    },
    ("rbac.authorization.k8s.io/v1", "Role"): {
        1: ("metadata", _OBJECT_META, False),
        2: ("rules", _POLICY_RULE, True),
    },
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): {
        1: ("metadata", _OBJECT_META, False),
        2: ("subjects", _SUBJECT, True),
        3: ("roleRef", _ROLE_REF, False),
    },
}
_MAP_FIELDS = {"data", "binaryData", "stringData", "labels", "annotations"}


def supports(api_version: str, kind: str) -> bool:
    return (api_version, kind) in _KINDS


def decode(body: bytes) -> dict[str, Any]:
    """The JSON-shaped object inside a ``k8s\\0`` protobuf envelope."""
    if not body.startswith(MAGIC):
        raise ProtobufError("provided object is not protobuf-encoded: missing the 'k8s\\x00' prefix")
    api_version = kind = ""
    raw = b""
    for number, _, value in _fields(body[len(MAGIC) :]):
        if number == 1:
            for tm_number, _, tm_value in _fields(bytes(value)):
                if tm_number == 1:
                    api_version = _str(tm_value)
                elif tm_number == 2:
                    kind = _str(tm_value)
        elif number == 2:
            raw = bytes(value)
    schema = _KINDS.get((api_version, kind))
    if schema is None:
        raise ProtobufError(f"no protobuf decoding for {api_version}/{kind} in the sandbox")
    obj = _message(schema)(raw)
    _collapse_maps(obj)
    return {"apiVersion": api_version, "kind": kind, **obj}


def _collapse_maps(value: Any) -> None:
    """Turn the repeated (key, value) entries of map fields into JSON objects."""
    if isinstance(value, dict):
        for key, item in list(value.items()):
            if key in _MAP_FIELDS and isinstance(item, list):
                value[key] = dict(item)
            else:
                _collapse_maps(item)
    elif isinstance(value, list):
        for item in value:
            _collapse_maps(item)
