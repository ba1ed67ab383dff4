"""Generic and built-in-kind validation, with the exact messages of k8s.io/apimachinery and core.

Structural validation of custom kinds lives in ``schemas.py`` (their CRD schemas); this module
covers what a real server checks in Go code: object names, labels, annotations, finalizers,
owner references, and the rules of Secret, ConfigMap, PersistentVolumeClaim, Namespace,
StorageClass and RoleBinding. Decode-level problems (bad base64, unparsable quantities) are
raised as 400 errors the way the JSON decoder reports them, before any field validation.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from . import quantity
from .kinds import Kind
from .names import config_key, dns1123_label, label_value, qualified_name, validate_name
from .status import (
    ApiError,
    Cause,
    bad_request,
    forbidden,
    forbidden_field,
    invalid,
    required,
    too_long,
)

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})
IMMUTABLE = "field is immutable"


# ---------------------------------------------------------------- metadata


def validate_metadata(kind: Kind, obj: Mapping[str, Any]) -> list[Cause]:
    meta = obj.get("metadata") or {}
    causes: list[Cause] = []
    generate_name = meta.get("generateName") or ""
    if generate_name:
        for msg in validate_name(kind.name_rule, generate_name, prefix=True):
            causes.append(invalid("metadata.generateName", generate_name, msg))
    name = meta.get("name") or ""
    if not name:
        causes.append(required("metadata.name", "name or generateName is required"))
    else:
        for msg in validate_name(kind.name_rule, name):
            causes.append(invalid("metadata.name", name, msg))
    namespace = meta.get("namespace") or ""
    if kind.namespaced:
        if not namespace:
            causes.append(required("metadata.namespace"))
        else:
            for msg in dns1123_label(namespace):
                causes.append(invalid("metadata.namespace", namespace, msg))
    elif namespace:
        causes.append(forbidden_field("metadata.namespace", "not allowed on this type"))
    causes.extend(_labels(meta.get("labels")))
    causes.extend(_annotations(meta.get("annotations")))
    causes.extend(_owner_references(meta.get("ownerReferences")))
    for fin in meta.get("finalizers") or []:
        field = "metadata.finalizers"
        causes.extend(invalid(field, fin, msg) for msg in qualified_name(str(fin)))
        if not kind.is_custom and "/" not in str(fin) and fin not in STANDARD_FINALIZERS:
            causes.append(
                invalid(field, fin, "name is neither a standard finalizer name nor is it fully qualified")
            )
    return causes


def _labels(labels: Any) -> list[Cause]:
    causes: list[Cause] = []
    for key, value in (labels or {}).items():
        causes.extend(invalid("metadata.labels", key, msg) for msg in qualified_name(key))
        causes.extend(invalid("metadata.labels", value, msg) for msg in label_value(str(value)))
    return causes


def _annotations(annotations: Any) -> list[Cause]:
    causes: list[Cause] = []
    total = 0
    for key, value in (annotations or {}).items():
        causes.extend(invalid("metadata.annotations", key, msg) for msg in qualified_name(key.lower()))
        total += len(key) + len(str(value))
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        causes.append(too_long("metadata.annotations", TOTAL_ANNOTATION_SIZE_LIMIT))
    return causes


def _owner_references(refs: Any) -> list[Cause]:
    causes: list[Cause] = []
    controllers = 0
    for ref in refs or []:
        if not ref.get("apiVersion"):
            causes.append(invalid("metadata.ownerReferences.apiVersion", "", "version must not be empty"))
        if not ref.get("kind"):
            causes.append(invalid("metadata.ownerReferences.kind", "", "kind must not be empty"))
        if not ref.get("name"):
            causes.append(invalid("metadata.ownerReferences.name", "", "name must not be empty"))
        if not ref.get("uid"):
            causes.append(invalid("metadata.ownerReferences.uid", "", "uid must not be empty"))
        controllers += bool(ref.get("controller"))
    if controllers > 1:
        causes.append(
            Cause(
                "metadata.ownerReferences",
                "FieldValueInvalid",
                "Invalid value: []v1.OwnerReference{...}: Only one reference can have Controller set "
                'to true. Found "true" in references for '
                + " and ".join(f"{r.get('kind')}/{r.get('name')}" for r in refs if r.get("controller")),
            )
        )
    return causes


def validate_metadata_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    new_meta, old_meta = new.get("metadata") or {}, old.get("metadata") or {}
    uid = new_meta.get("uid")
    if uid and uid != old_meta.get("uid"):
        causes.append(invalid("metadata.uid", uid, IMMUTABLE))
    if old_meta.get("deletionTimestamp"):
        added = [f for f in new_meta.get("finalizers") or [] if f not in (old_meta.get("finalizers") or [])]
        if added:
            causes.append(
                Cause(
                    "metadata.finalizers",
                    "FieldValueForbidden",
                    "Forbidden: no new finalizers can be added if the object is being deleted, "
                    "found new finalizers []string{" + ", ".join(json.dumps(f) for f in added) + "}",
                )
            )
    return causes


# ---------------------------------------------------------------- decode-level checks (400)


def go_base64_error(text: str) -> int | None:
    """The byte offset Go's base64.StdEncoding reports for ``text``, or None when it decodes."""
    src = text.encode()
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    si = 0
    n = len(src)
    while si < n:
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return None
                return si - j
            ch = src[si]
            si += 1
            if ch in alphabet:
                j += 1
                continue
            if ch in (0x0A, 0x0D):
                continue
            if ch != ord("="):
                return si - 1
            if j in (0, 1):
                return si - 1
            if j == 2:
                while si < n and src[si] in (0x0A, 0x0D):
                    si += 1
                if si == n:
                    return n
                if src[si] != ord("="):
                    return si - 1
                si += 1
            while si < n and src[si] in (0x0A, 0x0D):
                si += 1
            if si < n:
                return si
            return None
    return None


