"""Structural validation of the sandbox's kinds, called directly (pure functions, no HTTP).

The manifests below are the shapes the OpenShift AI dashboard and the controllers write; each
must validate cleanly, and each kind of violation must give the cause a real API server gives.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from nim_widget.sandbox.schemas import (
    apply_defaults,
    has_schema,
    prune_unknown,
    unknown_fields,
    validate_structure,
)
from nim_widget.sandbox.status import Cause

ISVC = "inferenceservices.serving.kserve.io"
SR = "servingruntimes.serving.kserve.io"
ACCOUNT = "accounts.nim.opendatahub.io"
HWP = "hardwareprofiles.infrastructure.opendatahub.io"
NIMSERVICE = "nimservices.apps.nvidia.com"
TEMPLATE = "templates.template.openshift.io"

# ---------------------------------------------------------------- what the dashboard creates

WIZARD_SERVING_RUNTIME = """
apiVersion: serving.kserve.io/v1alpha1
kind: ServingRuntime
metadata:
  name: llama-31-8b
  namespace: demo
  labels: {opendatahub.io/dashboard: "true"}
  annotations:
    opendatahub.io/recommended-accelerators: '["nvidia.com/gpu"]'
    openshift.io/display-name: NVIDIA NIM
    runtimes.opendatahub.io/nvidia-nim: "true"
    opendatahub.io/apiProtocol: REST
    opendatahub.io/template-name: odh-nim-account-template
    opendatahub.io/template-display-name: NVIDIA NIM
spec:
  annotations: {prometheus.io/path: /v1/metrics, prometheus.io/port: "8000"}
  multiModel: false
  protocolVersions: [grpc-v2, v2]
  imagePullSecrets: [{name: ngc-secret}]
  supportedModelFormats:
    - {autoSelect: false, name: llama-3.1-8b-instruct, priority: 1, version: 1.2.2}
  containers:
    - name: kserve-container
      image: nvcr.io/nim/meta/llama-3.1-8b-instruct:1.2.2
      env:
        - {name: NGC_API_KEY, valueFrom: {secretKeyRef: {name: nvidia-nim-secrets, key: NGC_API_KEY}}}
        - {name: NIM_CACHE_PATH, value: /mnt/models/cache}
      ports: [{containerPort: 8000, protocol: TCP}]
      volumeMounts:
        - {name: shm, mountPath: /dev/shm}
        - {name: nim-workspace, mountPath: /opt/nim/workspace}
        - {name: llama-cache, mountPath: /mnt/models/cache, subPath: llama}
  volumes:
    - {name: nim-workspace, emptyDir: {}}
    - {name: shm, emptyDir: {medium: Memory, sizeLimit: 2Gi}}
    - {name: llama-cache, persistentVolumeClaim: {claimName: llama-cache}}
"""

LEGACY_INFERENCE_SERVICE = """
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: llama-31-8b
  namespace: demo
  annotations:
    openshift.io/display-name: Llama 3.1 8B
    serving.kserve.io/deploymentMode: RawDeployment
    security.opendatahub.io/enable-auth: "true"
    opendatahub.io/hardware-profile-name: nvidia-gpu-1x
    opendatahub.io/hardware-profile-namespace: opendatahub
    opendatahub.io/hardware-profile-resource-version: "1309350"
  labels:
    opendatahub.io/dashboard: "true"
    networking.kserve.io/visibility: exposed
spec:
  predictor:
    minReplicas: 1
    maxReplicas: 1
    model:
      modelFormat: {name: llama-3.1-8b-instruct}
      runtime: llama-31-8b
      args: []
      env: []
      resources:
        requests: {cpu: "2", memory: 16Gi, nvidia.com/gpu: "1"}
        limits: {cpu: "2", memory: 16Gi, nvidia.com/gpu: "1"}
"""

WIZARD_INFERENCE_SERVICE = """
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: llama-31-8b
  namespace: demo
  annotations:
    openshift.io/display-name: Llama 3.1 8B
    openshift.io/description: ""
    security.opendatahub.io/enable-auth: "false"
  labels: {opendatahub.io/dashboard: "true"}
spec:
  predictor:
    model:
      modelFormat: {name: llama-3.1-8b-instruct}
      runtime: llama-31-8b
      resources:
        requests: {cpu: "2", memory: 16Gi, nvidia.com/gpu: "1"}
        limits: {cpu: "2", memory: 16Gi, nvidia.com/gpu: "1"}
      env: [{name: NIM_MAX_MODEL_LEN, value: "8192"}]
      args: ["--verbose"]
    minReplicas: 2
    maxReplicas: 2
    deploymentStrategy: {type: RollingUpdate}
