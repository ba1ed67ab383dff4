"""kube-scheduler's decision for one pod, with the exact message it writes when no node fits.

The filters run in the default profile's order and stop at a node's first failure, as the
framework does: ``NodeUnschedulable``, ``TaintToleration``, ``NodeAffinity`` (nodeSelector and
required node affinity), ``NodeResourcesFit`` (every insufficient resource is a reason). The
``VolumeBinding`` pre-filter rejects the pod on every node at once when a claim is missing or is
an unbound claim of an ``Immediate`` class. The message is ``FitError.Error()``: the histogram of
reasons, sorted as strings, then the preemption post-filter's own histogram, e.g.

    0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) had untolerated taint
    {node-role.kubernetes.io/master: }. preemption: 0/3 nodes are available: 1 No preemption
    victims found for incoming pod, 2 Preemption is not helpful for scheduling.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..quantity import QuantityError, quantity_value
from .base import (
    NODES,
    PODS,
    PVCS,
    STORAGECLASSES,
    Obj,
    Store,
    as_dict,
    as_list,
    deleting,
    labels_of,
    name_of,
)
from .storage import claims_of

NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"


@dataclass
class Decision:
    node: str | None = None
    message: str = ""  # the FitError text when no node fits
    wait_for_claims: list[str] = field(default_factory=list)  # WaitForFirstConsumer claims to provision


# ---------------------------------------------------------------- resources


def _quantity(value: Any) -> Fraction:
    try:
        return quantity_value(value)
    except (QuantityError, TypeError, ValueError):
        return Fraction(0)


def container_requests(container: Mapping[str, Any]) -> dict[str, Fraction]:
    """Requests with the API server's defaulting: a resource with only a limit requests the limit."""
    resources = as_dict(container.get("resources"))
    out = {k: _quantity(v) for k, v in as_dict(resources.get("limits")).items()}
    out.update({k: _quantity(v) for k, v in as_dict(resources.get("requests")).items()})
    return out


def pod_requests(pod: Mapping[str, Any]) -> dict[str, Fraction]:
    spec = as_dict(pod.get("spec"))
    total: dict[str, Fraction] = {}
    for container in as_list(spec.get("containers")):
        for k, v in container_requests(as_dict(container)).items():
            total[k] = total.get(k, Fraction(0)) + v
    for container in as_list(spec.get("initContainers")):
        for k, v in container_requests(as_dict(container)).items():
            total[k] = max(total.get(k, Fraction(0)), v)
    return total


def _allocatable(node: Mapping[str, Any]) -> dict[str, Fraction]:
    status = as_dict(node.get("status"))
    source = as_dict(status.get("allocatable")) or as_dict(status.get("capacity"))
    return {k: _quantity(v) for k, v in source.items()}


def _active_on(pods: Iterable[Obj], node: str, exclude_uid: str) -> list[Obj]:
    return [
        p
        for p in pods
        if as_dict(p.get("spec")).get("nodeName") == node
        and as_dict(p.get("metadata")).get("uid") != exclude_uid
        and as_dict(p.get("status")).get("phase") not in ("Succeeded", "Failed")
    ]


# ---------------------------------------------------------------- node filters


def _tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    operator = toleration.get("operator") or "Equal"
    if key and key != taint.get("key"):
        return False
    if operator == "Exists":
        return True
    return bool(key) and (toleration.get("value") or "") == (taint.get("value") or "")


def _untolerated_taint(node: Obj, tolerations: list[Any]) -> Mapping[str, Any] | None:
    for taint in as_list(as_dict(node.get("spec")).get("taints")):
        taint = as_dict(taint)
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not any(_tolerates(as_dict(t), taint) for t in tolerations):
            return taint
    return None


def _expression_matches(expr: Mapping[str, Any], value: str | None) -> bool:
    operator = expr.get("operator")
    values = [str(v) for v in as_list(expr.get("values"))]
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and values:
        try:
            a, b = int(value), int(values[0])
        except ValueError:
            return False
        return a > b if operator == "Gt" else a < b
    return False


def _matches_affinity(node: Obj, spec: Mapping[str, Any]) -> bool:
    labels = labels_of(node)
    for key, value in as_dict(spec.get("nodeSelector")).items():
        if labels.get(key) != value:
            return False
    required = as_dict(
        as_dict(as_dict(spec.get("affinity")).get("nodeAffinity")).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
    )
    terms = as_list(required.get("nodeSelectorTerms"))
    if not terms:
        return True
    for term in terms:
        term = as_dict(term)
        ok = all(
            _expression_matches(as_dict(e), labels.get(str(as_dict(e).get("key"))))
            for e in as_list(term.get("matchExpressions"))
        )
        ok = ok and all(
            _expression_matches(as_dict(e), name_of(node))
            for e in as_list(term.get("matchFields"))
            if as_dict(e).get("key") == "metadata.name"
        )
        if ok and (term.get("matchExpressions") or term.get("matchFields")):
            return True
    return False


