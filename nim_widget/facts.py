"""What the cluster says, as plain frozen data: the inputs of validation and assembly.

Discovery (cluster/discovery.py) reads objects over HTTP and turns them into these with the pure parsers
in `nim_widget.catalog`; everything downstream (request validation, manifest assembly, the widget)
works on these values only, so it can be tested without a cluster and never does I/O.

Secret material (the NGC key, the dockerconfigjson) is carried in `SecretValue`, whose repr and str
are `<redacted>`, so printing facts, logging them or putting them in an exception never leaks it.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from nim_widget.quantity import Quantity

AccountState = Literal["ready", "pending", "error", "not_found"]

REDACTED = "<redacted>"

# Texts the dashboard shows for the account states (D.2 alerts, E.3 settings card, A.1 timeout).
ACCOUNT_NOT_FOUND_TITLE = "No NIM API key"
ACCOUNT_NOT_FOUND_MESSAGE = "No NVIDIA NIM key has been configured for this project."
ACCOUNT_ERROR_TITLE = "Invalid NIM API key"
ACCOUNT_ERROR_MESSAGE = "The NVIDIA NIM key for this project is invalid and needs to be replaced."
ACCOUNT_ERROR_FALLBACK = "API key failed validation."
ACCOUNT_PENDING_MESSAGES = ("Contacting NVIDIA to validate the license key.", "This can take a few minutes.")
ACCOUNT_READY_MESSAGE = "Your personal API key has been saved."
ACCOUNT_TIMEOUT_MESSAGE = (
    "NIM account validation is taking longer than expected. "
    "You may want to replace the API key or disable NIM and try again."
)


class SecretValue:
    """A secret string that never shows itself: repr/str/format give `<redacted>`.

    Only `reveal()` returns the value; assembly calls it when writing the real Secret body.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"SecretValue({REDACTED})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, format_spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretValue):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((SecretValue, self._value))

    def __reduce__(self) -> Any:
        raise TypeError("SecretValue cannot be pickled")


@dataclass(frozen=True)
class NimModel:
    """One catalog entry (A.4). `key` is the ConfigMap key the user picks (`model:` in a spec)."""

    key: str
    name: str
    display_name: str
    short_description: str
    namespace: str
    tags: tuple[str, ...]
    latest_tag: str | None
    updated_date: str | None

    @property
    def repository(self) -> str:
        """`nvcr.io/<namespace>/<name>` as the dashboard builds it (namespace may be org/team)."""
        return f"nvcr.io/{self.namespace}/{self.name}"

    @property
    def image_name(self) -> str:
        """The last path segment of the repository: the model format name the wizard writes."""
        return self.repository.rsplit("/", 1)[-1]

    @property
    def default_tag(self) -> str:
        """The tag used when none is chosen: the catalog's latest (tags are ordered latest first)."""
        return self.tags[0]

    def image(self, *, tag: str) -> str:
        return f"{self.repository}:{tag}"


@dataclass(frozen=True)
class SkippedEntry:
    """Something discovery could not use, and why (a bad catalog entry, a malformed profile)."""

    key: str
    reason: str


@dataclass(frozen=True)
class NimAccount:
    """The NIM Account CR (A.1) and its derived state with the dashboard's messages."""

    name: str
    namespace: str
    state: AccountState
    messages: tuple[str, ...]
    template_name: str | None
    config_name: str | None
    pull_secret_name: str | None
    api_key_secret_name: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def title(self) -> str:
        return account_title(self.state)


def account_title(state: AccountState) -> str:
    """A one-line heading for an account state (the dashboard's alert titles where it has them)."""
    return {
        "ready": ACCOUNT_READY_MESSAGE,
        "pending": ACCOUNT_PENDING_MESSAGES[0],
        "error": ACCOUNT_ERROR_TITLE,
        "not_found": ACCOUNT_NOT_FOUND_TITLE,
    }[state]


@dataclass(frozen=True)
class RuntimeTemplate:
    """The account's runtime Template (A.3) and the ServingRuntime converted from it.

    `serving_runtime` is `objects[0]` with the Template's `opendatahub.io/apiProtocol` annotation
    copied in, exactly as the dashboard's `getServingRuntimeFromTemplate` does.
    """

    name: str
    namespace: str
    serving_runtime: Mapping[str, Any] = field(repr=False)
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def display_name(self) -> str:
        metadata = self.serving_runtime.get("metadata") or {}
        annotations = metadata.get("annotations") or {}
        return str(annotations.get("openshift.io/display-name") or metadata.get("name") or "")

    def api_key_secret_names(self) -> tuple[str, ...]:
        """Secrets the runtime reads `NGC_API_KEY` from (the template says `nvidia-nim-secrets`;
        an air-gapped template has none), so the project must have them."""
        names: list[str] = []
        spec = self.serving_runtime.get("spec") or {}
        for container in spec.get("containers") or []:
            for env in container.get("env") or []:
                if not isinstance(env, Mapping):
                    continue
                ref = (env.get("valueFrom") or {}).get("secretKeyRef") or {}
                if ref.get("key") == "NGC_API_KEY" and ref.get("name") and ref["name"] not in names:
                    names.append(str(ref["name"]))
        return tuple(names)

    def pull_secret_names(self) -> tuple[str, ...]:
        """Image pull secrets the runtime names (the template says `ngc-secret`)."""
        spec = self.serving_runtime.get("spec") or {}
        names: list[str] = []
        for item in spec.get("imagePullSecrets") or []:
            if isinstance(item, Mapping) and item.get("name") and item["name"] not in names:
                names.append(str(item["name"]))
        return tuple(names)