"""

# What the KServe controller writes back, on success and on a failed model load.
ISVC_STATUS_READY = """
observedGeneration: 1
url: https://llama-31-8b-demo.apps.example.com
address: {url: http://llama-31-8b-predictor.demo.svc.cluster.local}
deploymentMode: RawDeployment
components:
  predictor:
    url: http://llama-31-8b-predictor-demo.apps.example.com
    address: {url: http://llama-31-8b-predictor.demo.svc.cluster.local}
    latestCreatedRevision: llama-31-8b-predictor-00001
conditions:
  - {type: IngressReady, status: "True", lastTransitionTime: "2026-01-01T00:05:00Z"}
  - {type: PredictorReady, status: "True", lastTransitionTime: "2026-01-01T00:05:00Z"}
  - {type: Ready, status: "True", lastTransitionTime: "2026-01-01T00:05:00Z"}
modelStatus:
  transitionStatus: UpToDate
  states: {activeModelState: Loaded, targetModelState: Loaded}
  copies: {failedCopies: 0, totalCopies: 1}
"""

ISVC_STATUS_FAILED = """
observedGeneration: 2
conditions:
  - type: PredictorReady
    status: "False"
    reason: ProgressDeadlineExceeded
    message: ReplicaSet "llama-31-8b-predictor-5d9c8" has timed out progressing.
    severity: Info
  - {type: Ready, status: "False", reason: ProgressDeadlineExceeded}
modelStatus:
  transitionStatus: BlockedByFailedLoad
  states: {activeModelState: "", targetModelState: FailedToLoad}
  copies: {failedCopies: 1}
  lastFailureInfo:
    reason: ModelLoadFailed
    message: 'Back-off pulling image "nvcr.io/nim/meta/llama-3.1-8b-instruct:9.9.9"'
    exitCode: 1
    location: llama-31-8b-predictor-5d9c8-x2x7q
    time: "2026-01-01T00:12:30Z"
"""

NIM_SERVICE = """
apiVersion: apps.nvidia.com/v1alpha1
kind: NIMService
metadata:
  name: llama-31-8b
  namespace: demo
  annotations: {openshift.io/display-name: Llama 3.1 8B}
  labels: {opendatahub.io/dashboard: "true"}
spec:
  inferencePlatform: kserve
  image:
    repository: nvcr.io/nim/meta/llama-3.1-8b-instruct
    tag: 1.2.2
    pullPolicy: IfNotPresent
    pullSecrets: [odh-nim-account-pull]
  authSecret: nvidia-nim-secrets
  expose: {service: {type: ClusterIP, port: 8000}}
  replicas: 1
  annotations: {security.opendatahub.io/enable-auth: "true"}
  labels: {networking.kserve.io/visibility: exposed}
  env: [{name: FOO, value: bar}]
  args: ["--max-batch-size", "8"]
  storage: {pvc: {name: llama-cache, subPath: llama}}
  resources:
    requests: {cpu: "2", memory: 16Gi, nvidia.com/gpu: "1"}
    limits: {cpu: "2", memory: 16Gi, nvidia.com/gpu: "1"}
"""

ACCOUNT_OBJECT = """
apiVersion: nim.opendatahub.io/v1
kind: Account
metadata:
  name: odh-nim-account
  namespace: demo
  labels: {opendatahub.io/managed: "true"}
spec:
  apiKeySecret: {name: nvidia-nim-secrets}
status:
  nimConfig: {apiVersion: v1, kind: ConfigMap, name: odh-nim-account-cm, namespace: demo, uid: u1,
              resourceVersion: "5"}
  lastAccountCheck: "2026-01-01T00:01:12Z"
  conditions:
    - {type: AccountStatus, status: "True", reason: AccountSuccessful, message: the account is healthy,
       observedGeneration: 1, lastTransitionTime: "2026-01-01T00:01:12Z"}
"""

HARDWARE_PROFILE = """
apiVersion: infrastructure.opendatahub.io/v1
kind: HardwareProfile
metadata:
  name: nvidia-gpu-small
  namespace: opendatahub
  annotations: {opendatahub.io/display-name: NVIDIA GPU (1x)}
spec:
  identifiers:
    - {displayName: CPU, identifier: cpu, minCount: "1", maxCount: "8", defaultCount: "4", resourceType: CPU}
    - {displayName: Memory, identifier: memory, minCount: 4Gi, maxCount: 64Gi, defaultCount: 16Gi,
       resourceType: Memory}
    - {displayName: GPU, identifier: nvidia.com/gpu, minCount: 1, maxCount: 4, defaultCount: 1,
       resourceType: Accelerator}
  scheduling:
    type: Node
    node:
      nodeSelector: {nvidia.com/gpu.present: "true"}
      tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
"""

TOKEN_AUTH_OBJECTS = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: llama-31-8b-sa, namespace: demo}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: llama-31-8b-view-role, namespace: demo, labels: {opendatahub.io/dashboard: "true"}}
rules:
  - verbs: [get]
    apiGroups: [serving.kserve.io]
    resources: [inferenceservices]
    resourceNames: [llama-31-8b]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: llama-31-8b-view, namespace: demo, labels: {opendatahub.io/dashboard: "true"}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: llama-31-8b-view-role}
subjects: [{kind: ServiceAccount, name: llama-31-8b-sa}]
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: default-token-llama-31-8b-sa
  namespace: demo
  annotations: {kubernetes.io/service-account.name: llama-31-8b-sa, openshift.io/display-name: default-token}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: llama-cache
  namespace: demo
  labels: {opendatahub.io/dashboard: "true", opendatahub.io/managed: "true"}
  annotations:
    openshift.io/display-name: Llama cache
    dashboard.opendatahub.io/nim-pvc: "true"
    dashboard.opendatahub.io/nim-subpath: /llama
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 50Gi}}
  storageClassName: managed-csi
  volumeMode: Filesystem
status: {phase: Pending}
"""

KIND_KEYS = {
    "ServiceAccount": "serviceaccounts",
    "Role": "roles.rbac.authorization.k8s.io",
    "RoleBinding": "rolebindings.rbac.authorization.k8s.io",
    "Secret": "secrets",
    "PersistentVolumeClaim": "persistentvolumeclaims",
}


def load(text: str) -> dict[str, Any]:
    obj = yaml.safe_load(text)
    assert isinstance(obj, dict)
    return obj


def isvc_with_status(status_text: str) -> dict[str, Any]:
    obj = load(WIZARD_INFERENCE_SERVICE)
    obj["status"] = load(status_text)
    return obj


def set_path(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``obj`` with the dotted ``path`` set to ``value``."""
    out = copy.deepcopy(obj)
    target = out
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(parts[-1])] = value
    else:
        target[parts[-1]] = value
    return out


def causes_of(kind_key: str, obj: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c.field, c.reason, c.message) for c in validate_structure(kind_key=kind_key, obj=obj)]


# ---------------------------------------------------------------- valid objects


@pytest.mark.parametrize(
    ("kind_key", "text"),
    [
        (SR, WIZARD_SERVING_RUNTIME),
        (ISVC, LEGACY_INFERENCE_SERVICE),
        (ISVC, WIZARD_INFERENCE_SERVICE),
        (NIMSERVICE, NIM_SERVICE),
        (ACCOUNT, ACCOUNT_OBJECT),
        (HWP, HARDWARE_PROFILE),
    ],
    ids=["wizard-servingruntime", "legacy-isvc", "wizard-isvc", "nimservice", "account", "hardwareprofile"],
)
def test_dashboard_manifests_validate_cleanly(kind_key: str, text: str) -> None:
    obj = load(text)
    assert validate_structure(kind_key=kind_key, obj=obj) == []
    assert unknown_fields(kind_key=kind_key, obj=obj) == []


def test_token_auth_objects_and_pvc_validate_cleanly() -> None:
    for obj in yaml.safe_load_all(TOKEN_AUTH_OBJECTS):
        kind_key = KIND_KEYS[obj["kind"]]
        assert validate_structure(kind_key=kind_key, obj=obj) == [], obj["kind"]
        assert unknown_fields(kind_key=kind_key, obj=obj) == [], obj["kind"]


@pytest.mark.parametrize("status_text", [ISVC_STATUS_READY, ISVC_STATUS_FAILED], ids=["ready", "failed"])
def test_kserve_controller_status_validates(status_text: str) -> None:
    obj = isvc_with_status(status_text)
    assert validate_structure(kind_key=ISVC, obj=obj) == []
    assert unknown_fields(kind_key=ISVC, obj=obj) == []


def test_runtime_template_with_go_serialisation_artefacts_validates() -> None:
    runtime = load(WIZARD_SERVING_RUNTIME)
    runtime["metadata"] = {"name": "nvidia-nim-runtime", "creationTimestamp": None}
    runtime["status"] = {}
    template = {
        "apiVersion": "template.openshift.io/v1",
        "kind": "Template",
        "metadata": {"name": "odh-nim-account-template", "namespace": "demo"},
        "objects": [runtime],
        "parameters": [],
    }
    assert validate_structure(kind_key=TEMPLATE, obj=template) == []
    assert unknown_fields(kind_key=TEMPLATE, obj=template) == []


# ---------------------------------------------------------------- violations, one per rule


def test_wrong_type_gives_field_value_type_invalid() -> None:
    obj = set_path(load(WIZARD_INFERENCE_SERVICE), "spec.predictor.minReplicas", "two")
    assert causes_of(ISVC, obj) == [
        (
            "spec.predictor.minReplicas",
            "FieldValueTypeInvalid",
            'Invalid value: "string": spec.predictor.minReplicas in body must be of type integer: "string"',
        )
    ]


def test_integral_float_is_an_integer_but_fraction_is_not() -> None:
    obj = load(WIZARD_INFERENCE_SERVICE)
    assert validate_structure(kind_key=ISVC, obj=set_path(obj, "spec.predictor.minReplicas", 2.0)) == []
    assert causes_of(ISVC, set_path(obj, "spec.predictor.minReplicas", 1.5))[0][2] == (
        'Invalid value: "number": spec.predictor.minReplicas in body must be of type integer: "number"'
    )
    assert causes_of(ISVC, set_path(obj, "spec.predictor.minReplicas", True))[0][2].endswith('"boolean"')


def test_missing_required_field_gives_field_value_required() -> None:
    obj = load(WIZARD_INFERENCE_SERVICE)
    obj["spec"] = {}
    assert causes_of(ISVC, obj) == [("spec.predictor", "FieldValueRequired", "Required value")]
    nested = load(WIZARD_INFERENCE_SERVICE)
    del nested["spec"]["predictor"]["model"]["modelFormat"]["name"]
    assert causes_of(ISVC, nested) == [
        ("spec.predictor.model.modelFormat.name", "FieldValueRequired", "Required value")
    ]


def test_enum_violation_gives_field_value_not_supported() -> None:
    obj = set_path(load(WIZARD_INFERENCE_SERVICE), "spec.predictor.scaleMetric", "gpu")
    assert causes_of(ISVC, obj) == [
        (
            "spec.predictor.scaleMetric",
            "FieldValueNotSupported",
            'Unsupported value: "gpu": supported values: "cpu", "memory", "concurrency", "rps"',
        )
    ]


def test_model_status_enum_includes_the_empty_state() -> None:
    obj = isvc_with_status(ISVC_STATUS_READY)
    assert (
        validate_structure(kind_key=ISVC, obj=set_path(obj, "status.modelStatus.states.activeModelState", ""))
        == []
    )
    bad = set_path(obj, "status.modelStatus.states.activeModelState", "Ready")
    assert causes_of(ISVC, bad) == [
        (
            "status.modelStatus.states.activeModelState",
            "FieldValueNotSupported",
            'Unsupported value: "Ready": supported values: "", "Pending", "Standby", "Loading", "Loaded", '
            '"FailedToLoad"',
        )
    ]


def test_deployment_strategy_type_is_free_form_as_in_the_crd() -> None:
    obj = set_path(load(WIZARD_INFERENCE_SERVICE), "spec.predictor.deploymentStrategy.type", "BlueGreen")
    assert validate_structure(kind_key=ISVC, obj=obj) == []


def test_quantity_pattern_applies_to_custom_resources() -> None:
    obj = set_path(load(WIZARD_INFERENCE_SERVICE), "spec.predictor.model.resources.limits.cpu", "two")
    [(field, reason, message)] = causes_of(ISVC, obj)
    assert (field, reason) == ("spec.predictor.model.resources.limits.cpu", "FieldValueInvalid")
    assert message.startswith(
        'Invalid value: "two": spec.predictor.model.resources.limits.cpu in body should match '
        "'^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))"
    )


def test_int_or_string_rejects_other_types() -> None:
    obj = set_path(load(WIZARD_INFERENCE_SERVICE), "spec.predictor.model.resources.limits.cpu", [2])
    assert causes_of(ISVC, obj) == [
        (
            "spec.predictor.model.resources.limits.cpu",
            "FieldValueTypeInvalid",
            'Invalid value: "array": spec.predictor.model.resources.limits.cpu in body must be of type '
            'integer,string: "array"',
        )
    ]


def test_minimum_is_checked() -> None:
    obj = set_path(load(WIZARD_SERVING_RUNTIME), "spec.supportedModelFormats.0.priority", 0)
    assert causes_of(SR, obj) == [
        (
            "spec.supportedModelFormats[0].priority",
            "FieldValueInvalid",
            "Invalid value: 0: spec.supportedModelFormats[0].priority in body should be greater than or "
            "equal to 1",
        )
    ]


def test_date_time_and_duration_formats_are_checked() -> None:
    obj = load(ACCOUNT_OBJECT)
    assert causes_of(ACCOUNT, set_path(obj, "status.lastAccountCheck", "yesterday")) == [
        (
            "status.lastAccountCheck",
            "FieldValueTypeInvalid",
            'Invalid value: "yesterday": status.lastAccountCheck in body must be of type date-time: '
            '"yesterday"',
        )
    ]
    assert causes_of(ACCOUNT, set_path(obj, "spec.validationRefreshRate", "daily")) == [
        (
            "spec.validationRefreshRate",
            "FieldValueTypeInvalid",
            'Invalid value: "daily": spec.validationRefreshRate in body must be of type duration: "daily"',
        )
    ]
    for good in ("24h", "1h30m", "90s", "2 days", "0"):
        assert (
            validate_structure(kind_key=ACCOUNT, obj=set_path(obj, "spec.validationRefreshRate", good)) == []
        )
    for stamp in ("2026-01-01T00:00:00.123Z", "2026-01-01t10:00:00+02:00"):
        assert validate_structure(kind_key=ACCOUNT, obj=set_path(obj, "status.lastAccountCheck", stamp)) == []
    assert validate_structure(
        kind_key=ACCOUNT, obj=set_path(obj, "status.lastAccountCheck", "2026-02-30T00:00:00Z")
    )


def test_condition_length_and_pattern_rules() -> None:
    obj = load(ACCOUNT_OBJECT)
    too_long = set_path(obj, "status.conditions.0.type", "A" * 317)
    assert ("status.conditions[0].type", "FieldValueTooLong", "Too long: may not be more than 316 bytes") in (
        causes_of(ACCOUNT, too_long)
    )
    empty_reason = set_path(obj, "status.conditions.0.reason", "")
    assert (
        "status.conditions[0].reason",
        "FieldValueInvalid",
        'Invalid value: "": status.conditions[0].reason in body should be at least 1 chars long',
    ) in causes_of(ACCOUNT, empty_reason)


def test_duplicate_list_map_keys_are_rejected() -> None:
    obj = load(WIZARD_INFERENCE_SERVICE)
    obj["spec"]["predictor"]["model"]["env"] = [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]
    assert causes_of(ISVC, obj) == [
        (
            "spec.predictor.model.env[1]",
            "FieldValueDuplicate",
            'Duplicate value: map[string]interface {}{"name":"A"}',
        )
    ]
    # protocol defaults to TCP before the (containerPort, protocol) keys are compared
    runtime = load(WIZARD_SERVING_RUNTIME)
    runtime["spec"]["containers"][0]["ports"] = [
        {"containerPort": 8000},
        {"containerPort": 8000, "protocol": "TCP"},
    ]
    assert causes_of(SR, runtime) == [
        (
            "spec.containers[0].ports[1]",
            "FieldValueDuplicate",
            'Duplicate value: map[string]interface {}{"containerPort":8000, "protocol":"TCP"}',
        )
    ]


def test_cel_rules_of_hardware_profile_scheduling() -> None:
    obj = load(HARDWARE_PROFILE)
    del obj["spec"]["scheduling"]["node"]
    assert causes_of(HWP, obj) == [
        (
            "spec.scheduling",
            "FieldValueInvalid",
            "Invalid value: \"object\": When schedulingType is 'Node', the 'node' field must be set, and the "
            "'kueue' field must not be set",
        )
    ]
    queue = set_path(load(HARDWARE_PROFILE), "spec.scheduling.type", "Queue")
    assert causes_of(HWP, queue)[0][2].startswith(
        "Invalid value: \"object\": When schedulingType is 'Queue', the 'kueue.localQueueName' field"
    )
    kueue = set_path(
        load(HARDWARE_PROFILE), "spec.scheduling", {"type": "Queue", "kueue": {"localQueueName": "q"}}
    )
    assert validate_structure(kind_key=HWP, obj=kueue) == []


def test_hardware_profile_enums_and_required_spec() -> None:
    obj = set_path(load(HARDWARE_PROFILE), "spec.identifiers.2.resourceType", "GPU")
    assert causes_of(HWP, obj) == [
        (
            "spec.identifiers[2].resourceType",
            "FieldValueNotSupported",
            'Unsupported value: "GPU": supported values: "CPU", "Memory", "Accelerator"',
        )
    ]
    assert causes_of(HWP, set_path(load(HARDWARE_PROFILE), "spec.scheduling.type", "Pool"))[0][:2] == (
        "spec.scheduling.type",
        "FieldValueNotSupported",
    )
    no_spec = load(HARDWARE_PROFILE)
    del no_spec["spec"]
    assert causes_of(HWP, no_spec) == [("spec", "FieldValueRequired", "Required value")]
    missing_default = load(HARDWARE_PROFILE)
    del missing_default["spec"]["identifiers"][0]["defaultCount"]
    assert causes_of(HWP, missing_default) == [
        ("spec.identifiers[0].defaultCount", "FieldValueRequired", "Required value")
    ]


def test_nimservice_rules() -> None:
    obj = load(NIM_SERVICE)
    obj["spec"]["scale"] = {"enabled": True, "hpa": {"maxReplicas": 3}}
    assert causes_of(NIMSERVICE, obj) == [
        (
            "spec",
            "FieldValueInvalid",
            'Invalid value: "object": spec.replicas cannot be set when spec.scale.enabled is true',
        )
    ]
    platform = set_path(load(NIM_SERVICE), "spec.inferencePlatform", "kserve-raw")
    assert causes_of(NIMSERVICE, platform) == [
        (
            "spec.inferencePlatform",
            "FieldValueNotSupported",
            'Unsupported value: "kserve-raw": supported values: "standalone", "kserve"',
        )
    ]
    both_ingresses = load(NIM_SERVICE)
    both_ingresses["spec"]["expose"]["ingress"] = {"enabled": True}
    both_ingresses["spec"]["expose"]["router"] = {"ingress": {"ingressClass": "nginx"}}
    assert [c.field for c in validate_structure(kind_key=NIMSERVICE, obj=both_ingresses)] == ["spec"]
    no_tag = load(NIM_SERVICE)
    del no_tag["spec"]["image"]["tag"]
    assert causes_of(NIMSERVICE, no_tag) == [("spec.image.tag", "FieldValueRequired", "Required value")]


def test_probe_port_rules_follow_kserve_quirks() -> None:
    obj = load(WIZARD_INFERENCE_SERVICE)
    model = obj["spec"]["predictor"]["model"]
    model["readinessProbe"] = {"httpGet": {"path": "/v1/health/ready"}}  # KServe defaults the port
    assert validate_structure(kind_key=ISVC, obj=obj) == []
    model["startupProbe"] = {"httpGet": {"path": "/v1/health/ready"}}
    assert causes_of(ISVC, obj) == [
        ("spec.predictor.model.startupProbe.httpGet.port", "FieldValueRequired", "Required value")
    ]


def test_nulls_are_dropped_but_not_inside_lists() -> None:
    obj = set_path(load(WIZARD_INFERENCE_SERVICE), "spec.predictor.minReplicas", None)
    assert validate_structure(kind_key=ISVC, obj=obj) == []
    with_null_arg = set_path(load(WIZARD_INFERENCE_SERVICE), "spec.predictor.model.args", [None])
    assert causes_of(ISVC, with_null_arg) == [
        (
            "spec.predictor.model.args[0]",
            "FieldValueTypeInvalid",
            'Invalid value: "null": spec.predictor.model.args[0] in body must be of type string: "null"',
        )
    ]


def test_several_causes_come_in_a_stable_order() -> None:
    obj = load(WIZARD_INFERENCE_SERVICE)
    obj["spec"]["predictor"]["minReplicas"] = "1"
    obj["spec"]["predictor"]["maxReplicas"] = "1"
    obj["spec"]["predictor"]["scaleMetric"] = "gpu"
    assert [c.field for c in validate_structure(kind_key=ISVC, obj=obj)] == [
        "spec.predictor.maxReplicas",
        "spec.predictor.minReplicas",
        "spec.predictor.scaleMetric",
    ]


# ---------------------------------------------------------------- defaults


def test_defaults_fill_required_fields_before_validation() -> None:
    obj = isvc_with_status(ISVC_STATUS_READY)
    obj["status"]["modelStatus"] = {"states": {}, "copies": {}}
    assert validate_structure(kind_key=ISVC, obj=obj) == []
    defaulted = apply_defaults(kind_key=ISVC, obj=obj)
    assert defaulted["status"]["modelStatus"] == {
        "states": {"activeModelState": "Pending", "targetModelState": ""},
        "copies": {"failedCopies": 0},
        "transitionStatus": "UpToDate",
    }


def test_apply_defaults_on_account_and_runtime() -> None:
    account = load(ACCOUNT_OBJECT)
    defaulted = apply_defaults(kind_key=ACCOUNT, obj=account)
    assert defaulted["spec"]["validationRefreshRate"] == "24h"
    assert defaulted["spec"]["nimConfigRefreshRate"] == "24h"
    assert "validationRefreshRate" not in account["spec"]  # the input is left alone
    runtime = load(WIZARD_SERVING_RUNTIME)
    runtime["spec"]["containers"][0]["ports"] = [{"containerPort": 8000}]
    port = apply_defaults(kind_key=SR, obj=runtime)["spec"]["containers"][0]["ports"][0]
    assert port == {"containerPort": 8000, "protocol": "TCP"}
    with_null = set_path(load(WIZARD_INFERENCE_SERVICE), "spec.predictor.maxReplicas", None)
    assert "maxReplicas" not in apply_defaults(kind_key=ISVC, obj=with_null)["spec"]["predictor"]


def test_built_in_kinds_get_no_crd_defaults() -> None:
    pvc = next(o for o in yaml.safe_load_all(TOKEN_AUTH_OBJECTS) if o["kind"] == "PersistentVolumeClaim")
    assert apply_defaults(kind_key="persistentvolumeclaims", obj=pvc) == pvc


# ---------------------------------------------------------------- unknown fields and pruning


def test_unknown_fields_are_reported_with_their_paths() -> None:
    obj = load(WIZARD_INFERENCE_SERVICE)
    obj["spec"]["x"] = 1
    obj["spec"]["predictor"]["model"]["foo"] = "bar"
    obj["spec"]["predictor"]["model"]["env"][0]["secret"] = True
    obj["spec"]["predictor"]["storageUris"] = [{"uri": "s3://b"}]  # KServe master only
    obj["metadata"]["labelz"] = {}
    obj["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "K", "name": "n", "uid": "u", "x": 1}]
    assert unknown_fields(kind_key=ISVC, obj=obj) == [
        "metadata.labelz",
        "metadata.ownerReferences[0].x",
        "spec.predictor.model.env[0].secret",
        "spec.predictor.model.foo",
        "spec.predictor.storageUris",
        "spec.x",
    ]


def test_preserved_subtrees_are_not_unknown() -> None:
    obj = isvc_with_status(ISVC_STATUS_READY)
    obj["status"]["somethingNew"] = {"a": 1}  # InferenceService status preserves unknown fields
    obj["spec"]["predictor"]["affinity"] = {"nodeAffinity": {"anything": True}}  # not modelled: kept
    assert unknown_fields(kind_key=ISVC, obj=obj) == []
    runtime = load(WIZARD_SERVING_RUNTIME)
    runtime["status"] = {"anything": 1}  # the ServingRuntime status schema has no fields at all
    assert unknown_fields(kind_key=SR, obj=runtime) == ["status.anything"]


def test_unknown_fields_of_built_in_kinds() -> None:
    pvc = next(o for o in yaml.safe_load_all(TOKEN_AUTH_OBJECTS) if o["kind"] == "PersistentVolumeClaim")
    pvc["spec"]["size"] = "1Gi"
    pvc["extra"] = True
    assert unknown_fields(kind_key="persistentvolumeclaims", obj=pvc) == ["spec.size", "extra"]


def test_prune_unknown_returns_a_new_object() -> None:
    obj = load(WIZARD_INFERENCE_SERVICE)
    obj["spec"]["predictor"]["model"]["foo"] = "bar"
    obj["spec"]["x"] = 1
    pruned = prune_unknown(kind_key=ISVC, obj=obj)
    assert "foo" not in pruned["spec"]["predictor"]["model"]
    assert "x" not in pruned["spec"]
    assert obj["spec"]["x"] == 1  # input untouched
    expected = load(WIZARD_INFERENCE_SERVICE)
    assert pruned == expected
    assert unknown_fields(kind_key=ISVC, obj=pruned) == []


def test_unknown_kind_has_no_schema() -> None:
    assert not has_schema(kind_key="widgets.example.com")
    assert has_schema(kind_key=ISVC) and has_schema(kind_key="persistentvolumeclaims")
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"x": 1}}
    assert validate_structure(kind_key="widgets.example.com", obj=obj) == []
    assert unknown_fields(kind_key="widgets.example.com", obj=obj) == []
    copied = prune_unknown(kind_key="widgets.example.com", obj=obj)
    assert copied == obj and copied is not obj


# ---------------------------------------------------------------- built-in kinds (Go validation rules)


def core(kind: str) -> dict[str, Any]:
    return next(copy.deepcopy(o) for o in yaml.safe_load_all(TOKEN_AUTH_OBJECTS) if o["kind"] == kind)


def test_pvc_rules() -> None:
    pvc = core("PersistentVolumeClaim")
    pvc["spec"]["accessModes"] = []
    del pvc["spec"]["resources"]
    pvc["spec"]["volumeMode"] = "Raw"
    assert causes_of("persistentvolumeclaims", pvc) == [
        ("spec.accessModes", "FieldValueRequired", "Required value: at least 1 access mode is required"),
        ("spec.resources[storage]", "FieldValueRequired", "Required value"),
        (
            "spec.volumeMode",
            "FieldValueNotSupported",
            'Unsupported value: "Raw": supported values: "Block", "Filesystem"',
        ),
    ]
    bad_mode = set_path(core("PersistentVolumeClaim"), "spec.accessModes", ["ReadWriteSometimes"])
    assert causes_of("persistentvolumeclaims", bad_mode) == [
        (
            "spec.accessModes",
            "FieldValueNotSupported",
            'Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", '
            '"ReadWriteOnce", "ReadWriteOncePod"',
        )
    ]


def test_built_in_quantities_are_left_to_the_decoder() -> None:
    pvc = set_path(core("PersistentVolumeClaim"), "spec.resources.requests.storage", "lots")
    assert validate_structure(kind_key="persistentvolumeclaims", obj=pvc) == []


def test_role_binding_and_role_rules() -> None:
    binding = core("RoleBinding")
    binding["roleRef"]["kind"] = "Group"
    binding["subjects"] = [
        {"kind": "Robot", "name": "r2"},
        {"kind": "ServiceAccount", "apiGroup": "x", "name": "sa"},
    ]
    assert causes_of("rolebindings.rbac.authorization.k8s.io", binding) == [
        (
            "roleRef.kind",
            "FieldValueNotSupported",
            'Unsupported value: "Group": supported values: "Role", "ClusterRole"',
        ),
        (
            "subjects[0].kind",
            "FieldValueNotSupported",
            'Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
        ),
        ("subjects[1].apiGroup", "FieldValueNotSupported", 'Unsupported value: "x": supported values: ""'),
    ]
    role = core("Role")
    role["rules"] = [{"apiGroups": [""], "resources": ["pods"]}]
    assert causes_of("roles.rbac.authorization.k8s.io", role) == [
        ("rules[0].verbs", "FieldValueRequired", "Required value: verbs must contain at least one value")
    ]


def test_pod_storage_class_node_and_access_review_rules() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c"}]},
    }
    assert causes_of("pods", pod) == [("spec.containers[0].image", "FieldValueRequired", "Required value")]
    pod["spec"] = {}
    assert causes_of("pods", pod) == [("spec.containers", "FieldValueRequired", "Required value")]
    storage_class = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "s"}}
    storage_class["reclaimPolicy"] = "Recycle"
    assert causes_of("storageclasses.storage.k8s.io", storage_class) == [
        ("provisioner", "FieldValueRequired", "Required value"),
        (
            "reclaimPolicy",
            "FieldValueNotSupported",
            'Unsupported value: "Recycle": supported values: "Delete", "Retain"',
        ),
    ]
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "n"},
        "spec": {"taints": [{"key": "k", "effect": "Never"}]},
    }
    assert causes_of("nodes", node) == [
        (
            "spec.taints[0].effect",
            "FieldValueNotSupported",
            'Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
        )
    ]
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {}}
    assert causes_of("selfsubjectaccessreviews.authorization.k8s.io", review) == [
        (
            "spec.resourceAttributes",
            "FieldValueInvalid",
            'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be '
            "specified",
        )
    ]
    review["spec"] = {"resourceAttributes": {"verb": "create", "resource": "pods", "namespace": "demo"}}
    assert validate_structure(kind_key="selfsubjectaccessreviews.authorization.k8s.io", obj=review) == []


def test_causes_are_status_causes() -> None:
    obj = set_path(load(WIZARD_INFERENCE_SERVICE), "spec.predictor.maxReplicas", "x")
    [cause] = validate_structure(kind_key=ISVC, obj=obj)
    assert isinstance(cause, Cause)
    assert cause.to_dict() == {
        "reason": "FieldValueTypeInvalid",
        "message": 'Invalid value: "string": spec.predictor.maxReplicas in body must be of type integer: '
        '"string"',
        "field": "spec.predictor.maxReplicas",
    }