def _cannot_handle(kind: Kind, detail: str) -> ApiError:
    return bad_request(
        f"{kind.kind} in version {json.dumps(kind.version)} cannot be handled as a {kind.kind}: {detail}"
    )


def check_decodable(kind: Kind, obj: Mapping[str, Any]) -> None:
    """Raise the 400 a server's decoder gives for bytes fields and quantities that do not decode."""
    if kind.key == "secrets" or kind.key == "configmaps":
        field_name = "data" if kind.key == "secrets" else "binaryData"
        for value in (obj.get(field_name) or {}).values():
            if not isinstance(value, str):
                raise _cannot_handle(kind, "json: cannot unmarshal into Go value of type []uint8")
            offset = go_base64_error(value)
            if offset is not None:
                raise _cannot_handle(kind, f"illegal base64 data at input byte {offset}")
    if kind.key == "persistentvolumeclaims":
        resources = (obj.get("spec") or {}).get("resources") or {}
        for section in ("requests", "limits"):
            for value in (resources.get(section) or {}).values():
                _check_quantity(kind, value)
    if kind.key == "pods":
        for container in (obj.get("spec") or {}).get("containers") or []:
            for section in ("requests", "limits"):
                for value in ((container.get("resources") or {}).get(section) or {}).values():
                    _check_quantity(kind, value)


def _check_quantity(kind: Kind, value: Any) -> None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return
    try:
        quantity.parse_quantity(str(value))
    except quantity.QuantityError as exc:
        raise _cannot_handle(kind, str(exc)) from None


# ---------------------------------------------------------------- defaulting of built-in kinds


