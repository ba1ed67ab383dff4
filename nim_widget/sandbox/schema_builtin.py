"""Built-in Kubernetes kinds: core/v1, storage, RBAC and authorization.

On a real server these are Go types: quantities are parsed by the decoder (a bad one is a 400,
not a field cause), there are no CRD defaults or list-map keys, and field rules are Go code
(``schema_core_rules.py``). The schemas here give their field names and types, deep where the
deploy flow touches them and opaque elsewhere.
"""

from __future__ import annotations

from .schema_meta import object_reference, resource_root
from .schema_model import (
    array,
    boolean,
    int32,
    obj,
    opaque,
    opaque_list,
    quantity_map,
    string,
    string_list,
    string_map,
)
from .schema_pod import (
    POD_SPEC_FIELDS,
    local_object_reference,
)

# ------------------------------------------------------------------ built-in Kubernetes kinds

NAMESPACE = resource_root(
    {
        "spec": obj({"finalizers": string_list()}),
        "status": obj({"conditions": opaque_list(), "phase": string()}),
    }
)

SECRET = resource_root(
    {"data": string_map(), "immutable": boolean(), "stringData": string_map(), "type": string()}
)

CONFIG_MAP = resource_root({"binaryData": string_map(), "data": string_map(), "immutable": boolean()})

PERSISTENT_VOLUME_CLAIM = resource_root(
    {
        "spec": obj(
            {
                "accessModes": string_list(),
                "dataSource": opaque(),
                "dataSourceRef": opaque(),
                "resources": obj({"limits": quantity_map(), "requests": quantity_map()}),
                "selector": opaque(),
                "storageClassName": string(),
                "volumeAttributesClassName": string(),
                "volumeMode": string(),
                "volumeName": string(),
            }
        ),
        "status": obj(
            {
                "accessModes": string_list(),
                "allocatedResourceStatuses": string_map(),
                "allocatedResources": quantity_map(),
                "capacity": quantity_map(),
                "conditions": opaque_list(),
                "currentVolumeAttributesClassName": string(),
                "modifyVolumeStatus": opaque(),
                "phase": string(),
            }
        ),
    }
)

SERVICE_ACCOUNT = resource_root(
    {
        "automountServiceAccountToken": boolean(),
        "imagePullSecrets": array(local_object_reference),
        "secrets": array(object_reference),
    }
)

_go_pod_spec = obj(
    {
        **POD_SPEC_FIELDS,
        "ephemeralContainers": opaque_list(),
    }
)
POD = resource_root({"spec": _go_pod_spec, "status": opaque()})

EVENT = resource_root(
    {
        "action": string(),
        "count": int32(),
        "eventTime": string(),
        "firstTimestamp": string(),
        "involvedObject": object_reference,
        "lastTimestamp": string(),
        "message": string(),
        "reason": string(),
        "related": object_reference,
        "reportingComponent": string(),
        "reportingInstance": string(),
        "series": opaque(),
        "source": obj({"component": string(), "host": string()}),
        "type": string(),
    }
)

NODE = resource_root(
    {
        "spec": obj(
            {
                "configSource": opaque(),
                "externalID": string(),
                "podCIDR": string(),
                "podCIDRs": string_list(),
                "providerID": string(),
                "taints": array(
                    obj({"effect": string(), "key": string(), "timeAdded": string(), "value": string()})
                ),
                "unschedulable": boolean(),
            }
        ),
        "status": obj(
            {
                "addresses": array(obj({"address": string(), "type": string()})),
                "allocatable": quantity_map(),
                "capacity": quantity_map(),
                "conditions": opaque_list(),
                "config": opaque(),
                "daemonEndpoints": opaque(),
                "features": opaque(),
                "images": opaque_list(),
                "nodeInfo": opaque(),
                "phase": string(),
                "runtimeHandlers": opaque_list(),
                "volumesAttached": opaque_list(),
                "volumesInUse": string_list(),
            }
        ),
    }
)

STORAGE_CLASS = resource_root(
    {
        "allowVolumeExpansion": boolean(),
        "allowedTopologies": opaque_list(),
        "mountOptions": string_list(),
        "parameters": string_map(),
        "provisioner": string(),
        "reclaimPolicy": string(),
        "volumeBindingMode": string(),
    }
)

_policy_rule = obj(
    {
        "apiGroups": string_list(),
        "nonResourceURLs": string_list(),
        "resourceNames": string_list(),
        "resources": string_list(),
        "verbs": string_list(),
    }
)
ROLE = resource_root({"rules": array(_policy_rule)})

ROLE_BINDING = resource_root(
    {
        "roleRef": obj({"apiGroup": string(), "kind": string(), "name": string()}),
        "subjects": array(
            obj({"apiGroup": string(), "kind": string(), "name": string(), "namespace": string()})
        ),
    }
)

SELF_SUBJECT_ACCESS_REVIEW = resource_root(
    {
        "spec": obj(
            {
                "nonResourceAttributes": obj({"path": string(), "verb": string()}),
                "resourceAttributes": obj(
                    {
                        "fieldSelector": opaque(),
                        "group": string(),
                        "labelSelector": opaque(),
                        "name": string(),
                        "namespace": string(),
                        "resource": string(),
                        "subresource": string(),
                        "verb": string(),
                        "version": string(),
                    }
                ),
            }
        ),
        "status": obj(
            {"allowed": boolean(), "denied": boolean(), "evaluationError": string(), "reason": string()}
        ),
    }
)
