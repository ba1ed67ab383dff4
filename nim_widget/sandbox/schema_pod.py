"""The pod-spec-ish building blocks shared by InferenceService, ServingRuntime, NIMService and Pod.

Written after the core/v1 shapes as controller-gen renders them into the KServe v0.15.2 CRDs: the
CRDs carry the Go types' required fields, int-or-string quantities and list-map keys, but none of
the enums that core validation checks in Go (an InferenceService may say ``operator: Sometimes``
in a toleration and the API server stores it). We copy that leniency instead of inventing rules.
The parts a NIM deployment uses are modelled field by field; the rest (affinity, DNS config, lifecycle
hooks, projected volumes, ...) are ``opaque()``.
"""

from __future__ import annotations

from .schema_model import (
    Schema,
    array,
    boolean,
    int32,
    int64,
    int_or_string,
    obj,
    opaque,
    opaque_list,
    quantity,
    quantity_map,
    string,
    string_list,
    string_map,
)

local_object_reference = obj({"name": string(default="")})

_key_ref = obj(
    {"key": string(), "name": string(default=""), "optional": boolean()},
    required=("key",),
)

_ENV_SOURCES: dict[str, Schema] = {
    "configMapKeyRef": _key_ref,
    "fieldRef": obj({"apiVersion": string(), "fieldPath": string()}, required=("fieldPath",)),
    "resourceFieldRef": obj(
        {"containerName": string(), "divisor": quantity(), "resource": string()},
        required=("resource",),
    ),
    "secretKeyRef": _key_ref,
}


def make_env_var(**extra_sources: Schema) -> Schema:
    """core/v1 EnvVar; newer CRDs (NIM operator) know Kubernetes 1.34's ``fileKeyRef`` too."""
    return obj(
        {"name": string(), "value": string(), "valueFrom": obj({**_ENV_SOURCES, **extra_sources})},
        required=("name",),
    )


env_var = make_env_var()

_optional_ref = obj({"name": string(default=""), "optional": boolean()})
env_from_source = obj({"configMapRef": _optional_ref, "prefix": string(), "secretRef": _optional_ref})

resource_requirements = obj(
    {
        "claims": array(obj({"name": string(), "request": string()}, required=("name",)), map_keys=("name",)),
        "limits": quantity_map(),
        "requests": quantity_map(),
    }
)

volume_mount = obj(
    {
        "mountPath": string(),
        "mountPropagation": string(),
        "name": string(),
        "readOnly": boolean(),
        "recursiveReadOnly": string(),
        "subPath": string(),
        "subPathExpr": string(),
    },
    required=("mountPath", "name"),
)

container_port = obj(
    {
        "containerPort": int32(),
        "hostIP": string(),
        "hostPort": int32(),
        "name": string(),
        "protocol": string(default="TCP"),
    },
    required=("containerPort",),
)


def make_probe(*, optional_port: tuple[str, ...] = ()) -> Schema:
    """A core/v1 Probe; KServe's CRD drops ``port`` from ``required`` where its webhook defaults it.

    In an InferenceService, component containers may omit ``httpGet.port`` in liveness and
    readiness probes, and ``model`` may omit it for ``tcpSocket`` too; startup probes and every
    other container keep the Go type's rule.
    """

    def handler(name: str, fields: dict[str, Schema]) -> Schema:
        return obj(fields, required=() if name in optional_port else ("port",))

    return obj(
        {
            "exec": obj({"command": string_list()}),
            "failureThreshold": int32(),
            "grpc": obj({"port": int32(), "service": string(default="")}, required=("port",)),
            "httpGet": handler(
                "httpGet",
                {
                    "host": string(),
                    "httpHeaders": array(
                        obj({"name": string(), "value": string()}, required=("name", "value"))
                    ),
                    "path": string(),
                    "port": int_or_string(),
                    "scheme": string(),
                },
            ),
            "initialDelaySeconds": int32(),
            "periodSeconds": int32(),
            "successThreshold": int32(),
            "tcpSocket": handler("tcpSocket", {"host": string(), "port": int_or_string()}),
            "terminationGracePeriodSeconds": int64(),
            "timeoutSeconds": int32(),
        }
    )


probe = make_probe()


_se_linux_options = obj({"level": string(), "role": string(), "type": string(), "user": string()})
_profile = obj({"localhostProfile": string(), "type": string()}, required=("type",))
_windows_options = obj(
    {
        "gmsaCredentialSpec": string(),
        "gmsaCredentialSpecName": string(),
        "hostProcess": boolean(),
        "runAsUserName": string(),
    }
)
_SECURITY_COMMON: dict[str, Schema] = {
    "appArmorProfile": _profile,
    "runAsGroup": int64(),
    "runAsNonRoot": boolean(),
    "runAsUser": int64(),
    "seLinuxOptions": _se_linux_options,
    "seccompProfile": _profile,
    "windowsOptions": _windows_options,
}

# OpenShift and the NIM operator set these (runAsUser 1000, fsGroup 2000, dropped capabilities).
pod_security_context = obj(
    {
        **_SECURITY_COMMON,
        "fsGroup": int64(),
        "fsGroupChangePolicy": string(),
        "seLinuxChangePolicy": string(),
        "supplementalGroups": array(int64()),
        "supplementalGroupsPolicy": string(),
        "sysctls": array(obj({"name": string(), "value": string()}, required=("name", "value"))),
    }
)
security_context = obj(
    {
        **_SECURITY_COMMON,
        "allowPrivilegeEscalation": boolean(),
        "capabilities": obj({"add": string_list(), "drop": string_list()}),
        "privileged": boolean(),
        "procMount": string(),
        "readOnlyRootFilesystem": boolean(),
    }
)