def prepare(kind: Kind, obj: dict[str, Any], *, creating: bool) -> None:
    """Defaulting and normalisation a server applies before validation (mutates ``obj``)."""
    key = kind.key
    if key == "secrets":
        string_data = obj.pop("stringData", None)
        if string_data:
            data = dict(obj.get("data") or {})
            for k, v in string_data.items():
                data[k] = base64.b64encode(str(v).encode()).decode()
            obj["data"] = data
        if creating:
            obj.setdefault("type", "Opaque")
    elif key == "persistentvolumeclaims":
        spec = obj.setdefault("spec", {})
        spec.setdefault("volumeMode", "Filesystem")
        _canonical_resources(spec.get("resources"))
        if creating:
            obj.setdefault("status", {"phase": "Pending"})
    elif key == "namespaces":
        meta = obj.setdefault("metadata", {})
        if meta.get("name"):
            labels = dict(meta.get("labels") or {})
            labels["kubernetes.io/metadata.name"] = meta["name"]
            meta["labels"] = labels
        if creating:
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj.setdefault("status", {"phase": "Active"})
    elif key == "pods":
        spec = obj.setdefault("spec", {})
        for container in spec.get("containers") or []:
            _canonical_resources(container.get("resources"))
        if creating and "status" not in obj:
            obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    elif key == "storageclasses":
        obj.setdefault("reclaimPolicy", "Delete")
        obj.setdefault("volumeBindingMode", "Immediate")


def _canonical_resources(resources: Any) -> None:
    if not isinstance(resources, dict):
        return
    for section in ("requests", "limits"):
        values = resources.get(section)
        if isinstance(values, dict):
            resources[section] = {k: quantity.canonicalize(v) for k, v in values.items()}


# ---------------------------------------------------------------- per-kind validation


