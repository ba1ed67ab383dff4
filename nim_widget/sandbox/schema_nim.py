"""The OpenShift AI side of NIM: the NIM Account, HardwareProfile, NIMService and OpenShift Template.

Account follows odh-model-controller's CRD, HardwareProfile opendatahub-operator's
(``infrastructure.opendatahub.io``), NIMService the NIM operator's; their CEL rules are written
as Python predicates with the CRDs' own messages. Template is OpenShift's built-in API, whose
``objects`` are raw embedded objects kept as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .schema_meta import meta_condition, object_reference, resource_root
from .schema_model import (
    Rule,
    array,
    boolean,
    date_time,
    int32,
    int64,
    int_or_string,
    obj,
    opaque,
    opaque_list,
    quantity,
    string,
    string_list,
    string_map,
)
from .schema_pod import (
    make_env_var,
    probe,
    resource_requirements,
    toleration,
)

# ------------------------------------------------------------------ NIM Account (odh-model-controller)

ACCOUNT = resource_root(
    {
        "spec": obj(
            {
                "apiKeySecret": object_reference,
                "modelListConfig": object_reference,
                "nimConfigRefreshRate": string(fmt="duration", default="24h"),
                "validationRefreshRate": string(fmt="duration", default="24h"),
            },
            required=("apiKeySecret",),
        ),
        "status": obj(
            {
                "conditions": array(meta_condition),
                "lastAccountCheck": date_time(),
                "lastSuccessfulConfigRefresh": date_time(),
                "lastSuccessfulValidation": date_time(),
                "nimConfig": object_reference,
                "nimPullSecret": object_reference,
                "runtimeTemplate": object_reference,
            }
        ),
    }
)

# ------------------------------------------------------------------ HardwareProfile (opendatahub-operator)

_QUEUE_RULE = Rule(
    check=lambda s: (
        s.get("type") != "Queue"
        or (isinstance(s.get("kueue"), Mapping) and "localQueueName" in s["kueue"] and "node" not in s)
    ),
    message="When schedulingType is 'Queue', the 'kueue.localQueueName' field must be specified and "
    "non-empty, and the 'node' field must not be set",
)
_NODE_RULE = Rule(
    check=lambda s: s.get("type") != "Node" or ("node" in s and "kueue" not in s),
    message="When schedulingType is 'Node', the 'node' field must be set, and the 'kueue' field must "
    "not be set",
)

HARDWARE_PROFILE = resource_root(
    {
        "spec": obj(
            {
                "identifiers": array(
                    obj(
                        {
                            "defaultCount": int_or_string(),
                            "displayName": string(),
                            "identifier": string(),
                            "maxCount": int_or_string(),
                            "minCount": int_or_string(),
                            "resourceType": string(enum=("CPU", "Memory", "Accelerator")),
                        },
                        required=("defaultCount", "displayName", "identifier", "minCount"),
                    )
                ),
                "scheduling": obj(
                    {
                        "kueue": obj(
                            {"localQueueName": string(min_length=1), "priorityClass": string()},
                            required=("localQueueName",),
                        ),
                        "node": obj({"nodeSelector": string_map(), "tolerations": array(toleration)}),
                        "type": string(enum=("Queue", "Node")),
                    },
                    required=("type",),
                    rules=(_QUEUE_RULE, _NODE_RULE),
                ),
            }
        ),
        "status": obj({}),
    },
    required=("spec",),
)

# ------------------------------------------------------------------ NIMService (NIM operator)
# CEL rules of the CRD's spec, except the draResources immutability rule, which compares with the
# stored object (a transition rule) and so cannot be checked on one object.


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _legacy_ingress_enabled(spec: Mapping[str, Any]) -> bool:
    return _dict(_dict(spec.get("expose")).get("ingress")).get("enabled") is True


def _scale_enabled(spec: Mapping[str, Any]) -> bool:
    scale = spec.get("scale")
    return isinstance(scale, Mapping) and scale.get("enabled") is True


_NIM_SPEC_RULES = (
    Rule(
        check=lambda s: not ("multiNode" in s and _scale_enabled(s)),
        message="autoScaling must be nil or disabled when multiNode is set",
    ),
    Rule(
        check=lambda s: not (_scale_enabled(s) and "replicas" in s),
        message="spec.replicas cannot be set when spec.scale.enabled is true",
    ),
    Rule(
        check=lambda s: (
            not (_legacy_ingress_enabled(s) and "ingress" in _dict(_dict(s.get("expose")).get("router")))
        ),
        message=".spec.expose.ingress is deprecated, and will be removed in a future release. If "
        ".spec.expose.ingress is set, please do not set .spec.expose.router.ingress.",
    ),
)

_nim_env_var = make_env_var(
    fileKeyRef=obj(
        {"key": string(), "optional": boolean(default=False), "path": string(), "volumeName": string()},
        required=("key", "path", "volumeName"),
    )
)
_nim_probe = obj({"enabled": boolean(), "probe": probe})
_port = int32(minimum=1, maximum=65535)
_nim_image = obj(
    {"pullPolicy": string(), "pullSecrets": string_list(), "repository": string(), "tag": string()},
    required=("repository", "tag"),
)

NIM_SERVICE = resource_root(
    {
        "spec": obj(
            {
                "affinity": opaque(),
                "annotations": string_map(),
                "args": string_list(),
                "authSecret": string(),
                "command": string_list(),
                "draResources": opaque_list(),
                "env": array(_nim_env_var),
                "expose": obj(
                    {
                        "ingress": obj({"annotations": string_map(), "enabled": boolean(), "spec": opaque()}),
                        "router": opaque(),
                        "service": obj(
                            {
                                "annotations": string_map(),
                                "grpcPort": _port,
                                "labels": string_map(),
                                "metricsPort": _port,
                                "name": string(),
                                "port": int32(minimum=1, maximum=65535, default=8000),
                                "type": string(),
                            }
                        ),
                    }
                ),
                "groupID": int64(),
                "image": _nim_image,
                "inferencePlatform": string(enum=("standalone", "kserve"), default="standalone"),
                "initContainers": opaque_list(),
                "labels": string_map(),
                "livenessProbe": _nim_probe,
                "metrics": obj({"enabled": boolean(), "serviceMonitor": opaque()}),
                "multiNode": opaque(),
                "nodeSelector": string_map(),
                "podAffinity": opaque(),
                "priorityClassName": string(),
                "proxy": obj(
                    {
                        "certConfigMap": string(),
                        "httpProxy": string(),
                        "httpsProxy": string(),
                        "noProxy": string(),
                    }
                ),
                "readinessProbe": _nim_probe,
                "replicas": int32(minimum=0),
                "resources": resource_requirements,
                "runtimeClassName": string(),
                "scale": obj(
                    {
                        "annotations": string_map(),
                        "enabled": boolean(),
                        "hpa": obj(
                            {
                                "behavior": opaque(),
                                "maxReplicas": int32(),
                                "metrics": opaque_list(),
                                "minReplicas": int32(minimum=1, default=1),
                            },
                            required=("maxReplicas",),
                        ),
                    }
                ),
                "schedulerName": string(),
                "sidecarContainers": opaque_list(),
                "startupProbe": _nim_probe,
                "storage": obj(
                    {
                        "emptyDir": obj({"sizeLimit": quantity()}),
                        "hostPath": string(),
                        "nimCache": obj({"name": string(), "profile": string()}),
                        "pvc": obj(
                            {
                                "annotations": string_map(),
                                "create": boolean(),
                                "name": string(),
                                "size": string(),
                                "storageClass": string(),
                                "subPath": string(),
                                "volumeAccessMode": string(),
                            }
                        ),
                        "readOnly": boolean(),
                        "sharedMemorySizeLimit": quantity(),
                    }
                ),
                "tolerations": array(toleration),
                "userID": int64(),
            },
            required=("image",),
            rules=_NIM_SPEC_RULES,
        ),
        "status": obj(
            {
                "availableReplicas": int32(),
                "computeDomainStatus": opaque(),
                "conditions": array(meta_condition),
                "draResourceStatuses": array(opaque(), map_keys=("name",)),
                "model": obj(
                    {"clusterEndpoint": string(), "externalEndpoint": string(), "name": string()},
                    required=("clusterEndpoint", "externalEndpoint", "name"),
                ),
                "state": string(),
            }
        ),
    }
)

# ------------------------------------------------------------------ OpenShift Template (built-in API)

TEMPLATE = resource_root(
    {
        "labels": string_map(),
        "message": string(),
        "objects": array(opaque()),  # runtime.RawExtension: any embedded object, kept verbatim
        "parameters": array(
            obj(
                {
                    "description": string(),
                    "displayName": string(),
                    "from": string(),
                    "generate": string(),
                    "name": string(),
                    "required": boolean(),
                    "value": string(),
                },
                required=("name",),
            )
        ),
    }
)
