"""Names and small readers shared by the lifecycle modules.

A deployment is read back from live objects that nim-widget, the dashboard's legacy modal or the
dashboard's wizard may have written; each shapes them slightly differently. These readers accept
all three, so the rest of the package asks one question ("where is the model cache?") instead of
re-deriving the answer from raw dicts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nim_widget.catalog import KSERVE_CONTAINER
from nim_widget.catalog import NIM_PVC_ANNOTATION as NIM_PVC_ANNOTATION
from nim_widget.catalog import NIM_SUBPATH_ANNOTATION as NIM_SUBPATH_ANNOTATION
from nim_widget.deploy.actions import STOP_ANNOTATION as STOP_ANNOTATION
from nim_widget.manifests import hardware
from nim_widget.manifests.inference_service import DASHBOARD_LABEL as DASHBOARD_LABEL
from nim_widget.manifests.inference_service import DESCRIPTION as DESCRIPTION
from nim_widget.manifests.inference_service import DISPLAY_NAME as DISPLAY_NAME
from nim_widget.manifests.inference_service import ENABLE_AUTH as ENABLE_AUTH
from nim_widget.manifests.runtime import CACHE_MOUNT_PATH as CACHE_MOUNT_PATH
from nim_widget.manifests.runtime import TEMPLATE_NAME as TEMPLATE_NAME
from nim_widget.manifests.secrets import API_KEY_SECRET as API_KEY_SECRET
from nim_widget.manifests.secrets import PULL_SECRET as PULL_SECRET

IS_API = "serving.kserve.io/v1beta1"
IS_KIND = "InferenceService"
SR_API = "serving.kserve.io/v1alpha1"
SR_KIND = "ServingRuntime"
ACCOUNT_API = "nim.opendatahub.io/v1"
ACCOUNT_KIND = "Account"
RBAC_API = "rbac.authorization.k8s.io/v1"

# The names the deploy writes are defined once, where it writes them; the lifecycle reads the same ones.
VISIBILITY_LABEL = "networking.kserve.io/visibility"
MANAGED_LABEL = "opendatahub.io/managed"
NIM_RUNTIME_ANNOTATION = "runtimes.opendatahub.io/nvidia-nim"
PREDICTOR_POD_LABEL = "serving.kserve.io/inferenceservice"
MAIN_CONTAINER = KSERVE_CONTAINER
HWP_NAME = hardware.PROFILE_NAME
HWP_NAMESPACE = hardware.PROFILE_NAMESPACE

_NIM_IMAGE = re.compile(r"(?:^|/)(?:nvcr\.io/nim/|nvidia/nim/)")
_LEGACY_PVC = re.compile(r"^nim-pvc-.+$")


def meta(obj: Mapping[str, Any] | None) -> dict[str, Any]:
    value = (obj or {}).get("metadata")
    return value if isinstance(value, dict) else {}


def annotations_of(obj: Mapping[str, Any] | None) -> dict[str, str]:
    value = meta(obj).get("annotations")
    return value if isinstance(value, dict) else {}


def labels_of(obj: Mapping[str, Any] | None) -> dict[str, str]:
    value = meta(obj).get("labels")
    return value if isinstance(value, dict) else {}


def name_of(obj: Mapping[str, Any] | None) -> str:
    return str(meta(obj).get("name") or "")


def predictor(inference_service: Mapping[str, Any] | None) -> dict[str, Any]:
    spec = (inference_service or {}).get("spec") or {}
    value = spec.get("predictor") if isinstance(spec, dict) else None
    return value if isinstance(value, dict) else {}


def predictor_model(inference_service: Mapping[str, Any] | None) -> dict[str, Any]:
    value = predictor(inference_service).get("model")
    return value if isinstance(value, dict) else {}


def runtime_name(inference_service: Mapping[str, Any] | None) -> str:
    """The ServingRuntime an InferenceService names (the wizard and nim-widget: its own name)."""
    return str(predictor_model(inference_service).get("runtime") or "")


def containers(runtime: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    spec = (runtime or {}).get("spec") or {}
    value = spec.get("containers") if isinstance(spec, dict) else None
    return [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []


def main_container(runtime: Mapping[str, Any] | None) -> dict[str, Any]:
    """`kserve-container`, or the first container of runtimes that name it differently."""
    found = containers(runtime)
    for container in found:
        if container.get("name") == MAIN_CONTAINER:
            return container
    return found[0] if found else {}


def volumes(runtime: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    spec = (runtime or {}).get("spec") or {}
    value = spec.get("volumes") if isinstance(spec, dict) else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def claimed_pvcs(pod_spec_like: Mapping[str, Any] | None) -> set[str]:
    """Every PVC a runtime (or a Pod) names in its volumes."""
    spec = (pod_spec_like or {}).get("spec") or {}
    found: set[str] = set()
    for volume in spec.get("volumes") or () if isinstance(spec, dict) else ():
        claim = (volume or {}).get("persistentVolumeClaim") or {}
        if isinstance(claim, dict) and claim.get("claimName"):
            found.add(str(claim["claimName"]))
    return found


@dataclass(frozen=True)
class CacheMount:
    """Where the NIM keeps its downloaded model: a PVC and the subPath inside it."""

    pvc: str
    sub_path: str = ""


def cache_mount(runtime: Mapping[str, Any] | None) -> CacheMount | None:
    """The PVC mounted at /mnt/models/cache, or the legacy modal's `nim-pvc*` volume."""
    by_volume = {str(v.get("name")): v for v in volumes(runtime)}
    for container in [main_container(runtime), *containers(runtime)]:
        for mount in container.get("volumeMounts") or ():
            if not isinstance(mount, dict) or mount.get("mountPath") != CACHE_MOUNT_PATH:
                continue
            volume = by_volume.get(str(mount.get("name")))
            claim = ((volume or {}).get("persistentVolumeClaim") or {}).get("claimName")
            if claim:
                return CacheMount(pvc=str(claim), sub_path=str(mount.get("subPath") or ""))
    for volume in volumes(runtime):
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim and str(claim).startswith("nim-pvc"):
            return CacheMount(pvc=str(claim))
    return None


