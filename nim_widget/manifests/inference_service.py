"""The InferenceService, as the dashboard wizard writes it for NIM on KServe (B.3, wizard path).

Written: display name and description annotations (the description even when empty), the dashboard
label, `security.opendatahub.io/enable-auth` always explicit (`"false"`: we create no token auth yet,
and the new dashboard reads an *absent* annotation as auth enabled, reference G), the hardware-profile
annotations and resources, plus the profile's tolerations and nodeSelector (see `hardware`), or,
without a profile, only the custom resources typed (none: the cluster's defaults apply),
`minReplicas = maxReplicas = replicas`, `deploymentStrategy: RollingUpdate`, `modelFormat`, `runtime`
and `env` only when given. Not written, as in the wizard: `serving.kserve.io/deploymentMode`, storage
fields, `args`, the visibility label.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from nim_widget.facts import HardwareProfile
from nim_widget.manifests import hardware
from nim_widget.request import DeploymentRequest

DISPLAY_NAME = "openshift.io/display-name"
DESCRIPTION = "openshift.io/description"
ENABLE_AUTH = "security.opendatahub.io/enable-auth"
DASHBOARD_LABEL = "opendatahub.io/dashboard"

# Predictor and model fields this module owns: on update they are set from the request, or removed
# when the request no longer asks for them; every other field of the live object is kept.
_PREDICTOR_FIELDS = ("minReplicas", "maxReplicas", "deploymentStrategy", "tolerations", "nodeSelector")
_MODEL_FIELDS = ("modelFormat", "runtime", "resources", "env")


def build_inference_service(
    *, request: DeploymentRequest, model_format: str, profile: HardwareProfile | None
) -> dict[str, Any]:
    annotations: dict[str, str] = {
        DISPLAY_NAME: request.display_name,
        DESCRIPTION: request.description,
    }
    if profile is not None:
        annotations.update(hardware.profile_annotations(profile=profile))
    annotations[ENABLE_AUTH] = "false"

    model: dict[str, Any] = {"modelFormat": {"name": model_format}, "runtime": request.name}
    if profile is not None:
        model["resources"] = hardware.container_resources(
            profile=profile, requests=request.resources.requests, limits=request.resources.limits
        )
    elif not request.resources.is_empty:
        model["resources"] = hardware.custom_resources(
            requests=request.resources.requests, limits=request.resources.limits
        )
    if request.env:
        model["env"] = [{"name": item.name, "value": item.value} for item in request.env]

    predictor: dict[str, Any] = {
        "model": model,
        "minReplicas": request.replicas,
        "maxReplicas": request.replicas,
        "deploymentStrategy": {"type": "RollingUpdate"},
    }
    if profile is not None:
        predictor.update(hardware.scheduling(profile=profile))

    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": request.name,
            "namespace": request.project,
            "annotations": annotations,
            "labels": {DASHBOARD_LABEL: "true"},
        },
        "spec": {"predictor": predictor},
    }


def inference_service_for_update(
    *, existing: Mapping[str, Any], desired: Mapping[str, Any]
) -> dict[str, Any]:
    """The full body to PUT over a live InferenceService (the wizard's edit: the existing object with
    the recomputed fields). Fields we own follow the request, others (args, timeout, the stop
    annotation, the visibility label) are kept; status and managedFields are left to the server.
    A live `enable-auth` annotation is kept too: token authentication is switched on by model access
    (lifecycle.access), which the request does not carry, so an edit must not quietly switch it off."""
    result = copy.deepcopy(dict(existing))
    result.pop("status", None)
    metadata = result.setdefault("metadata", {})
    metadata.pop("managedFields", None)
    wanted_metadata = desired["metadata"]
    annotations = dict(metadata.get("annotations") or {})
    if hardware.PROFILE_NAME not in wanted_metadata["annotations"]:
        for key in hardware.PROFILE_ANNOTATIONS:
            annotations.pop(key, None)
    live_auth = annotations.get(ENABLE_AUTH)
    annotations.update(wanted_metadata["annotations"])
    if live_auth is not None:
        annotations[ENABLE_AUTH] = live_auth
    metadata["annotations"] = annotations
    metadata["labels"] = {**(metadata.get("labels") or {}), **wanted_metadata["labels"]}

    predictor = result.setdefault("spec", {}).setdefault("predictor", {})
    wanted_predictor = desired["spec"]["predictor"]
    for key in _PREDICTOR_FIELDS:
        if key in wanted_predictor:
            predictor[key] = copy.deepcopy(wanted_predictor[key])
        else:
            predictor.pop(key, None)
    model = predictor.setdefault("model", {})
    for key in _MODEL_FIELDS:
        if key in wanted_predictor["model"]:
            model[key] = copy.deepcopy(wanted_predictor["model"][key])
        else:
            model.pop(key, None)
    return result