def container_fields(*, optional_port: tuple[str, ...] = ()) -> dict[str, Schema]:
    """core/v1 Container fields; ``optional_port`` relaxes liveness/readiness as ``make_probe`` says."""
    lenient = make_probe(optional_port=optional_port) if optional_port else probe
    return {
        "args": string_list(),
        "command": string_list(),
        "env": array(env_var, map_keys=("name",)),
        "envFrom": array(env_from_source),
        "image": string(),
        "imagePullPolicy": string(),
        "lifecycle": opaque(),
        "livenessProbe": lenient,
        "name": string(),
        "ports": array(container_port, map_keys=("containerPort", "protocol")),
        "readinessProbe": lenient,
        "resizePolicy": opaque_list(),
        "resources": resource_requirements,
        "restartPolicy": string(),
        "securityContext": security_context,
        "startupProbe": probe,
        "stdin": boolean(),
        "stdinOnce": boolean(),
        "terminationMessagePath": string(),
        "terminationMessagePolicy": string(),
        "tty": boolean(),
        "volumeDevices": array(
            obj({"devicePath": string(), "name": string()}, required=("devicePath", "name")),
            map_keys=("devicePath",),
        ),
        "volumeMounts": array(volume_mount, map_keys=("mountPath",)),
        "workingDir": string(),
    }


container = obj(container_fields(), required=("name",))

toleration = obj(
    {
        "effect": string(),
        "key": string(),
        "operator": string(),
        "tolerationSeconds": int64(),
        "value": string(),
    }
)

_key_to_path = obj({"key": string(), "mode": int32(), "path": string()}, required=("key", "path"))

# Volume sources a NIM runtime uses are modelled; the long tail of in-tree plugins is opaque.
_VOLUME_SOURCES: dict[str, Schema] = {
    "configMap": obj(
        {
            "defaultMode": int32(),
            "items": array(_key_to_path),
            "name": string(default=""),
            "optional": boolean(),
        }
    ),
    "csi": obj(
        {
            "driver": string(),
            "fsType": string(),
            "nodePublishSecretRef": local_object_reference,
            "readOnly": boolean(),
            "volumeAttributes": string_map(),
        },
        required=("driver",),
    ),
    "emptyDir": obj({"medium": string(), "sizeLimit": quantity()}),
    "hostPath": obj({"path": string(), "type": string()}, required=("path",)),
    "image": obj({"pullPolicy": string(), "reference": string()}),
    "nfs": obj({"path": string(), "readOnly": boolean(), "server": string()}, required=("path", "server")),
    "persistentVolumeClaim": obj({"claimName": string(), "readOnly": boolean()}, required=("claimName",)),
    "secret": obj(
        {"defaultMode": int32(), "items": array(_key_to_path), "optional": boolean(), "secretName": string()}
    ),
}
for _plugin in (
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "downwardAPI",
    "ephemeral",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "gitRepo",
    "glusterfs",
    "iscsi",
    "photonPersistentDisk",
    "portworxVolume",
    "projected",
    "quobyte",
    "rbd",
    "scaleIO",
    "storageos",
    "vsphereVolume",
):
    _VOLUME_SOURCES[_plugin] = opaque()

volume = obj({"name": string(), **_VOLUME_SOURCES}, required=("name",))

# PodSpec fields as the KServe CRDs embed them (predictor, transformer, explainer, workerSpec).
POD_SPEC_FIELDS: dict[str, Schema] = {
    "activeDeadlineSeconds": int64(),
    "affinity": opaque(),
    "automountServiceAccountToken": boolean(),
    "containers": array(container),
    "dnsConfig": opaque(),
    "dnsPolicy": string(),
    "enableServiceLinks": boolean(),
    "hostAliases": array(obj({"hostnames": string_list(), "ip": string()}, required=("ip",))),
    "hostIPC": boolean(),
    "hostNetwork": boolean(),
    "hostPID": boolean(),
    "hostUsers": boolean(),
    "hostname": string(),
    "imagePullSecrets": array(local_object_reference),
    "initContainers": array(container),
    "nodeName": string(),
    "nodeSelector": string_map(),
    "os": obj({"name": string()}, required=("name",)),
    "overhead": quantity_map(),
    "preemptionPolicy": string(),
    "priority": int32(),
    "priorityClassName": string(),
    "readinessGates": array(obj({"conditionType": string()}, required=("conditionType",))),
    "resourceClaims": array(
        obj(
            {"name": string(), "resourceClaimName": string(), "resourceClaimTemplateName": string()},
            required=("name",),
        ),
        map_keys=("name",),
    ),
    "resources": resource_requirements,
    "restartPolicy": string(),
    "runtimeClassName": string(),
    "schedulerName": string(),
    "schedulingGates": array(obj({"name": string()}, required=("name",)), map_keys=("name",)),
    "securityContext": pod_security_context,
    "serviceAccount": string(),
    "serviceAccountName": string(),
    "setHostnameAsFQDN": boolean(),
    "shareProcessNamespace": boolean(),
    "subdomain": string(),
    "terminationGracePeriodSeconds": int64(),
    "tolerations": array(toleration),
    "topologySpreadConstraints": array(opaque(), map_keys=("topologyKey", "whenUnsatisfiable")),
    "volumes": array(volume),
}
