"""Shapes every kind shares: ObjectMeta, object references, metav1.Condition, the resource root.

ObjectMeta is described only so that unknown ``metadata`` fields can be found; its values are
validated by the generic metadata validation, as on a real server, not through the schema.
"""

from __future__ import annotations

from collections.abc import Mapping

from .schema_model import (
    Schema,
    array,
    boolean,
    date_time,
    int64,
    obj,
    opaque,
    string,
    string_list,
    string_map,
)

OBJECT_META = obj(
    {
        "annotations": string_map(),
        "creationTimestamp": string(),
        "deletionGracePeriodSeconds": int64(),
        "deletionTimestamp": string(),
        "finalizers": string_list(),
        "generateName": string(),
        "generation": int64(),
        "labels": string_map(),
        "managedFields": array(
            obj(
                {
                    "apiVersion": string(),
                    "fieldsType": string(),
                    "fieldsV1": opaque(),
                    "manager": string(),
                    "operation": string(),
                    "subresource": string(),
                    "time": string(),
                }
            )
        ),
        "name": string(),
        "namespace": string(),
        "ownerReferences": array(
            obj(
                {
                    "apiVersion": string(),
                    "blockOwnerDeletion": boolean(),
                    "controller": boolean(),
                    "kind": string(),
                    "name": string(),
                    "uid": string(),
                },
                required=("apiVersion", "kind", "name", "uid"),
            )
        ),
        "resourceVersion": string(),
        "selfLink": string(),
        "uid": string(),
    }
)

object_reference = obj(
    {
        "apiVersion": string(),
        "fieldPath": string(),
        "kind": string(),
        "name": string(),
        "namespace": string(),
        "resourceVersion": string(),
        "uid": string(),
    }
)

_REASON_PATTERN = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
_CONDITION_TYPE_PATTERN = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
)

# metav1.Condition, as controller-gen renders it (Account and NIMService status).
meta_condition = obj(
    {
        "lastTransitionTime": date_time(),
        "message": string(max_length=32768),
        "observedGeneration": int64(minimum=0),
        "reason": string(min_length=1, max_length=1024, pattern=_REASON_PATTERN),
        "status": string(enum=("True", "False", "Unknown")),
        "type": string(max_length=316, pattern=_CONDITION_TYPE_PATTERN),
    },
    required=("lastTransitionTime", "message", "reason", "status", "type"),
)


def resource_root(properties: Mapping[str, Schema], *, required: tuple[str, ...] = ()) -> Schema:
    return obj(
        {"apiVersion": string(), "kind": string(), "metadata": OBJECT_META, **properties},
        required=required,
    )
