"""KServe v0.15.2 InferenceService and ServingRuntime, as OpenShift AI 2.x clusters install them.

Fields that exist only on KServe master (``predictor.storageUris``, ``predictor.name``, ``canary``,
...) are unknown here, as they are to such a cluster: a manifest that validates against v0.15.2 is
the safe target. The status keeps master's extra fields because its schema preserves unknown
fields anyway.
"""

from __future__ import annotations

from .schema_meta import resource_root
from .schema_model import (
    Schema,
    array,
    boolean,
    date_time,
    int32,
    int64,
    int_or_string,
    integer,
    mapping,
    obj,
    opaque,
    opaque_list,
    quantity,
    string,
    string_list,
    string_map,
    with_,
)
from .schema_pod import (
    POD_SPEC_FIELDS,
    container,
    container_fields,
    env_var,
    local_object_reference,
    toleration,
    volume,
)

# ------------------------------------------------------------------ KServe InferenceService

_TARGET_TYPES = ("Utilization", "Value", "AverageValue")
_metric_target = obj(
    {
        "averageUtilization": int32(),
        "averageValue": quantity(),
        "type": string(enum=_TARGET_TYPES),
        "value": quantity(),
    }
)
_auto_scaling = obj(
    {
        "metrics": array(
            obj(
                {
                    "external": obj(
                        {
                            "metric": obj(
                                {
                                    "backend": string(enum=("prometheus", "graphite")),
                                    "namespace": string(),
                                    "query": string(),
                                    "serverAddress": string(),
                                }
                            ),
                            "target": _metric_target,
                        },
                        required=("metric", "target"),
                    ),
                    "podmetric": obj(
                        {
                            "metric": obj(
                                {
                                    "backend": string(enum=("opentelemetry",)),
                                    "metricNames": string_list(),
                                    "operationOverTime": string(),
                                    "query": string(),
                                    "serverAddress": string(),
                                }
                            ),
                            "target": _metric_target,
                        },
                        required=("metric", "target"),
                    ),
                    "resource": obj(
                        {"name": string(enum=("cpu", "memory")), "target": _metric_target},
                        required=("name", "target"),
                    ),
                    "type": string(enum=("Resource", "External", "PodMetric")),
                },
                required=("type",),
            )
        )
    }
)

# KServe's ComponentExtensionSpec: the knobs every component (predictor, transformer, ...) has.
_COMPONENT_EXTENSION: dict[str, Schema] = {
    "annotations": string_map(),
    "autoScaling": _auto_scaling,
    "batcher": obj({"maxBatchSize": integer(), "maxLatency": integer(), "timeout": integer()}),
    "canaryTrafficPercent": int64(),
    "containerConcurrency": int64(),
    "deploymentStrategy": obj(
        # Go's DeploymentStrategyType has no enum marker, so the CRD accepts any string here.
        {
            "rollingUpdate": obj({"maxSurge": int_or_string(), "maxUnavailable": int_or_string()}),
            "type": string(),
        }
    ),
    "labels": string_map(),
    "logger": obj(
        {
            "metadataAnnotations": string_list(),
            "metadataHeaders": string_list(),
            "mode": string(enum=("all", "request", "response")),
            "url": string(),
        }
    ),
    "maxReplicas": int32(),
    "minReplicas": int32(),
    "scaleMetric": string(enum=("cpu", "memory", "concurrency", "rps")),
    "scaleMetricType": string(enum=_TARGET_TYPES),
    "scaleTarget": int32(),
    "timeout": int64(),
}

_model_spec = with_(
    obj(container_fields(optional_port=("httpGet", "tcpSocket"))),
    modelFormat=obj({"name": string(), "version": string()}, required=("name",)),
    protocolVersion=string(),
    runtime=string(),
    runtimeVersion=string(),
    storage=obj({"key": string(), "parameters": string_map(), "path": string(), "schemaPath": string()}),
    storageUri=string(),
)

# Framework shortcuts (predictor.sklearn, ...) are the pre-runtime API; NIM never uses them.
_FRAMEWORKS: tuple[str, ...] = ("huggingface", "lightgbm", "onnx", "paddle", "pmml")
_FRAMEWORKS += ("pytorch", "sklearn", "tensorflow", "triton", "xgboost")

_worker_spec = obj(
    {
        **POD_SPEC_FIELDS,
        "ephemeralContainers": opaque_list(),
        "pipelineParallelSize": integer(),
        "tensorParallelSize": integer(),
    }
)

# Component containers (not init containers) may omit httpGet.port in liveness/readiness probes,
# and a component's ``os`` does not require ``name`` (the workerSpec's does).
_COMPONENT_POD_FIELDS = {
    **POD_SPEC_FIELDS,
    "os": obj({"name": string()}),
    "containers": array(obj(container_fields(optional_port=("httpGet",)), required=("name",))),
}

