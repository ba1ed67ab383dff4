"""Field rules of built-in kinds that a real API server checks in Go, not through a schema.

Only the rules that answer 422 ``Invalid`` with a cause and that concern structure (required
fields, closed sets of values) are here; names, labels, quantities, base64 and immutability are
the generic validation's business. Each message is the one ``k8s.io/kubernetes/pkg/apis/*/validation``
produces, because clients match on them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .status import Cause, go_value, invalid, invalid_raw, not_supported, required

_ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_RBAC_GROUP = "rbac.authorization.k8s.io"


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pod(obj: Mapping[str, Any]) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    causes: list[Cause] = []
    containers = _list(spec.get("containers"))
    if not containers:
        causes.append(required("spec.containers"))
    for i, container in enumerate(containers):
        container = _dict(container)
        if not container.get("name"):
            causes.append(required(f"spec.containers[{i}].name"))
        if not container.get("image"):
            causes.append(required(f"spec.containers[{i}].image"))
    policy = spec.get("restartPolicy")
    if policy not in (None, "Always", "OnFailure", "Never"):
        causes.append(not_supported("spec.restartPolicy", policy, ("Always", "OnFailure", "Never")))
    return causes


def _persistent_volume_claim(obj: Mapping[str, Any]) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    causes: list[Cause] = []
    modes = _list(spec.get("accessModes"))
    if not modes:
        causes.append(required("spec.accessModes", "at least 1 access mode is required"))
    for mode in modes:
        if mode not in _ACCESS_MODES:
            causes.append(not_supported("spec.accessModes", mode, _ACCESS_MODES))
    requests = _dict(_dict(spec.get("resources")).get("requests"))
    if "storage" not in requests:
        causes.append(required("spec.resources[storage]"))
    mode = spec.get("volumeMode")
    if mode is not None and mode not in ("Block", "Filesystem"):
        causes.append(not_supported("spec.volumeMode", mode, ("Block", "Filesystem")))
    return causes


def _storage_class(obj: Mapping[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    if not obj.get("provisioner"):
        causes.append(required("provisioner"))
    policy = obj.get("reclaimPolicy")
    if policy is not None and policy not in ("Delete", "Retain"):
        causes.append(not_supported("reclaimPolicy", policy, ("Delete", "Retain")))
    binding = obj.get("volumeBindingMode")
    if binding is not None and binding not in ("Immediate", "WaitForFirstConsumer"):
        causes.append(not_supported("volumeBindingMode", binding, ("Immediate", "WaitForFirstConsumer")))
    return causes


def _node(obj: Mapping[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    for i, taint in enumerate(_list(_dict(obj.get("spec")).get("taints"))):
        effect = _dict(taint).get("effect")
        if not effect:
            causes.append(required(f"spec.taints[{i}].effect"))
        elif effect not in _TAINT_EFFECTS:
            causes.append(not_supported(f"spec.taints[{i}].effect", effect, _TAINT_EFFECTS))
    return causes


def _role(obj: Mapping[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    for i, rule in enumerate(_list(obj.get("rules"))):
        rule = _dict(rule)
        path = f"rules[{i}]"
        if not rule.get("verbs"):
            causes.append(required(f"{path}.verbs", "verbs must contain at least one value"))
        urls = _list(rule.get("nonResourceURLs"))
        if urls:
            causes.append(
                invalid(f"{path}.nonResourceURLs", urls, "namespaced rules cannot apply to non-resource URLs")
            )
            continue
        if not rule.get("apiGroups"):
            causes.append(required(f"{path}.apiGroups", "resource rules must supply at least one api group"))
        if not rule.get("resources"):
            causes.append(required(f"{path}.resources", "resource rules must supply at least one resource"))
    return causes


def _role_binding(obj: Mapping[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    ref = _dict(obj.get("roleRef"))
    group = ref.get("apiGroup") or _RBAC_GROUP  # v1 defaulting fills an empty apiGroup in
    if group != _RBAC_GROUP:
        causes.append(not_supported("roleRef.apiGroup", group, (_RBAC_GROUP,)))
    kind = ref.get("kind", "")
    if kind not in ("Role", "ClusterRole"):
        causes.append(not_supported("roleRef.kind", kind, ("Role", "ClusterRole")))
    if not ref.get("name"):
        causes.append(required("roleRef.name"))
    for i, subject in enumerate(_list(obj.get("subjects"))):
        subject = _dict(subject)
        path = f"subjects[{i}]"
        if not subject.get("name"):
            causes.append(required(f"{path}.name"))
        kind = subject.get("kind", "")
        api_group = subject.get("apiGroup") or ""
        if kind == "ServiceAccount":
            if api_group:
                causes.append(not_supported(f"{path}.apiGroup", api_group, ("",)))
        elif kind in ("User", "Group"):
            if api_group not in ("", _RBAC_GROUP):
                causes.append(not_supported(f"{path}.apiGroup", api_group, (_RBAC_GROUP,)))
        else:
            causes.append(not_supported(f"{path}.kind", kind, ("ServiceAccount", "User", "Group")))
    return causes


def _self_subject_access_review(obj: Mapping[str, Any]) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    resource, non_resource = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if resource is not None and non_resource is not None:
        attrs = _dict(non_resource)
        rendered = (
            f"authorization.NonResourceAttributes{{Path:{go_value(attrs.get('path', ''))}, "
            f"Verb:{go_value(attrs.get('verb', ''))}}}"
        )
        return [
            invalid_raw(
                "spec.nonResourceAttributes",
                rendered,
                "cannot be specified in combination with resourceAttributes",
            )
        ]
    if resource is None and non_resource is None:
        return [
            invalid(
                "spec.resourceAttributes",
                "null",
                "exactly one of nonResourceAttributes or resourceAttributes must be specified",
            )
        ]
    return []


CORE_RULES: dict[str, Callable[[Mapping[str, Any]], list[Cause]]] = {
    "pods": _pod,
    "persistentvolumeclaims": _persistent_volume_claim,
    "storageclasses.storage.k8s.io": _storage_class,
    "nodes": _node,
    "roles.rbac.authorization.k8s.io": _role,
    "rolebindings.rbac.authorization.k8s.io": _role_binding,
    "selfsubjectaccessreviews.authorization.k8s.io": _self_subject_access_review,
}