@dataclass(frozen=True)
class HardwareIdentifier:
    """One resource a hardware profile sets, with its bounds (`max_count` None = unbounded)."""

    identifier: str
    display_name: str
    resource_type: str | None
    min_count: Quantity
    max_count: Quantity | None
    default_count: Quantity

    def allows(self, value: Quantity) -> bool:
        return self.min_count <= value and (self.max_count is None or value <= self.max_count)

    def bounds_text(self) -> str:
        """Follows "must be": "GPU must be 1" reads better than "between 1 and 1"."""
        if self.max_count is None:
            return f"at least {self.min_count}"
        if self.max_count == self.min_count:
            return str(self.min_count)
        return f"between {self.min_count} and {self.max_count}"


@dataclass(frozen=True)
class HardwareProfile:
    """A HardwareProfile (hardware-profiles.md); `visible` means enabled and shown for model serving."""

    name: str
    namespace: str
    display_name: str
    description: str
    identifiers: tuple[HardwareIdentifier, ...]
    node_selector: Mapping[str, str]
    tolerations: tuple[Mapping[str, Any], ...]
    resource_version: str
    enabled: bool
    visible_for_model_serving: bool
    scheduling_type: str | None
    local_queue_name: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def ref(self) -> str:
        """`namespace/name`: how a spec file can name it without ambiguity."""
        return f"{self.namespace}/{self.name}"

    @property
    def visible(self) -> bool:
        return self.enabled and self.visible_for_model_serving

    def identifier(self, name: str) -> HardwareIdentifier | None:
        for item in self.identifiers:
            if item.identifier == name:
                return item
        return None

    def resources(
        self, *, requests: Mapping[str, str] | None = None, limits: Mapping[str, str] | None = None
    ) -> dict[str, dict[str, str]]:
        """Container resources: every identifier's default in both requests and limits (B.4),
        with the given overrides on top. Bounds are checked by request validation, not here."""
        result: dict[str, dict[str, str]] = {
            "requests": {i.identifier: i.default_count.text for i in self.identifiers},
            "limits": {i.identifier: i.default_count.text for i in self.identifiers},
        }
        for key, overrides in (("requests", requests or {}), ("limits", limits or {})):
            for resource, value in overrides.items():
                result[key][resource] = value
        return result


@dataclass(frozen=True)
class StorageClassInfo:
    name: str
    display_name: str
    is_default: bool
    provisioner: str
    allows_expansion: bool


@dataclass(frozen=True)
class PvcInfo:
    """A PVC in the project; `is_nim_cache`/`sub_path` come from the wizard's annotations (B.6)."""

    name: str
    display_name: str
    size: Quantity | None
    storage_class: str | None
    phase: str | None
    access_modes: tuple[str, ...]
    is_nim_cache: bool
    sub_path: str | None
    created: datetime | None
    used_by: tuple[str, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class ClusterFacts:
    """Everything assembly and validation need to know about one project, read at one moment.

    `existing` maps `(kind, name)` to the live object for the deployment-shaped objects of the project
    (InferenceServices and ServingRuntimes), so an update can start from what is there.
    `existing_secrets` holds the names of Secrets present in the project (values are never needed).
    `api_key`/`docker_config_json` are the account's secret material, still base64-encoded as read from
    `data`, needed only when the project lacks its copies (B.5).
    """

    project: str
    account: NimAccount | None
    template: RuntimeTemplate | None
    models: tuple[NimModel, ...]
    hardware_profiles: tuple[HardwareProfile, ...]
    storage_classes: tuple[StorageClassInfo, ...]
    default_storage_class: str | None
    pvcs: tuple[PvcInfo, ...]
    existing_secrets: frozenset[str]
    existing: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict, repr=False)
    project_exists: bool = True
    template_problem: str | None = None
    api_key: SecretValue | None = None
    docker_config_json: SecretValue | None = None
    skipped: tuple[SkippedEntry, ...] = ()
    gathered_at: datetime | None = None

    def model(self, key: str) -> NimModel | None:
        for item in self.models:
            if item.key == key:
                return item
        return None

    def pvc(self, name: str) -> PvcInfo | None:
        for item in self.pvcs:
            if item.name == name:
                return item
        return None

    def storage_class(self, name: str) -> StorageClassInfo | None:
        for item in self.storage_classes:
            if item.name == name:
                return item
        return None

    def existing_object(self, *, kind: str, name: str) -> Mapping[str, Any] | None:
        return self.existing.get((kind, name))

    def find_hardware_profile(self, ref: str) -> HardwareProfile | None:
        """Resolve `name` or `namespace/name`; a bare name prefers the project's own profile."""
        if "/" in ref:
            namespace, _, name = ref.partition("/")
            candidates = [p for p in self.hardware_profiles if p.namespace == namespace and p.name == name]
        else:
            candidates = [p for p in self.hardware_profiles if p.name == ref]
            candidates.sort(key=lambda p: (p.namespace != self.project, p.namespace))
        return candidates[0] if candidates else None

    @property
    def selectable_hardware_profiles(self) -> tuple[HardwareProfile, ...]:
        """Profiles a person may pick for model serving: enabled and visible, global ones first."""
        visible = [p for p in self.hardware_profiles if p.visible]
        visible.sort(key=lambda p: (p.namespace == self.project, p.display_name.lower(), p.name))
        return tuple(visible)
