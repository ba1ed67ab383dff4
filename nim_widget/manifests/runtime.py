"""The ServingRuntime, built from the account's Template the way the dashboard wizard does (B.2).

Steps, in the wizard's order: take the converted template runtime; add the `/dev/shm` mount and its
memory volume; remove every container's `resources` (the hardware profile sets them on the
InferenceService); set name, namespace and template annotations; set the image and
`supportedModelFormats`; wire the cache PVC at `/mnt/models/cache` with the subPath and re-append
`NIM_CACHE_PATH`. Deviations, each because the dashboard's output would be wrong or noisy:

* `metadata.creationTimestamp: null` and `status: {}` (Go serialisation artefacts of the template)
  are dropped: the API server ignores them and they are not part of what we ask for.
* The PVC volume is named after the PVC, as the dashboard does, unless that name is not a valid
  volume name (a PVC name may contain `.` or be longer than 63) or collides with another of the
  template's volumes (a PVC called `nim-cache`); then it is named `nim-pvc`, the template's own name
  for the cache volume. The dashboard finds the cache by mount path and claim name, not volume name.
* An existing PVC is used by its name as is (the dashboard translates it again, which breaks names
  containing `.`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from nim_widget import naming
from nim_widget.catalog import KSERVE_CONTAINER
from nim_widget.facts import RuntimeTemplate

CACHE_MOUNT_PATH = "/mnt/models/cache"
SHM_MOUNT_PATH = "/dev/shm"
SHM_VOLUME = {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}}
TEMPLATE_PVC_VOLUME = "nim-pvc"
NIM_CACHE_PATH = "NIM_CACHE_PATH"

DISPLAY_NAME = "openshift.io/display-name"
TEMPLATE_NAME = "opendatahub.io/template-name"
TEMPLATE_DISPLAY_NAME = "opendatahub.io/template-display-name"


def _kserve_container(containers: list[dict[str, Any]]) -> dict[str, Any]:
    for container in containers:
        if container.get("name") == KSERVE_CONTAINER:
            return container
    raise ValueError(f"the runtime template has no {KSERVE_CONTAINER}")


def _claim(volume: Mapping[str, Any]) -> str | None:
    claim = volume.get("persistentVolumeClaim")
    if isinstance(claim, Mapping) and isinstance(claim.get("claimName"), str):
        return str(claim["claimName"])
    return None


def _add_shm(spec: dict[str, Any], container: dict[str, Any]) -> None:
    mounts = container.setdefault("volumeMounts", [])
    if not any(m.get("mountPath") == SHM_MOUNT_PATH for m in mounts):
        mounts.append({"name": "shm", "mountPath": SHM_MOUNT_PATH})
    volumes = spec.setdefault("volumes", [])
    if not any(v.get("name") == "shm" for v in volumes):
        volumes.append(copy.deepcopy(SHM_VOLUME))


def _wire_cache(
    spec: dict[str, Any], containers: list[dict[str, Any]], container: dict[str, Any], pvc: str, sub_path: str
) -> None:
    targets = {
        m.get("name")
        for c in containers
        for m in c.get("volumeMounts") or []
        if m.get("mountPath") == CACHE_MOUNT_PATH
    }
    volumes = [
        v
        for v in spec.get("volumes") or []
        if v.get("name") not in targets
        and v.get("name") != TEMPLATE_PVC_VOLUME
        and _claim(v) not in (TEMPLATE_PVC_VOLUME, pvc)
    ]
    taken = {v.get("name") for v in volumes}
    volume_name = pvc if naming.is_dns_label(pvc) and pvc not in taken else TEMPLATE_PVC_VOLUME
    volumes.append({"name": volume_name, "persistentVolumeClaim": {"claimName": pvc}})
    spec["volumes"] = volumes
    mount: dict[str, Any] = {"name": volume_name, "mountPath": CACHE_MOUNT_PATH}
    if sub_path:
        mount["subPath"] = sub_path
    mounts = [m for m in container.get("volumeMounts") or [] if m.get("mountPath") != CACHE_MOUNT_PATH]
    container["volumeMounts"] = [*mounts, mount]
    env = [e for e in container.get("env") or [] if e.get("name") != NIM_CACHE_PATH]
    container["env"] = [*env, {"name": NIM_CACHE_PATH, "value": CACHE_MOUNT_PATH}]


def build_serving_runtime(
    *,
    template: RuntimeTemplate,
    project: str,
    name: str,
    image: str,
    model_format: str,
    tag: str,
    pvc_name: str,
    sub_path: str,
) -> dict[str, Any]:
    """The runtime for one deployment; `name` is the InferenceService's name (wizard, B.1)."""
    runtime = copy.deepcopy(dict(template.serving_runtime))
    runtime.pop("status", None)
    metadata = runtime.setdefault("metadata", {})
    if metadata.get("creationTimestamp") is None:
        metadata.pop("creationTimestamp", None)
    spec = runtime["spec"]
    containers: list[dict[str, Any]] = spec["containers"]
    kserve = _kserve_container(containers)

    _add_shm(spec, kserve)
    for container in containers:
        container.pop("resources", None)

    display = template.display_name
    annotations = dict(metadata.get("annotations") or {})
    annotations[DISPLAY_NAME] = display
    annotations[TEMPLATE_NAME] = template.name
    annotations[TEMPLATE_DISPLAY_NAME] = display
    metadata["annotations"] = annotations
    metadata["name"] = name
    metadata["namespace"] = project

    kserve["image"] = image
    spec["supportedModelFormats"] = [
        {"autoSelect": False, "name": model_format, "priority": 1, "version": tag}
    ]

    _wire_cache(spec, containers, kserve, pvc_name, sub_path)
    return runtime


def runtime_for_update(*, existing: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """The full body to PUT over an existing runtime: the fresh spec, the existing metadata (with its
    resourceVersion, so a concurrent change is a conflict) plus our labels and annotations."""
    result = copy.deepcopy(dict(desired))
    metadata = copy.deepcopy(dict(existing.get("metadata") or {}))
    metadata.pop("managedFields", None)
    wanted = desired.get("metadata") or {}
    metadata["labels"] = {**(metadata.get("labels") or {}), **(wanted.get("labels") or {})}
    metadata["annotations"] = {**(metadata.get("annotations") or {}), **(wanted.get("annotations") or {})}
    result["metadata"] = metadata
    return result
