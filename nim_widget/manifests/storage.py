"""The model cache PVC (B.6, wizard column) and growing an existing one on update.

One deliberate difference from the dashboard: we do not send `status: {phase: Pending}` in the create
body. The API server resets a new PVC's status anyway (it is a status-subresource field), so the
object created is the same; leaving it out keeps the manifest to what we actually ask for. With no
storage class chosen and no default known, `storageClassName` is left out (the dashboard sends `""`,
which means "no class" and binds only to pre-provisioned volumes); validation refuses that case
before assembly, so in practice the class is always written.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from nim_widget.catalog import NIM_PVC_ANNOTATION, NIM_SUBPATH_ANNOTATION
from nim_widget.request import DeploymentRequest

FORCE_REDEPLOY_ANNOTATION = "runtimes.opendatahub.io/force-redeploy"


def build_pvc(*, request: DeploymentRequest, storage_class: str | None) -> dict[str, Any]:
    """A new cache PVC: name translated from the typed name, display name as typed, size as given,
    and the wizard's `nim-pvc`/`nim-subpath` annotations so the dashboard lists it as NIM storage."""
    size = request.storage.size
    assert size is not None  # new storage always has a size (default 50Gi)
    annotations = {
        "openshift.io/display-name": request.pvc_display_name,
        NIM_PVC_ANNOTATION: "true",
    }
    if request.storage.sub_path:
        annotations[NIM_SUBPATH_ANNOTATION] = request.storage.sub_path
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": size}},
        "volumeMode": "Filesystem",
    }
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": request.pvc_resource_name,
            "namespace": request.project,
            "labels": {"opendatahub.io/dashboard": "true", "opendatahub.io/managed": "true"},
            "annotations": annotations,
        },
        "spec": spec,
    }


def timestamp(moment: datetime) -> str:
    """JavaScript's `toISOString()` form, which the dashboard writes: `2026-08-22T10:00:00.000Z`."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def grown_pvc(*, existing: Mapping[str, Any], size: str, at: datetime) -> dict[str, Any]:
    """The body to PUT to grow a PVC (the legacy edit's resize): the live object with the new size and
    `runtimes.opendatahub.io/force-redeploy` set to when the facts were read (deterministic)."""
    result = copy.deepcopy(dict(existing))
    result.pop("status", None)
    metadata = result.setdefault("metadata", {})
    metadata.pop("managedFields", None)
    annotations = dict(metadata.get("annotations") or {})
    annotations[FORCE_REDEPLOY_ANNOTATION] = timestamp(at)
    metadata["annotations"] = annotations
    spec = result.setdefault("spec", {})
    resources = spec.setdefault("resources", {})
    resources["requests"] = {**(resources.get("requests") or {}), "storage": size}
    return result