_predictor = obj(
    {
        **_COMPONENT_POD_FIELDS,
        **_COMPONENT_EXTENSION,
        "model": _model_spec,
        "workerSpec": _worker_spec,
        **{name: opaque() for name in _FRAMEWORKS},
    }
)
_transformer = obj({**_COMPONENT_POD_FIELDS, **_COMPONENT_EXTENSION})
_explainer = obj({**_COMPONENT_POD_FIELDS, **_COMPONENT_EXTENSION, "art": opaque()})

_MODEL_STATES = ("", "Pending", "Standby", "Loading", "Loaded", "FailedToLoad")
_address = obj({"CACerts": string(), "audience": string(), "name": string(), "url": string()})

_model_status = obj(
    {
        "copies": obj(
            {"failedCopies": integer(default=0), "totalCopies": integer()}, required=("failedCopies",)
        ),
        "lastFailureInfo": obj(
            {
                "exitCode": int32(),
                "location": string(),
                "message": string(),
                "modelRevisionName": string(),
                "reason": string(
                    enum=(
                        "ModelLoadFailed",
                        "RuntimeUnhealthy",
                        "RuntimeDisabled",
                        "NoSupportingRuntime",
                        "RuntimeNotRecognized",
                        "InvalidPredictorSpec",
                    )
                ),
                "time": date_time(),
            }
        ),
        "states": obj(
            {
                "activeModelState": string(enum=_MODEL_STATES, default="Pending"),
                "targetModelState": string(enum=_MODEL_STATES, default=""),
            },
            required=("activeModelState",),
        ),
        "transitionStatus": string(
            enum=("", "UpToDate", "InProgress", "BlockedByFailedLoad", "InvalidSpec"), default="UpToDate"
        ),
    },
    required=("transitionStatus",),
)

# The CRD marks the whole status preserve-unknown; the known parts are still type-checked.
_isvc_status = Schema(
    type="object",
    preserve_unknown=True,
    properties={
        "address": _address,
        "annotations": string_map(),
        "clusterServingRuntimeName": string(),  # KServe master; kept by preserve-unknown on v0.15
        "components": mapping(
            obj(
                {
                    "address": _address,
                    "grpcUrl": string(),
                    "latestCreatedRevision": string(),
                    "latestReadyRevision": string(),
                    "latestRolledoutRevision": string(),
                    "previousRolledoutRevision": string(),
                    "restUrl": string(),
                    "traffic": array(
                        obj(
                            {
                                "configurationName": string(),
                                "latestRevision": boolean(),
                                "percent": int64(),
                                "revisionName": string(),
                                "tag": string(),
                                "url": string(),
                            }
                        )
                    ),
                    "url": string(),
                }
            )
        ),
        "conditions": array(
            obj(
                {
                    "lastTransitionTime": string(),
                    "message": string(),
                    "reason": string(),
                    "severity": string(),
                    "status": string(),
                    "type": string(),
                },
                required=("status", "type"),
            )
        ),
        "deploymentMode": string(),
        "modelStatus": _model_status,
        "observedGeneration": int64(),
        "servingRuntimeName": string(),  # KServe master, as above
        "url": string(),
    },
)

INFERENCE_SERVICE = resource_root(
    {
        "spec": obj(
            {"explainer": _explainer, "predictor": _predictor, "transformer": _transformer},
            required=("predictor",),
        ),
        "status": _isvc_status,
    }
)

# ------------------------------------------------------------------ KServe ServingRuntime

SERVING_RUNTIME = resource_root(
    {
        "spec": obj(
            {
                "affinity": opaque(),
                "annotations": string_map(),
                "builtInAdapter": obj(
                    {
                        "env": array(env_var),
                        "memBufferBytes": integer(),
                        "modelLoadingTimeoutMillis": integer(),
                        "runtimeManagementPort": integer(),
                        "serverType": string(),
                    }
                ),
                "containers": array(container),
                "disabled": boolean(),
                "grpcDataEndpoint": string(),
                "grpcEndpoint": string(),
                "hostIPC": boolean(),
                "httpDataEndpoint": string(),
                "imagePullSecrets": array(local_object_reference),
                "labels": string_map(),
                "multiModel": boolean(),
                "nodeSelector": string_map(),
                "protocolVersions": string_list(),
                "replicas": integer(),
                "storageHelper": obj({"disabled": boolean()}),
                "supportedModelFormats": array(
                    obj(
                        {
                            "autoSelect": boolean(),
                            "name": string(),
                            "priority": int32(minimum=1),
                            "version": string(),
                        },
                        required=("name",),
                    )
                ),
                "tolerations": array(toleration),
                "volumes": array(volume),
                "workerSpec": obj(
                    {
                        "affinity": opaque(),
                        "annotations": string_map(),
                        "containers": array(container),
                        "hostIPC": boolean(),
                        "imagePullSecrets": array(local_object_reference),
                        "labels": string_map(),
                        "nodeSelector": string_map(),
                        "pipelineParallelSize": integer(),
                        "tensorParallelSize": integer(),
                        "tolerations": array(toleration),
                        "volumes": array(volume),
                    },
                    required=("containers",),
                ),
            },
            required=("containers",),
        ),
        "status": obj({}),
    }
)