def _filter(node: Obj, pod: Obj, requests: dict[str, Fraction], pods: list[Obj]) -> tuple[list[str], bool]:
    """The reasons ``node`` rejects ``pod`` and whether preemption could help (resources only)."""
    spec = as_dict(pod.get("spec"))
    if as_dict(node.get("spec")).get("unschedulable"):
        return ["node(s) were unschedulable"], False
    taint = _untolerated_taint(node, as_list(spec.get("tolerations")))
    if taint is not None:
        return [f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value', '')}}}"], False
    if not _matches_affinity(node, spec):
        return ["node(s) didn't match Pod's node affinity/selector"], False
    allocatable = _allocatable(node)
    used: dict[str, Fraction] = {}
    running = _active_on(pods, name_of(node), str(as_dict(pod.get("metadata")).get("uid", "")))
    for other in running:
        for k, v in pod_requests(other).items():
            used[k] = used.get(k, Fraction(0)) + v
    reasons = []
    if "pods" in allocatable and len(running) + 1 > allocatable["pods"]:
        reasons.append("Too many pods")
    for resource in sorted(requests):
        wanted = requests[resource]
        if wanted <= 0:
            continue
        free = allocatable.get(resource, Fraction(0)) - used.get(resource, Fraction(0))
        if wanted > free:
            reasons.append(f"Insufficient {resource}")
    return reasons, True


def _histogram(counter: Counter[str]) -> str:
    return ", ".join(sorted(f"{count} {reason}" for reason, count in counter.items()))


def _fit_error(total: int, filter_part: str, victims: int, not_helpful: int) -> str:
    preemption = Counter({NO_VICTIMS: victims, NOT_HELPFUL: not_helpful})
    preemption = Counter({k: v for k, v in preemption.items() if v})
    message = f"0/{total} nodes are available: {filter_part}."
    return f"{message} preemption: 0/{total} nodes are available: {_histogram(preemption)}."


def _least_allocated_key(
    node: Obj, requests: dict[str, Fraction], pods: list[Obj], uid: str
) -> tuple[Fraction, str]:
    allocatable = _allocatable(node)
    used: dict[str, Fraction] = {}
    for other in _active_on(pods, name_of(node), uid):
        for k, v in pod_requests(other).items():
            used[k] = used.get(k, Fraction(0)) + v
    fractions = []
    for resource in ("cpu", "memory"):
        cap = allocatable.get(resource, Fraction(0))
        if cap > 0:
            fractions.append((used.get(resource, Fraction(0)) + requests.get(resource, Fraction(0))) / cap)
    load = sum(fractions, Fraction(0)) / len(fractions) if fractions else Fraction(0)
    return load, name_of(node)


# ---------------------------------------------------------------- the decision


def decide(store: Store, pod: Obj) -> Decision:
    namespace = str(as_dict(pod.get("metadata")).get("namespace", ""))
    nodes = sorted(store.list(NODES)[0], key=name_of)
    total = len(nodes)
    if total == 0:
        return Decision(message="no nodes available to schedule pods")

    wait: list[str] = []
    for claim in claims_of(pod):
        pvc = store.try_get(PVCS, namespace, claim)
        if pvc is None:
            return Decision(message=_fit_error(total, f'persistentvolumeclaim "{claim}" not found', 0, total))
        if deleting(pvc):
            return Decision(
                message=_fit_error(total, f'persistentvolumeclaim "{claim}" is being deleted', 0, total)
            )
        if as_dict(pvc.get("status")).get("phase") == "Bound":
            continue
        sc_name = as_dict(pvc.get("spec")).get("storageClassName")
        sc = store.try_get(STORAGECLASSES, None, str(sc_name)) if sc_name else None
        if sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer":
            wait.append(claim)
            continue
        return Decision(
            message=_fit_error(total, "pod has unbound immediate PersistentVolumeClaims", 0, total)
        )

    pods = store.list(PODS)[0]
    requests = pod_requests(pod)
    uid = str(as_dict(pod.get("metadata")).get("uid", ""))
    reasons: Counter[str] = Counter()
    victims = not_helpful = 0
    feasible = []
    for node in nodes:
        node_reasons, resolvable = _filter(node, pod, requests, pods)
        if not node_reasons:
            feasible.append(node)
            continue
        reasons.update(node_reasons)
        if resolvable:
            victims += 1
        else:
            not_helpful += 1
    if not feasible:
        return Decision(message=_fit_error(total, _histogram(reasons), victims, not_helpful))
    best = min(feasible, key=lambda n: _least_allocated_key(n, requests, pods, uid))
    return Decision(node=name_of(best), wait_for_claims=wait)
