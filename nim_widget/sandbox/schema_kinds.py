"""Structural schemas of every kind the sandbox serves, keyed by the store's kind key.

Custom resources follow the CRDs a real OpenShift AI cluster has installed: KServe v0.15.2 for
InferenceService and ServingRuntime (OpenShift AI 2.x ships a KServe close to it, so fields that
only exist on KServe master, such as ``predictor.storageUris``, are unknown here as they would be
there), odh-model-controller's Account, opendatahub-operator's HardwareProfile and the NIM
operator's NIMService. Built-in kinds (core, storage, rbac, authorization, OpenShift's Template)
are Go types on a real server: the engine checks them without CRD-only semantics (no defaults, no
list-map keys, no quantity pattern: the decoder parses quantities), and their Go field rules live
in ``schema_core_rules.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .schema_builtin import (
    CONFIG_MAP,
    EVENT,
    NAMESPACE,
    NODE,
    PERSISTENT_VOLUME_CLAIM,
    POD,
    ROLE,
    ROLE_BINDING,
    SECRET,
    SELF_SUBJECT_ACCESS_REVIEW,
    SERVICE_ACCOUNT,
    STORAGE_CLASS,
)
from .schema_kserve import INFERENCE_SERVICE, SERVING_RUNTIME
from .schema_model import Schema
from .schema_nim import ACCOUNT, HARDWARE_PROFILE, NIM_SERVICE, TEMPLATE


@dataclass(frozen=True)
class KindSchema:
    """The schema of one kind; ``custom`` selects CRD semantics (defaults, list-map keys, patterns)."""

    root: Schema
    custom: bool


KIND_SCHEMAS: dict[str, KindSchema] = {
    "inferenceservices.serving.kserve.io": KindSchema(INFERENCE_SERVICE, custom=True),
    "servingruntimes.serving.kserve.io": KindSchema(SERVING_RUNTIME, custom=True),
    "accounts.nim.opendatahub.io": KindSchema(ACCOUNT, custom=True),
    "hardwareprofiles.infrastructure.opendatahub.io": KindSchema(HARDWARE_PROFILE, custom=True),
    "nimservices.apps.nvidia.com": KindSchema(NIM_SERVICE, custom=True),
    "templates.template.openshift.io": KindSchema(TEMPLATE, custom=False),
    "namespaces": KindSchema(NAMESPACE, custom=False),
    "secrets": KindSchema(SECRET, custom=False),
    "configmaps": KindSchema(CONFIG_MAP, custom=False),
    "persistentvolumeclaims": KindSchema(PERSISTENT_VOLUME_CLAIM, custom=False),
    "serviceaccounts": KindSchema(SERVICE_ACCOUNT, custom=False),
    "pods": KindSchema(POD, custom=False),
    "events": KindSchema(EVENT, custom=False),
    "nodes": KindSchema(NODE, custom=False),
    "storageclasses.storage.k8s.io": KindSchema(STORAGE_CLASS, custom=False),
    "roles.rbac.authorization.k8s.io": KindSchema(ROLE, custom=False),
    "rolebindings.rbac.authorization.k8s.io": KindSchema(ROLE_BINDING, custom=False),
    "selfsubjectaccessreviews.authorization.k8s.io": KindSchema(SELF_SUBJECT_ACCESS_REVIEW, custom=False),
}