def validate_kind(kind: Kind, obj: Mapping[str, Any]) -> list[Cause]:
    """Rules of built-in kinds beyond their structure (which ``schemas.CORE_RULES`` covers)."""
    key = kind.key
    if key == "secrets":
        return _secret(obj)
    if key == "configmaps":
        return _configmap(obj)
    if key == "persistentvolumeclaims":
        storage = (((obj.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
        if storage is not None and quantity.quantity_value(storage) <= 0:
            return [invalid("spec.resources[storage]", str(storage), "must be greater than zero")]
    return []


def _secret(obj: Mapping[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    data = obj.get("data") or {}
    for k in data:
        causes.extend(invalid(f"data[{k}]", k, msg) for msg in config_key(k))
    if obj.get("type") == "kubernetes.io/dockerconfigjson":
        raw = data.get(".dockerconfigjson")
        if raw is None:
            causes.append(required("data[.dockerconfigjson]"))
        else:
            try:
                json.loads(base64.b64decode(raw))
            except (ValueError, binascii.Error) as exc:
                causes.append(
                    invalid("data[.dockerconfigjson]", "<secret contents redacted>", _go_json_error(exc))
                )
    return causes


def _go_json_error(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        if exc.pos >= len(exc.doc):
            return "unexpected end of JSON input"
        return f"invalid character '{exc.doc[exc.pos]}' looking for beginning of value"
    return "invalid character looking for beginning of value"


def _configmap(obj: Mapping[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    data = obj.get("data") or {}
    binary = obj.get("binaryData") or {}
    for k in data:
        causes.extend(invalid(f"data[{k}]", k, msg) for msg in config_key(k))
    for k in binary:
        causes.extend(invalid(f"binaryData[{k}]", k, msg) for msg in config_key(k))
        if k in data:
            causes.append(invalid(f"binaryData[{k}]", k, "duplicate of key present in data"))
    return causes


def validate_kind_update(kind: Kind, new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    key = kind.key
    if key == "secrets":
        causes: list[Cause] = []
        if new.get("type") != old.get("type"):
            causes.append(invalid("type", new.get("type"), IMMUTABLE))
        if old.get("immutable"):
            if not new.get("immutable"):
                causes.append(forbidden_field("immutable", "field is immutable when `immutable` is set"))
            if (new.get("data") or {}) != (old.get("data") or {}):
                causes.append(forbidden_field("data", "field is immutable when `immutable` is set"))
        return causes
    if key == "configmaps" and old.get("immutable"):
        causes = []
        if not new.get("immutable"):
            causes.append(forbidden_field("immutable", "field is immutable when `immutable` is set"))
        if (new.get("data") or {}) != (old.get("data") or {}):
            causes.append(forbidden_field("data", "field is immutable when `immutable` is set"))
        return causes
    if key == "persistentvolumeclaims":
        return _pvc_update(new, old)
    if key == "storageclasses":
        causes = []
        for fld in ("parameters", "provisioner", "reclaimPolicy"):
            if new.get(fld) != old.get(fld):
                causes.append(forbidden_field(fld, f"updates to {fld} are forbidden."))
        if new.get("volumeBindingMode") != old.get("volumeBindingMode"):
            causes.append(forbidden_field("volumeBindingMode", IMMUTABLE))
        return causes
    if key == "rolebindings.rbac.authorization.k8s.io" and new.get("roleRef") != old.get("roleRef"):
        return [invalid("roleRef", new.get("roleRef"), "cannot change roleRef")]
    return []


def _storage(pvc: Mapping[str, Any]) -> Any:
    return (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")


def _pvc_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    bound = (old.get("status") or {}).get("phase") == "Bound"
    new_spec = json.loads(json.dumps(new.get("spec") or {}))
    old_spec = old.get("spec") or {}
    if bound and _storage(new) is not None:
        new_spec.setdefault("resources", {}).setdefault("requests", {})["storage"] = _storage(old)
    old_cmp = dict(old_spec)
    # A claim may be bound by filling in volumeName once, and may get a class once when it had none
    # (RetroactiveDefaultStorageClass, on by default since 1.28).
    if not old_spec.get("volumeName") and new_spec.get("volumeName"):
        new_spec.pop("volumeName")
        old_cmp.pop("volumeName", None)
    if (
        old_spec.get("storageClassName") is None
        and new_spec.get("storageClassName")
        and "volume.beta.kubernetes.io/storage-class"
        not in ((old.get("metadata") or {}).get("annotations") or {})
    ):
        new_spec.pop("storageClassName")
        old_cmp.pop("storageClassName", None)
    if new_spec != old_cmp:
        causes.append(
            forbidden_field(
                "spec",
                "spec is immutable after creation except resources.requests for bound claims\n"
                + _spec_diff(old_cmp, new_spec),
            )
        )
    new_size, old_size = _storage(new), _storage(old)
    if bound and new_size is not None and old_size is not None and quantity.compare(new_size, old_size) < 0:
        capacity = ((old.get("status") or {}).get("capacity") or {}).get("storage", old_size)
        if quantity.compare(new_size, capacity) <= 0:
            causes.append(
                forbidden_field(
                    "spec.resources.requests.storage", "field can not be less than status.capacity"
                )
            )
    return causes


def _spec_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """A short cmp.Diff-like rendering; real servers print a Go diff of the two specs."""
    lines = ["  core.PersistentVolumeClaimSpec{"]
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            if key in old:
                lines.append(f"- \t{key}: {json.dumps(old[key], sort_keys=True)},")
            if key in new:
                lines.append(f"+ \t{key}: {json.dumps(new[key], sort_keys=True)},")
        else:
            lines.append(f"  \t{key}: {json.dumps(old[key], sort_keys=True)},")
    lines.append("  }")
    return "\n".join(lines) + "\n"


def pvc_resize_admission(
    *, new: Mapping[str, Any], old: Mapping[str, Any], storage_class: Mapping[str, Any] | None
) -> ApiError | None:
    """The PersistentVolumeClaimResize admission plugin: growth needs an expandable class (403)."""
    new_size, old_size = _storage(new), _storage(old)
    if new_size is None or old_size is None or quantity.compare(new_size, old_size) <= 0:
        return None
    name = (new.get("metadata") or {}).get("name", "")
    if (old.get("status") or {}).get("phase") != "Bound":
        return forbidden(
            resource="persistentvolumeclaims",
            group="",
            name=name,
            reason="Only bound persistent volume claims can be expanded",
        )
    new_class = (new.get("spec") or {}).get("storageClassName") or ""
    old_class = (old.get("spec") or {}).get("storageClassName") or ""
    allowed = (
        bool(new_class)
        and new_class == old_class
        and storage_class is not None
        and storage_class.get("allowVolumeExpansion") is True
    )
    if allowed:
        return None
    return forbidden(
        resource="persistentvolumeclaims",
        group="",
        name=name,
        reason="only dynamically provisioned pvc can be resized and the storageclass that "
        "provisions the pvc must support resize",
    )
