"""The predictor pod KServe's raw-deployment reconciler would run for an InferenceService.

Pure functions: InferenceService + ServingRuntime in, pod template out. What they reproduce:
- the ``kserve-container`` is the runtime's container merged with ``spec.predictor.model``: the
  model's env wins by name, its resources override the runtime's key by key, its args replace;
- volumes, pull secrets, node selector, tolerations and affinity of the runtime and the
  predictor are combined; ``{{.Name}}`` placeholders in args become the service's name;
- a container without a readiness probe gets KServe's default TCP probe on its port, which is
  what keeps a NIM pod unready while it downloads weights;
- ``storageUri``: ``pvc://`` claims are mounted read-only at ``/mnt/models`` (unless the
  ``storage.kserve.io/readonly: "false"`` annotation says otherwise); other schemes get the
  ``storage-initializer`` init container, during which KServe reports ``Loading``;
- labels ``app: isvc.<name>-predictor``, ``component: predictor``,
  ``serving.kserve.io/inferenceservice: <name>`` and the ``pod-template-hash``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from .base import Obj, annotations_of, as_dict, as_list, labels_of, name_of, safe_suffix

MAIN_CONTAINER = "kserve-container"
ISVC_LABEL = "serving.kserve.io/inferenceservice"
STORAGE_INITIALIZER = "storage-initializer"
STORAGE_INITIALIZER_IMAGE = "kserve/storage-initializer:v0.15.2"
MODEL_DIR = "/mnt/models"
SOURCE_URI_ANNOTATION = "internal.serving.kserve.io/storage-initializer-sourceuri"
DEPLOYMENT_MODE = "serving.kserve.io/deploymentMode"
READONLY_ANNOTATION = "storage.kserve.io/readonly"

# Annotations KServe does not copy from the InferenceService onto the pods
# (ServiceAnnotationDisallowedList plus the ODH additions).
_NOT_PROPAGATED = frozenset(
    {
        "autoscaling.knative.dev/min-scale",
        "autoscaling.knative.dev/max-scale",
        "kubectl.kubernetes.io/last-applied-configuration",
        "security.opendatahub.io/enable-auth",
        "networking.knative.dev/visibility",
        "haproxy.router.openshift.io/timeout",
        "serving.kserve.io/stop",
    }
)


class RuntimeProblem(Exception):
    """The predictor cannot be built: KServe's InvalidSpec path (reason, message, event text)."""

    def __init__(self, *, reason: str, message: str, event: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.event = event


@dataclass(frozen=True)
class PodTemplate:
    labels: dict[str, str]
    annotations: dict[str, str]
    spec: Obj
    hash: str
    replicas: int


def predictor_name(isvc: Obj) -> str:
    return f"{name_of(isvc)}-predictor"


def app_label(isvc: Obj) -> str:
    return f"isvc.{predictor_name(isvc)}"


def runtime_name(isvc: Obj) -> str | None:
    model = as_dict(as_dict(as_dict(isvc.get("spec")).get("predictor")).get("model"))
    value = model.get("runtime")
    return str(value) if value else None


def check_runtime(isvc: Obj, runtime: Obj | None) -> None:
    """KServe's ``reconcileModel`` checks, with its reasons and messages."""
    predictor = as_dict(as_dict(isvc.get("spec")).get("predictor"))
    model = as_dict(predictor.get("model"))
    if not model:
        return
    name = runtime_name(isvc) or ""
    if runtime is None:
        raise RuntimeProblem(
            reason="RuntimeNotRecognized",
            message="Waiting for runtime to become available",
            event=(
                "fails to reconcile predictor: "
                f"No ServingRuntimes or ClusterServingRuntimes with the name: {name}"
            ),
        )
    spec = as_dict(runtime.get("spec"))
    if spec.get("disabled"):
        raise RuntimeProblem(
            reason="RuntimeDisabled",
            message="Specified runtime is disabled",
            event=f"fails to reconcile predictor: specified runtime {name} is disabled",
        )
    fmt = as_dict(model.get("modelFormat"))
    wanted, version = str(fmt.get("name", "")), fmt.get("version")
    for supported in as_list(spec.get("supportedModelFormats")):
        supported = as_dict(supported)
        if str(supported.get("name", "")).lower() != wanted.lower():
            continue
        if version and supported.get("version") and str(supported["version"]) != str(version):
            continue
        return
    raise RuntimeProblem(
        reason="NoSupportingRuntime",
        message="Specified runtime does not support specified framework/version",
        event=(
            f"fails to reconcile predictor: specified runtime {name} "
            "does not support specified framework/version"
        ),
    )


def _merge_env(base: list[Any], override: list[Any]) -> list[Any]:
    merged = [copy.deepcopy(e) for e in base]
    index = {as_dict(e).get("name"): i for i, e in enumerate(merged)}
    for env in override:
        name = as_dict(env).get("name")
        if name in index:
            merged[index[name]] = copy.deepcopy(env)
        else:
            merged.append(copy.deepcopy(env))
    return merged


def _merge_resources(base: Obj, override: Obj) -> Obj:
    out: Obj = {}
    for key in ("limits", "requests"):
        merged = {**as_dict(base.get(key)), **as_dict(override.get(key))}
        if merged:
            out[key] = merged
    return out


def _by_name(items: list[Any], more: list[Any]) -> list[Any]:
    seen: set[str] = set()
    out = []
    for item in [*items, *more]:
        name = str(as_dict(item).get("name", ""))
        if name in seen:
            continue
        seen.add(name)
        out.append(copy.deepcopy(item))
    return out


def _default_probe(container: Obj) -> Obj:
    ports = as_list(container.get("ports"))
    port = as_dict(ports[0]).get("containerPort", 8080) if ports else 8080
    return {
        "tcpSocket": {"port": port},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }


def _storage(isvc: Obj, main: Obj, spec: Obj, annotations: dict[str, str]) -> None:
    model = as_dict(as_dict(as_dict(isvc.get("spec")).get("predictor")).get("model"))
    uri = model.get("storageUri")
    if not isinstance(uri, str) or not uri:
        return
    mounts = main.setdefault("volumeMounts", [])
    annotations[SOURCE_URI_ANNOTATION] = uri
    if uri.startswith("pvc://"):
        claim, _, sub_path = uri.removeprefix("pvc://").partition("/")
        read_only = annotations_of(isvc).get(READONLY_ANNOTATION, "true").lower() != "false"
        spec.setdefault("volumes", []).append(
            {
                "name": "kserve-pvc-source",
                "persistentVolumeClaim": {"claimName": claim, "readOnly": read_only},
            }
        )
        mount: Obj = {"name": "kserve-pvc-source", "mountPath": MODEL_DIR, "readOnly": read_only}
        if sub_path.strip("/"):
            mount["subPath"] = sub_path.strip("/")
        mounts.append(mount)
        return
    spec.setdefault("volumes", []).append({"name": "kserve-provision-location", "emptyDir": {}})
    mounts.append({"name": "kserve-provision-location", "mountPath": MODEL_DIR, "readOnly": True})
    spec["initContainers"] = [
        {
            "name": STORAGE_INITIALIZER,
            "image": STORAGE_INITIALIZER_IMAGE,
            "args": [uri, MODEL_DIR],
            "resources": {
                "limits": {"cpu": "1", "memory": "1Gi"},
                "requests": {"cpu": "100m", "memory": "100Mi"},
            },
            "terminationMessagePolicy": "FallbackToLogsOnError",
            "volumeMounts": [{"name": "kserve-provision-location", "mountPath": MODEL_DIR}],
        }
    ]


def build(isvc: Obj, runtime: Obj | None) -> PodTemplate:
    name = name_of(isvc)
    predictor = as_dict(as_dict(isvc.get("spec")).get("predictor"))
    model = as_dict(predictor.get("model"))
    sr_spec = as_dict(runtime.get("spec")) if runtime else {}

    if model:
        containers = [copy.deepcopy(as_dict(c)) for c in as_list(sr_spec.get("containers"))]
        index = next((i for i, c in enumerate(containers) if c.get("name") == MAIN_CONTAINER), 0)
        if not containers:
            containers = [{"name": MAIN_CONTAINER, "image": ""}]
        main = containers[index]
        main["name"] = MAIN_CONTAINER
        if model.get("image"):
            main["image"] = model["image"]
        if model.get("args"):
            main["args"] = copy.deepcopy(model["args"])
        if model.get("command"):
            main["command"] = copy.deepcopy(model["command"])
        main["env"] = _merge_env(as_list(main.get("env")), as_list(model.get("env")))
        if not main["env"]:
            del main["env"]
        resources = _merge_resources(as_dict(main.get("resources")), as_dict(model.get("resources")))
        if resources:
            main["resources"] = resources
        main["args"] = [str(a).replace("{{.Name}}", name) for a in as_list(main.get("args"))]
        if not main["args"]:
            del main["args"]
        main["volumeMounts"] = [
            *as_list(main.get("volumeMounts")),
            *copy.deepcopy(as_list(model.get("volumeMounts"))),
        ]
    else:
        containers = [copy.deepcopy(as_dict(c)) for c in as_list(predictor.get("containers"))]
        main = containers[0] if containers else {"name": MAIN_CONTAINER, "image": ""}
        if not containers:
            containers = [main]

    main.setdefault("readinessProbe", _default_probe(main))
    main.setdefault("terminationMessagePath", "/dev/termination-log")
    main.setdefault("terminationMessagePolicy", "File")
    main.setdefault("imagePullPolicy", "IfNotPresent")

    annotations = {k: v for k, v in annotations_of(isvc).items() if k not in _NOT_PROPAGATED}
    annotations.update({str(k): str(v) for k, v in as_dict(sr_spec.get("annotations")).items()})
    annotations.update({str(k): str(v) for k, v in as_dict(predictor.get("annotations")).items()})
    annotations.setdefault(DEPLOYMENT_MODE, "RawDeployment")

    spec: Obj = {
        "containers": containers,
        "volumes": _by_name(as_list(sr_spec.get("volumes")), as_list(predictor.get("volumes"))),
        "imagePullSecrets": _by_name(
            as_list(sr_spec.get("imagePullSecrets")), as_list(predictor.get("imagePullSecrets"))
        ),
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": str(predictor.get("serviceAccountName") or "default"),
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "enableServiceLinks": True,
        "priority": 0,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    spec["serviceAccount"] = spec["serviceAccountName"]
    node_selector = {**as_dict(sr_spec.get("nodeSelector")), **as_dict(predictor.get("nodeSelector"))}
    if node_selector:
        spec["nodeSelector"] = node_selector
    tolerations = [
        *copy.deepcopy(as_list(sr_spec.get("tolerations"))),
        *copy.deepcopy(as_list(predictor.get("tolerations"))),
    ]
    if tolerations:
        spec["tolerations"] = tolerations
    affinity = predictor.get("affinity") or sr_spec.get("affinity")
    if affinity:
        spec["affinity"] = copy.deepcopy(affinity)
    _storage(isvc, main, spec, annotations)
    for key in ("volumes", "imagePullSecrets"):
        if not spec[key]:
            del spec[key]
    if not main.get("volumeMounts"):
        main.pop("volumeMounts", None)

    labels = labels_of(isvc)
    labels.update({str(k): str(v) for k, v in as_dict(sr_spec.get("labels")).items()})
    labels.update({str(k): str(v) for k, v in as_dict(predictor.get("labels")).items()})
    labels.update({"app": app_label(isvc), "component": "predictor", ISVC_LABEL: name})
    template_hash = safe_suffix(json.dumps([labels, annotations, spec], sort_keys=True), length=10)
    replicas = predictor.get("minReplicas")
    count = replicas if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas > 0 else 1
    return PodTemplate(labels=labels, annotations=annotations, spec=spec, hash=template_hash, replicas=count)