def is_nim_runtime(runtime: Mapping[str, Any] | None) -> bool:
    """Recognise a NIM runtime as the dashboard does: the NIM annotation, or an nvcr.io/nim/ image."""
    if runtime is None:
        return False
    if str(annotations_of(runtime).get(NIM_RUNTIME_ANNOTATION, "")).lower() == "true":
        return True
    return any(_NIM_IMAGE.search(str(c.get("image") or "")) for c in containers(runtime))


def is_cache_pvc(pvc: Mapping[str, Any]) -> bool:
    """A PVC that a NIM deploy created for its model cache (dashboard legacy, wizard or nim-widget)."""
    return (
        str(labels_of(pvc).get(MANAGED_LABEL, "")).lower() == "true"
        or str(annotations_of(pvc).get(NIM_PVC_ANNOTATION, "")).lower() == "true"
        or bool(_LEGACY_PVC.match(name_of(pvc)))
    )


@dataclass(frozen=True)
class ImageRef:
    """`nvcr.io/nim/meta/llama-3.1-8b-instruct:1.2.2` split into the parts people talk about."""

    repository: str  # nvcr.io/nim/meta/llama-3.1-8b-instruct
    name: str  # llama-3.1-8b-instruct (the catalog key)
    tag: str  # 1.2.2 ("" when the image has none)
    organisation: str  # nim/meta

    @property
    def served_model(self) -> str:
        """The model id a NIM answers to on /v1/models: org without `nim/`, then the name."""
        org = "" if self.organisation == "nim" else self.organisation.removeprefix("nim/")
        return f"{org}/{self.name}" if org else self.name


def parse_image(image: str) -> ImageRef:
    without_digest = image.split("@", 1)[0]
    repository, tag = without_digest, ""
    last = without_digest.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = without_digest.rsplit(":", 1)
    parts = repository.split("/")
    registry_like = len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost")
    path = parts[1:] if registry_like else parts
    name = path[-1] if path else ""
    return ImageRef(repository=repository, name=name, tag=tag, organisation="/".join(path[:-1]))


def parse_time(value: Any) -> float | None:
    """RFC 3339 (with or without fractions) to epoch seconds; None for anything else."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def condition(obj: Mapping[str, Any] | None, kind: str) -> dict[str, Any] | None:
    status = (obj or {}).get("status") or {}
    for item in status.get("conditions") or () if isinstance(status, dict) else ():
        if isinstance(item, dict) and item.get("type") == kind:
            return item
    return None


def is_stopped(inference_service: Mapping[str, Any] | None) -> bool:
    return str(annotations_of(inference_service).get(STOP_ANNOTATION, "")).lower() == "true"
