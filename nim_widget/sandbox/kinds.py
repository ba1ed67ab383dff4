"""The kinds the sandbox serves, and the registry discovery and routing are built from.

A kind carries what a real API server knows about a resource from its Go strategy or its CRD:
scope, verbs, short names, whether ``status`` is a subresource, which name rule applies, whether
``metadata.generation`` is kept, and the printer columns ``kubectl get`` shows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

BUILTIN_GROUPS = frozenset({"", "storage.k8s.io", "rbac.authorization.k8s.io", "authorization.k8s.io"})

ALL_VERBS: tuple[str, ...] = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)


@dataclass(frozen=True)
class Column:
    """One ``additionalPrinterColumns`` entry; ``path`` is a small JSONPath (``.a.b``, ``[*]``, ``[?()]``)."""

    name: str
    path: str
    type: str = "string"
    priority: int = 0


@dataclass(frozen=True)
class Kind:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    singular: str = ""
    # What the Go strategy / CRD decides; defaults follow a CRD with a status subresource.
    status_subresource: bool = False
    name_rule: str = "subdomain"  # subdomain | label | dns1035 | path
    categories: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()
    generation: bool | None = None  # None: kept for custom kinds only, as CRDs do
    unconditional_update: bool | None = None  # None: allowed for built-ins, not for custom resources

    def __post_init__(self) -> None:
        if not self.singular:
            object.__setattr__(self, "singular", self.kind.lower())

    @property
    def key(self) -> str:
        return self.plural if not self.group else f"{self.plural}.{self.group}"

    @property
    def api_version(self) -> str:
        return self.version if not self.group else f"{self.group}/{self.version}"

    @property
    def is_custom(self) -> bool:
        return self.group not in BUILTIN_GROUPS

    @property
    def keeps_generation(self) -> bool:
        return self.is_custom if self.generation is None else self.generation

    @property
    def allows_unconditional_update(self) -> bool:
        return (not self.is_custom) if self.unconditional_update is None else self.unconditional_update

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def storage_prefix(self) -> str:
        """The etcd key prefix, which some real error messages quote (``/registry/...``)."""
        return f"/registry/{self.plural}" if not self.is_custom else f"/registry/{self.group}/{self.plural}"


class Registry:
    """Thread-safe lookup by key, by group/version/plural and by apiVersion/kind."""

    def __init__(self, kinds: Iterable[Kind] = ()) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, Kind] = {}
        self._by_gvr: dict[tuple[str, str, str], Kind] = {}
        self._by_kind: dict[tuple[str, str], Kind] = {}
        for kind in kinds:
            self.register(kind)

    def register(self, kind: Kind) -> Kind:
        with self._lock:
            self._by_key[kind.key] = kind
            self._by_gvr[(kind.group, kind.version, kind.plural)] = kind
            self._by_kind[(kind.api_version, kind.kind)] = kind
        return kind

    def get(self, key: str) -> Kind:
        try:
            return self._by_key[key]
        except KeyError:
            raise KeyError(f"unknown kind {key!r}") from None

    def find(self, key: str) -> Kind | None:
        return self._by_key.get(key)

    def by_gvr(self, group: str, version: str, plural: str) -> Kind | None:
        return self._by_gvr.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> Kind | None:
        return self._by_kind.get((api_version, kind))

    def all(self) -> list[Kind]:
        with self._lock:
            return list(self._by_key.values())

    def groups(self) -> dict[str, list[str]]:
        """group -> versions, in registration order (the first version is the preferred one)."""
        out: dict[str, list[str]] = {}
        for kind in self.all():
            versions = out.setdefault(kind.group, [])
            if kind.version not in versions:
                versions.append(kind.version)
        return out


_AGE = Column("Age", ".metadata.creationTimestamp", "date")

DEFAULT_KINDS: tuple[Kind, ...] = (
    Kind(
        "",
        "v1",
        "Namespace",
        "namespaces",
        False,
        ("ns",),
        name_rule="label",
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        status_subresource=True,
        columns=(Column("Status", ".status.phase"), _AGE),
    ),
    Kind("", "v1", "Secret", "secrets", True, columns=(Column("Type", ".type"), _AGE)),
    Kind("", "v1", "ConfigMap", "configmaps", True, ("cm",), columns=(_AGE,)),
    Kind(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        True,
        ("pvc",),
        status_subresource=True,
        columns=(
            Column("Status", ".status.phase"),
            Column("Volume", ".spec.volumeName"),
            Column("Capacity", ".status.capacity.storage"),
            Column("Access Modes", ".spec.accessModes[*]"),
            Column("StorageClass", ".spec.storageClassName"),
            _AGE,
        ),
    ),
    Kind("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",), columns=(_AGE,)),
    Kind(
        "",
        "v1",
        "Pod",
        "pods",
        True,
        ("po",),
        status_subresource=True,
        categories=("all",),
        columns=(Column("Status", ".status.phase"), Column("Node", ".spec.nodeName", priority=1), _AGE),
    ),
    Kind(
        "",
        "v1",
        "Event",
        "events",
        True,
        ("ev",),
        columns=(
            Column("Type", ".type"),
            Column("Reason", ".reason"),
            Column("Object", ".involvedObject.name"),
            Column("Message", ".message"),
        ),
    ),
    Kind(
        "",
        "v1",
        "Node",
        "nodes",
        False,
        ("no",),
        status_subresource=True,
        columns=(Column("Status", ".status.conditions[?(@.type=='Ready')].type"), _AGE),
    ),
    Kind(
        "storage.k8s.io",
        "v1",
        "StorageClass",
        "storageclasses",
        False,
        ("sc",),
        columns=(
            Column("Provisioner", ".provisioner"),
            Column("ReclaimPolicy", ".reclaimPolicy"),
            Column("VolumeBindingMode", ".volumeBindingMode"),
            Column("AllowVolumeExpansion", ".allowVolumeExpansion"),
            _AGE,
        ),
    ),
    Kind("rbac.authorization.k8s.io", "v1", "Role", "roles", True, name_rule="path", columns=(_AGE,)),
    Kind(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        True,
        name_rule="path",
        columns=(Column("Role", ".roleRef.name"), _AGE),
    ),
    Kind(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        False,
        verbs=("create",),
    ),
    Kind(
        "serving.kserve.io",
        "v1alpha1",
        "ServingRuntime",
        "servingruntimes",
        True,
        columns=(
            Column("Disabled", ".spec.disabled", "boolean"),
            Column("ModelType", ".spec.supportedModelFormats[*].name"),
            Column("Containers", ".spec.containers[*].name"),
            _AGE,
        ),
    ),
    Kind(
        "serving.kserve.io",
        "v1beta1",
        "InferenceService",
        "inferenceservices",
        True,
        ("isvc",),
        status_subresource=True,
        categories=("all",),
        columns=(
            Column("URL", ".status.url"),
            Column("Ready", ".status.conditions[?(@.type=='Ready')].status"),
            Column("Prev", ".status.components.predictor.traffic[?(@.tag=='prev')].percent", "integer"),
            Column(
                "Latest", ".status.components.predictor.traffic[?(@.latestRevision==true)].percent", "integer"
            ),
            _AGE,
        ),
    ),
    Kind(
        "nim.opendatahub.io",
        "v1",
        "Account",
        "accounts",
        True,
        status_subresource=True,
        columns=(
            Column("Account Status", '.status.conditions[?(@.type=="AccountStatus")].status'),
            Column("Account Check", ".status.lastAccountCheck", "date"),
            Column("Validation Rate", ".spec.validationRefreshRate"),
        ),
    ),
    Kind("template.openshift.io", "v1", "Template", "templates", True, columns=(_AGE,)),
    Kind(
        "infrastructure.opendatahub.io",
        "v1",
        "HardwareProfile",
        "hardwareprofiles",
        True,
        status_subresource=True,
        columns=(_AGE,),
    ),
    Kind(
        "apps.nvidia.com",
        "v1alpha1",
        "NIMService",
        "nimservices",
        True,
        status_subresource=True,
        columns=(Column("Status", ".status.state"), _AGE),
    ),
)


def default_registry() -> Registry:
    return Registry(DEFAULT_KINDS)
