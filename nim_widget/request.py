"""What a person asks for: `DeploymentRequest`, its field rules, and the spec file.

One model serves the widget, the CLI's spec files and notebooks, so every rule lives here once and
speaks to a person (`storage.size: Add a unit to the size, e.g. 50Gi`), not in pydantic's words.
Field paths are the spec file's camelCase keys (`storage.pvcName`, `env[1].name`) everywhere, so
the widget, the CLI and notebooks point at the same thing.

Rules that need the cluster (does the model exist, is the override inside the profile's bounds) live in
`validate_against_facts`, which is pure too: it compares the request with `ClusterFacts`. Custom
resources without a hardware profile need no cluster, so their rules (`resource_problems`) run in the
model itself; with a profile the same rules run on the profile's defaults plus the overrides.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails, PydanticCustomError

from nim_widget import naming
from nim_widget.facts import ACCOUNT_NOT_FOUND_MESSAGE, ClusterFacts, HardwareProfile
from nim_widget.quantity import GIBIBYTE, Quantity, QuantityError

DEFAULT_STORAGE_SIZE = "50Gi"
MAX_REPLICAS = 99
ENV_VALUE_MAX_LENGTH = 8192
DISPLAY_NAME_MAX_LENGTH = 256
DESCRIPTION_MAX_LENGTH = 4096
SPEC_MAX_BYTES = 1024 * 1024
SPEC_MAX_NESTING = 32  # a deployment spec nests four levels; see _flow_depth
QUANTITY_MAX = 2**63 - 1  # Kubernetes caps every quantity's magnitude here
STORAGE_SIZE_LIMIT = 2**63  # 8Ei: a PVC request must stay below it
QUANTITY_TEXT_MAX_LENGTH = 64
QUANTITY_MAX_EXPONENT = 30  # 1e30 is already far beyond QUANTITY_MAX; larger ones are not even computed
_EXPONENT_RE = re.compile(r"[eE][+-]?(?P<digits>\d+)$")

ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MSG_ENV_NAME = (
    "Environment variable name must start with a letter or underscore and contain only letters, "
    "numbers, and underscores"
)
RESERVED_ENV = {
    "NGC_API_KEY": "NGC_API_KEY is reserved: the NIM runtime reads it from the project's secret "
    "nvidia-nim-secrets",
    "NIM_CACHE_PATH": "NIM_CACHE_PATH is reserved: the runtime points it at the model cache "
    "mount /mnt/models/cache",
}
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_RESOURCE_NAME_RE = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_PROFILE_REF_RE = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_MODEL_KEY_RE = re.compile(r"^\S+$")


def _fail(message: str) -> PydanticCustomError:
    """A validation error whose text is exactly `message` (no "Value error, " prefix)."""
    return PydanticCustomError("nim_widget", "{reason}", {"reason": message})


def _text(value: object, *, what: str) -> str:
    """Coerce scalars a YAML or Python caller may pass for a text field; refuse the ambiguous ones."""
    if isinstance(value, bool):
        raise _fail(f'Put {what} in quotes, e.g. "{str(value).lower()}"')
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise _fail(f'Put {what} in quotes (e.g. "1.10"): a bare number loses trailing zeros')
    if not isinstance(value, str):
        raise _fail(f"{what[0].upper()}{what[1:]} must be text")
    return value


def _optional_text(value: object, *, what: str) -> str | None:
    if value is None:
        return None
    text = _text(value, what=what).strip()
    return text or None


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        frozen=True,
        extra="forbid",
    )


# --------------------------------------------------------------------------------------------- parts


class EnvVar(_Model):
    """One environment variable for the NIM container (IS `spec.predictor.model.env`)."""

    name: str
    value: str = ""

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: object) -> str:
        name = _text(value, what="the name").strip()
        if not name:
            raise _fail("Environment variable name is required")
        if not ENV_NAME_RE.match(name):
            raise _fail(MSG_ENV_NAME)
        if name in RESERVED_ENV:
            raise _fail(RESERVED_ENV[name])
        return name

    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, value: object) -> str:
        text = "" if value is None else _text(value, what="the value")
        if len(text) > ENV_VALUE_MAX_LENGTH:
            raise _fail(f"The value is too long ({len(text)} characters; at most {ENV_VALUE_MAX_LENGTH})")
        return text


def _bounded_quantity(value: str | int | float, *, what: str) -> Quantity:
    """`Quantity.parse` behind the limits Kubernetes itself has, checked before any arithmetic.

    Quantities are exact fractions, so `1e99999999` would make the parser compute a 100-million-digit
    power (minutes of CPU for one keystroke in the wizard or one line of a spec file), and a
    5000-digit number trips Python's int-conversion guard with a message about `sys`. Kubernetes
    caps every quantity at 2^63-1, so anything with a longer text or a larger exponent cannot be
    meant: both are refused here with a sentence. Callers judge the magnitude in their own words.
    """
    text = (repr(value) if isinstance(value, float) else str(value)).strip()
    shown = text if len(text) <= 24 else f"{text[:20]}..."
    if len(text) > QUANTITY_TEXT_MAX_LENGTH:
        raise _fail(f'"{shown}" is too long for {what} (at most {QUANTITY_TEXT_MAX_LENGTH} characters)')
    exponent = _EXPONENT_RE.search(text)
    if exponent is not None and int(exponent["digits"]) > QUANTITY_MAX_EXPONENT:
        raise _fail(f'"{shown}" has too large an exponent for {what} (Kubernetes quantities stop at 2^63-1)')
    return Quantity.parse(value)


def _quantity_text(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _fail("Must be a quantity such as 4, 500m or 16Gi")
    try:
        quantity = _bounded_quantity(value, what="a quantity")
    except QuantityError:
        raise _fail(f'"{value}" is not a quantity (examples: 4, 500m, 16Gi)') from None
    if quantity.value > QUANTITY_MAX:
        raise _fail(f'"{value}" is too large: Kubernetes quantities stop at 2^63-1')
    if quantity.value < 0:
        raise _fail("Must not be negative")
    return quantity.text


def _resource_name(value: str) -> str:
    if not _RESOURCE_NAME_RE.match(value):
        raise _fail(f'"{value}" is not a resource name (examples: cpu, memory, nvidia.com/gpu)')
    return value


ResourceName = Annotated[str, AfterValidator(_resource_name)]
QuantityText = Annotated[str, BeforeValidator(_quantity_text)]


class ResourceOverrides(_Model):
    """Container requests/limits for the NIM container (IS `spec.predictor.model.resources`).

    With a hardware profile they replace its defaults key by key, inside its bounds; without one
    they are the container's whole resources ("custom resources"), and empty means the cluster's
    defaults (no `resources` written at all).
    """

    requests: dict[ResourceName, QuantityText] = Field(default_factory=dict)
    limits: dict[ResourceName, QuantityText] = Field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.requests and not self.limits


@dataclass(frozen=True)
class FieldError:
    """A problem with one field of a request (a spec path such as `resources.limits.cpu`)."""

    field: str
    message: str


def is_extended_resource(name: str) -> bool:
    """GPUs and other device-plugin resources (`vendor/name`): whole numbers, requests equal limits."""
    return "/" in name and not name.startswith(("kubernetes.io/", "requests.", "hugepages-"))


def resource_problems(*, requests: Mapping[str, str], limits: Mapping[str, str]) -> list[FieldError]:
    """What Kubernetes would refuse in a container's requests/limits, said before it refuses it.

    A request above its limit; for devices (`nvidia.com/gpu`), a fraction, a request without a
    limit, or a request different from its limit (devices are never overcommitted). A limit
    without a request is fine: Kubernetes sets the request to the limit. Values must already be
    quantities (the field validators saw to that).
    """
    problems: list[FieldError] = []
    fractional: set[str] = set()
    for kind, values in (("requests", requests), ("limits", limits)):
        for resource, text in values.items():
            if is_extended_resource(resource) and Quantity.parse(text).value.denominator != 1:
                problems.append(
                    FieldError(
                        field=f"resources.{kind}.{resource}",
                        message=f"{resource} counts whole devices: use a whole number such as 1 or 2",
                    )
                )
                fractional.add(resource)
    for resource, request_text in requests.items():
        if resource in fractional:
            continue
        path = f"resources.requests.{resource}"
        limit_text = limits.get(resource)
        if limit_text is None:
            if is_extended_resource(resource):
                problems.append(
                    FieldError(
                        field=f"resources.limits.{resource}",
                        message=f"Set the {resource} limit to the request ({request_text}) as well: "
                        "Kubernetes does not overcommit accelerators",
                    )
                )
            continue
        wanted, limit = Quantity.parse(request_text), Quantity.parse(limit_text)
        if is_extended_resource(resource) and wanted != limit:
            problems.append(
                FieldError(
                    field=path,
                    message=f"The {resource} request ({request_text}) must equal its limit ({limit_text}): "
                    "Kubernetes does not overcommit accelerators",
                )
            )
        elif wanted > limit:
            problems.append(
                FieldError(
                    field=path,
                    message=f"The {resource} request ({request_text}) cannot be more than its limit "
                    f"({limit_text})",
                )
            )
    return problems


def normalise_sub_path(value: str) -> str:
    """No leading `/` (Kubernetes rejects absolute subPaths), no trailing `/`, no `..`, no `a//b`."""
    path = value.strip().strip("/")
    if not path:
        return ""
    segments = path.split("/")
    if any(segment == "" for segment in segments):
        raise _fail("Subpath must not contain empty segments (//)")
    if any(segment == ".." for segment in segments):
        raise _fail("Subpath must not contain '..'")
    return path


def _storage_size(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _fail("Size must be a quantity such as 50Gi or 1Ti")
    try:
        quantity = _bounded_quantity(value, what="a size")
    except QuantityError:
        raise _fail(
            f'"{value}" is not a size: use a number and a unit such as 50Gi or 1Ti (units are case-sensitive)'
        ) from None
    if quantity.unit == "":
        raise _fail(f"Add a unit to the size, e.g. {quantity.text}Gi")
    if quantity < GIBIBYTE:
        raise _fail("Storage size must be at least 1 GiB")
    if quantity.value >= STORAGE_SIZE_LIMIT:
        raise _fail("Storage size must be less than 8Ei, the largest quantity Kubernetes can store")
    return quantity.text


class StorageRequest(_Model):
    """The model cache: a new PVC (`pvc_name` as typed; the PVC gets its translated name) or an
    existing one (`pvc_name` is its resource name).

    `size` is what a new PVC is created with (50Gi unless given). On an update a larger size grows the
    PVC (Kubernetes cannot shrink one); on existing storage it may only be given for that purpose.
    """

    mode: Literal["new", "existing"] = "new"
    pvc_name: str | None = Field(default=None, validate_default=True)
    size: str | None = Field(default=None, validate_default=True)
    storage_class: str | None = None
    sub_path: str = ""

    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, value: object) -> object:
        if value not in ("new", "existing"):
            raise _fail('Storage mode must be "new" or "existing"')
        return value

    @field_validator("pvc_name", mode="before")
    @classmethod
    def _pvc_name(cls, value: object, info: ValidationInfo) -> str | None:
        name = _optional_text(value, what="the cluster storage name")
        mode = info.data.get("mode")
        if name is None:
            if mode == "existing":
                raise _fail("Cluster storage name is required")
            return None  # new: DeploymentRequest derives `<name>-cache`
        if mode == "existing" and not naming.is_dns_subdomain(name):
            raise _fail(
                f'"{name}" is not a PVC name: lowercase letters, numbers, "-" and ".", starting and '
                "ending with a letter or number"
            )
        if len(name) > naming.PVC_NAME_MAX_LENGTH:
            raise _fail(f"Cluster storage name cannot exceed {naming.PVC_NAME_MAX_LENGTH} characters")
        return name

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, value: object, info: ValidationInfo) -> str | None:
        if value is None or value == "":
            return DEFAULT_STORAGE_SIZE if info.data.get("mode", "new") == "new" else None
        return _storage_size(value)

    @field_validator("storage_class", mode="before")
    @classmethod
    def _storage_class(cls, value: object, info: ValidationInfo) -> str | None:
        name = _optional_text(value, what="the storage class")
        if name is None:
            return None
        if info.data.get("mode") == "existing":
            raise _fail("A storage class applies only to new storage")
        if not naming.is_dns_subdomain(name):
            raise _fail(f'"{name}" is not a storage class name')
        return name

    @field_validator("sub_path", mode="before")
    @classmethod
    def _sub_path(cls, value: object) -> str:
        return normalise_sub_path("" if value is None else _text(value, what="the subpath"))


# ------------------------------------------------------------------------------------------- request


class DeploymentRequest(_Model):
    """Everything the wizard collects for one NIM deployment (issue 3, item 3).

    `name` (the InferenceService/ServingRuntime resource name) is derived from `display_name` when
    omitted; a new PVC's name defaults to `<name>-cache`; `tag` None means the catalog's latest.
    """

    project: str
    display_name: str
    name: str = Field(default="", validate_default=True)
    model: str
    tag: str | None = None
    description: str = ""
    storage: StorageRequest = Field(default_factory=StorageRequest, validate_default=True)
    hardware_profile: str | None = None
    resources: ResourceOverrides = Field(default_factory=ResourceOverrides, validate_default=True)
    replicas: int = 1
    env: tuple[EnvVar, ...] = ()

    @field_validator("project", mode="before")
    @classmethod
    def _project(cls, value: object) -> str:
        project = _text(value, what="the project").strip()
        if not project:
            raise _fail("Project is required")
        if not naming.is_dns_label(project):
            raise _fail(
                f'"{project}" is not a project name: lowercase letters, numbers and "-", starting and '
                "ending with a letter or number, at most 63 characters"
            )
        return project

    @field_validator("display_name", mode="before")
    @classmethod
    def _display_name(cls, value: object) -> str:
        display = _text(value, what="the model deployment name").strip()
        if not display:
            raise _fail("Model deployment name is required")
        if len(display) > DISPLAY_NAME_MAX_LENGTH:
            raise _fail(f"Model deployment name cannot exceed {DISPLAY_NAME_MAX_LENGTH} characters")
        return display

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: object, info: ValidationInfo) -> str:
        given = _optional_text(value, what="the resource name")
        project = info.data.get("project")
        if given is None:
            display = info.data.get("display_name")
            if display is None:
                return ""  # the display name's own error says what is wrong
            derived = naming.derive_resource_name(display_name=display, project=project)
            problems = naming.resource_name_problems(name=derived, project=project)
            if problems:
                raise _fail(
                    f'The resource name derived from the display name ("{derived}") is invalid: '
                    + " ".join(problems)
                )
            return derived
        problems = naming.resource_name_problems(name=given, project=project)
        if problems:
            raise _fail(" ".join(problems))
        return given

    @field_validator("model", mode="before")
    @classmethod
    def _model(cls, value: object) -> str:
        key = _text(value, what="the NIM image").strip()
        if not key:
            raise _fail("NIM image is required")
        if not _MODEL_KEY_RE.match(key):
            raise _fail("NIM image must be a catalog key such as llama-3.1-8b-instruct (no spaces)")
        return key

    @field_validator("tag", mode="before")
    @classmethod
    def _tag(cls, value: object) -> str | None:
        tag = _optional_text(value, what="the tag")
        if tag is not None and not _TAG_RE.match(tag):
            raise _fail(
                "A tag is up to 128 letters, digits, '_', '.' or '-', and cannot start with '.' or '-'"
            )
        return tag

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, value: object) -> str:
        text = "" if value is None else _text(value, what="the description").strip()
        if len(text) > DESCRIPTION_MAX_LENGTH:
            raise _fail(f"Description cannot exceed {DESCRIPTION_MAX_LENGTH} characters")
        return text

    @field_validator("storage")
    @classmethod
    def _storage(cls, value: StorageRequest, info: ValidationInfo) -> StorageRequest:
        name = info.data.get("name")
        if value.mode == "new" and value.pvc_name is None and name:
            return value.model_copy(update={"pvc_name": naming.default_pvc_name(resource_name=name)})
        return value

    @field_validator("hardware_profile", mode="before")
    @classmethod
    def _hardware_profile(cls, value: object) -> str | None:
        ref = _optional_text(value, what="the hardware profile")
        if ref is not None and not _PROFILE_REF_RE.match(ref):
            raise _fail('Use a hardware profile name, or "<namespace>/<name>"')
        return ref

    @field_validator("resources")
    @classmethod
    def _resources(cls, value: ResourceOverrides, info: ValidationInfo) -> ResourceOverrides:
        """Without a hardware profile the resources are the container's whole requests/limits, so
        they are judged here; with one they are overrides on the profile's defaults, judged with
        the profile in `validate_against_facts`."""
        if "hardware_profile" not in info.data or info.data["hardware_profile"] is not None:
            return value
        problems = resource_problems(requests=value.requests, limits=value.limits)
        if problems:
            # A nested ValidationError keeps each message on its own path (resources.limits.cpu),
            # which pydantic prefixes with this field's location.
            raise ValidationError.from_exception_data(
                "ResourceOverrides",
                [
                    InitErrorDetails(
                        type=_fail(problem.message),
                        loc=tuple(problem.field.split(".", 2)[1:]),  # ("limits", "nvidia.com/gpu")
                        input=value,
                    )
                    for problem in problems
                ],
            )
        return value

    @field_validator("replicas", mode="before")
    @classmethod
    def _replicas(cls, value: object) -> int:
        message = f"Replicas must be a whole number from 1 to {MAX_REPLICAS}"
        if isinstance(value, bool):
            raise _fail(message)
        if isinstance(value, str) and re.fullmatch(r"\s*\d{1,9}\s*", value):  # longer is never 1-99
            value = int(value)
        if not isinstance(value, int) or not 1 <= value <= MAX_REPLICAS:
            raise _fail(message)
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, value: tuple[EnvVar, ...]) -> tuple[EnvVar, ...]:
        seen: set[str] = set()
        for item in value:
            if item.name in seen:
                raise _fail(f'Environment variable "{item.name}" is set more than once')
            seen.add(item.name)
        return value

    # ------------------------------------------------------------------------------ derived values

    @property
    def pvc_resource_name(self) -> str:
        """The PVC's Kubernetes name: a new PVC's typed name translated (B.1), an existing one as is."""
        typed = self.storage.pvc_name or naming.default_pvc_name(resource_name=self.name)
        if self.storage.mode == "existing":
            return typed
        return naming.pvc_resource_name(typed_name=typed)

    @property
    def pvc_display_name(self) -> str:
        return self.storage.pvc_name or naming.default_pvc_name(resource_name=self.name)


# ------------------------------------------------------------------------------------------- errors

_ALLOWED_KEYS: dict[str, type[_Model]] = {
    "": DeploymentRequest,
    "storage": StorageRequest,
    "resources": ResourceOverrides,
    "env": EnvVar,
}
_REQUIRED_MESSAGES = {
    "project": "Project is required",
    "displayName": "Model deployment name is required",
    "model": "NIM image is required",
}


_CHILD_MODELS: dict[type[_Model], dict[str, type[_Model]]] = {
    DeploymentRequest: {"storage": StorageRequest, "resources": ResourceOverrides, "env": EnvVar},
}


def field_path(loc: tuple[int | str, ...]) -> str:
    """`("env", 1, "name")` -> `env[1].name`, always with the spec's camelCase keys (pydantic reports
    a validated default by its Python name); dict keys stay dotted (`resources.requests.cpu`)."""
    path = ""
    model: type[_Model] | None = DeploymentRequest
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            continue
        if part == "[key]":
            continue
        key = part
        if model is not None:
            by_alias = {info.alias or name: name for name, info in model.model_fields.items()}
            name = by_alias.get(part, part)
            info = model.model_fields.get(name)
            key = (info.alias or name) if info is not None else part
            model = _CHILD_MODELS.get(model, {}).get(name)
        path += f".{key}" if path else key
    return path


def _allowed_keys(parent: tuple[int | str, ...]) -> list[str]:
    names = [p for p in parent if isinstance(p, str)]
    model = _ALLOWED_KEYS.get(names[-1] if names else "")
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    if kind == "nim_widget":
        return str(error["ctx"]["reason"])
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_keys(loc[:-1])
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        return f'Unknown key "{key}"{hint}. Allowed keys: {", ".join(allowed)}'
    if kind == "missing":
        path = field_path(loc)
        if path in _REQUIRED_MESSAGES:
            return _REQUIRED_MESSAGES[path]
        if loc and loc[-1] == "name" and "env" in loc:
            return "Environment variable name is required"
        return "This field is required"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "Must be a mapping of keys to values"
    if kind in ("tuple_type", "list_type"):
        return "Must be a list"
    if kind == "string_type":
        return "Must be text"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return str(error["msg"])


def errors_by_field(exc: ValidationError) -> dict[str, str]:
    """A pydantic ValidationError as `{field path: message}` (several messages joined with "; ")."""
    result: dict[str, str] = {}
    for error in exc.errors():
        loc = tuple(error["loc"])
        path = field_path(loc)
        if error["type"] == "extra_forbidden":  # the unknown key exactly as written
            parent = field_path(loc[:-1])
            path = f"{parent}.{loc[-1]}" if parent else str(loc[-1])
        message = _message(error)
        result[path] = f"{result[path]}; {message}" if path in result else message
    return result


def field_errors_to_dict(errors: list[FieldError]) -> dict[str, str]:
    result: dict[str, str] = {}
    for error in errors:
        previous = result.get(error.field)
        result[error.field] = f"{previous}; {error.message}" if previous else error.message
    return result


# ---------------------------------------------------------------------------------------- spec file


class SpecError(ValueError):
    """A spec file that cannot become a DeploymentRequest; `errors` maps field paths to messages
    (`""` for the file as a whole)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        lines = [f"{path or 'spec'}: {message}" for path, message in self.errors.items()]
        super().__init__("\n".join(lines))


class _SpecLoader(yaml.SafeLoader):
    """YAML 1.1 without its surprises: every plain scalar is text except `null`/`~`.

    `tag: 1.10` stays "1.10" (not the float 1.1), `value: yes` stays "yes", `010` stays "010";
    the request's own validators turn text into numbers where a number is meant (`replicas`).
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise yaml.constructor.ConstructorError(
                    None, None, f"keys must be text, found {key!r}", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f'the key "{key}" appears more than once', key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _flow_depth(text: str, *, limit: int) -> int:
    """How deep `[` and `{` nest, counted on the raw text and stopping once past `limit`.

    PyYAML's pure-Python scanner keeps a possible simple key per open flow collection and revisits
    all of them for every token, so `[[[[...` 50,000 deep takes minutes to scan before its composer
    (which recurses) would fail. Quotes and comments are deliberately not parsed: brackets inside
    them only make the count larger, which can refuse an absurd file but never let a deep one through.
    """
    if text.count("[") + text.count("{") <= limit:
        return 0
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        elif char in "]}" and depth:
            depth -= 1
    return deepest


def _parse_yaml(text: str) -> object:
    if _flow_depth(text, limit=SPEC_MAX_NESTING) > SPEC_MAX_NESTING:
        raise SpecError(
            {"": f"The spec file is nested too deeply (more than {SPEC_MAX_NESTING} levels of [ or {{)"}
        )
    try:
        for event in yaml.parse(text, Loader=_SpecLoader):
            if isinstance(event, yaml.AliasEvent):
                raise SpecError({"": "YAML anchors and aliases (&a, *a) are not supported in spec files"})
        return yaml.load(text, Loader=_SpecLoader)  # _SpecLoader is a SafeLoader
    except yaml.composer.ComposerError as exc:
        if "expected a single document" in str(exc):
            raise SpecError({"": "The spec file must contain exactly one YAML document"}) from None
        raise SpecError({"": f"The spec file is not valid YAML: {_yaml_problem(exc)}"}) from None
    except yaml.YAMLError as exc:
        raise SpecError({"": f"The spec file is not valid YAML: {_yaml_problem(exc)}"}) from None
    except RecursionError:  # PyYAML composes recursively: block mappings ~1000 deep exhaust the stack
        raise SpecError({"": "The spec file is nested too deeply to be a deployment spec"}) from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(problem)


def load_spec(*, text: str | bytes) -> DeploymentRequest:
    """A DeploymentRequest from spec-file text; raises SpecError naming every problem."""
    if len(text) > SPEC_MAX_BYTES or (isinstance(text, str) and len(text.encode("utf-8")) > SPEC_MAX_BYTES):
        raise SpecError({"": f"The spec file is larger than {SPEC_MAX_BYTES // (1024 * 1024)} MiB"})
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise SpecError({"": "The spec file is not UTF-8 text"}) from None
    data = _parse_yaml(text)
    if data is None:
        raise SpecError({"": "The spec file is empty"})
    if not isinstance(data, dict):
        found = "a list" if isinstance(data, list) else "a single value"
        raise SpecError(
            {"": f"The spec file must be a mapping of keys (project, displayName, model, ...), not {found}"}
        )
    try:
        return DeploymentRequest.model_validate(data, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise SpecError(errors_by_field(exc)) from None


def load_spec_file(*, path: str | Path) -> DeploymentRequest:
    """Read and load a spec file, refusing files over the size limit before reading them whole."""
    try:
        with open(path, "rb") as handle:
            content = handle.read(SPEC_MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError({"": f"Cannot read the spec file {path}: {exc.strerror or exc}"}) from None
    return load_spec(text=content)


def spec_dict(*, request: DeploymentRequest) -> dict[str, Any]:
    """The request as spec-file data: camelCase keys in a fixed order, unset optional keys left out."""
    storage: dict[str, Any] = {"mode": request.storage.mode}
    if request.storage.pvc_name is not None:
        storage["pvcName"] = request.storage.pvc_name
    if request.storage.size is not None:
        storage["size"] = request.storage.size
    if request.storage.storage_class is not None:
        storage["storageClass"] = request.storage.storage_class
    if request.storage.sub_path:
        storage["subPath"] = request.storage.sub_path
    data: dict[str, Any] = {
        "project": request.project,
        "displayName": request.display_name,
        "name": request.name,
        "model": request.model,
    }
    if request.tag is not None:
        data["tag"] = request.tag
    if request.description:
        data["description"] = request.description
    data["storage"] = storage
    if request.hardware_profile is not None:
        data["hardwareProfile"] = request.hardware_profile
    resources = {
        k: dict(v)
        for k, v in (("requests", request.resources.requests), ("limits", request.resources.limits))
        if v
    }
    if resources:
        data["resources"] = resources
    data["replicas"] = request.replicas
    if request.env:
        data["env"] = [{"name": e.name, "value": e.value} for e in request.env]
    return data


def dump_spec(*, request: DeploymentRequest) -> str:
    """The spec file for a request (the widget's Export spec, `nim-widget export`); loads back equal."""
    return yaml.safe_dump(spec_dict(request=request), sort_keys=False, allow_unicode=True, width=1000)


# --------------------------------------------------------------------------------- against the cluster


def _suggest(value: str, options: list[str]) -> str:
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _check_profile(
    request: DeploymentRequest, facts: ClusterFacts, add: Callable[[str, str], None]
) -> HardwareProfile | None:
    ref = request.hardware_profile
    if ref is None:
        return None
    profile = facts.find_hardware_profile(ref)
    if profile is None:
        selectable = facts.selectable_hardware_profiles
        options = [p.ref for p in selectable] if "/" in ref else [p.name for p in selectable]
        add(
            "hardwareProfile",
            f'Hardware profile "{ref}" was not found in project {facts.project} or among '
            f"the global profiles{_suggest(ref, options)}",
        )
        return None
    if not profile.enabled:
        add("hardwareProfile", f'Hardware profile "{profile.display_name}" ({profile.ref}) is disabled')
        return None
    if not profile.visible_for_model_serving:
        add(
            "hardwareProfile",
            f'Hardware profile "{profile.display_name}" ({profile.ref}) is not available for model serving',
        )
        return None
    return profile


def _check_resources(
    request: DeploymentRequest, profile: HardwareProfile, add: Callable[[str, str], None]
) -> None:
    offered = ", ".join(i.identifier for i in profile.identifiers) or "nothing"
    bad = False
    for kind, overrides in (("requests", request.resources.requests), ("limits", request.resources.limits)):
        for resource, text in overrides.items():
            identifier = profile.identifier(resource)
            path = f"resources.{kind}.{resource}"
            if identifier is None:
                add(
                    path,
                    f'Hardware profile "{profile.display_name}" has no resource "{resource}" '
                    f"(it sets: {offered})",
                )
                bad = True
            elif not identifier.allows(Quantity.parse(text)):
                add(
                    path,
                    f"{identifier.display_name} must be {identifier.bounds_text()} "
                    f'(hardware profile "{profile.display_name}")',
                )
                bad = True
    if bad:
        return
    effective = profile.resources(requests=request.resources.requests, limits=request.resources.limits)
    for problem in resource_problems(requests=effective["requests"], limits=effective["limits"]):
        add(problem.field, problem.message)


def _check_storage(
    request: DeploymentRequest, facts: ClusterFacts, update: bool, add: Callable[[str, str], None]
) -> None:
    storage = request.storage
    name = request.pvc_resource_name
    pvc = facts.pvc(name)
    if storage.mode == "existing" and pvc is None:
        add("storage.pvcName", f'Cluster storage "{name}" was not found in project {facts.project}')
        return
    if storage.mode == "new" and pvc is not None and not update:
        add(
            "storage.pvcName",
            f'Cluster storage "{name}" already exists in project {facts.project}. '
            "Choose existing storage to reuse it, or another name.",
        )
        return
    if pvc is not None:
        if storage.size is None:
            return
        if storage.mode == "existing" and not update:
            add(
                "storage.size",
                "Storage size is only used for new storage, or to grow the storage of a "
                "deployment you update",
            )
            return
        wanted = Quantity.parse(storage.size)
        if pvc.size is not None and wanted < pvc.size:
            # In mode new the size is what to create with (50Gi unless given); re-running that spec as an
            # update must not fail because the PVC has grown since. An explicit size on existing storage
            # is a request to resize, and shrinking is impossible.
            if storage.mode == "existing":
                add("storage.size", f'Storage can only grow: "{name}" is {pvc.size} now')
        elif pvc.size is not None and wanted > pvc.size:
            storage_class = facts.storage_class(pvc.storage_class or "")
            if storage_class is not None and not storage_class.allows_expansion:
                add(
                    "storage.size",
                    f'Storage class "{storage_class.name}" does not allow resizing volumes, '
                    f'so "{name}" cannot grow',
                )
        return
    # A PVC to create.
    if storage.storage_class is not None:
        if facts.storage_class(storage.storage_class) is None:
            names = [c.name for c in facts.storage_classes]
            add(
                "storage.storageClass",
                f'Storage class "{storage.storage_class}" was not found'
                f"{_suggest(storage.storage_class, names)}",
            )
    elif facts.default_storage_class is None:
        add(
            "storage.storageClass",
            "Storage class is required for new storage (the cluster has no default storage class)",
        )


def _check_secrets(facts: ClusterFacts, add: Callable[[str, str], None]) -> None:
    if facts.template is None:
        return
    for secret in facts.template.api_key_secret_names():
        if secret not in facts.existing_secrets and facts.api_key is None:
            add(
                "account",
                f'The project has no secret "{secret}" and the NIM account\'s API key could '
                "not be read to create it",
            )
    for secret in facts.template.pull_secret_names():
        if secret not in facts.existing_secrets and facts.docker_config_json is None:
            add(
                "account",
                f'The project has no image pull secret "{secret}" and the NIM account\'s pull '
                "secret could not be read to create it",
            )


def validate_against_facts(
    *, request: DeploymentRequest, facts: ClusterFacts, update: bool = False
) -> list[FieldError]:
    """Everything about the request that only the cluster can judge, as field errors.

    Non-field problems use the pseudo-fields `account` (NIM account state, secrets it must provide)
    and `template` (the runtime Template). `update` says the deployment is meant to exist already.
    """
    errors: list[FieldError] = []

    def add(field: str, message: str) -> None:
        errors.append(FieldError(field=field, message=message))

    if request.project != facts.project:
        add("project", f"The cluster facts are for project {facts.project}, not {request.project}")
        return errors
    if not facts.project_exists:
        add("project", f'Project "{request.project}" was not found, or you cannot see it')
        return errors
    account = facts.account
    if account is None:
        add("account", ACCOUNT_NOT_FOUND_MESSAGE)
    elif account.state == "error":
        add("account", f"{account.title}: {' '.join(account.messages)}")
    elif account.state != "ready":
        add("account", f"The NVIDIA NIM account is not ready yet. {' '.join(account.messages)}")
    if account is not None and facts.template is None:
        add(
            "template",
            facts.template_problem
            or f"Unable to find NIM ServingRuntime Template in namespace {account.namespace}",
        )
    if account is not None:
        model = facts.model(request.model)
        if not facts.models:
            add("model", "No NVIDIA NIM models found. Please check the installation.")
        elif model is None:
            add(
                "model",
                f'NIM image "{request.model}" is not in the NIM catalog'
                f"{_suggest(request.model, [m.key for m in facts.models])}",
            )
        elif request.tag is not None and request.tag not in model.tags:
            shown = ", ".join(model.tags[:8]) + (", ..." if len(model.tags) > 8 else "")
            add("tag", f'Tag "{request.tag}" is not available for {model.display_name} (available: {shown})')
    existing_is = facts.existing_object(kind="InferenceService", name=request.name)
    if not update and existing_is is not None:
        add(
            "name",
            f'A model deployment with the name "{request.display_name}" already exists. '
            "Please choose a different model deployment name.",
        )
    elif not update and facts.existing_object(kind="ServingRuntime", name=request.name) is not None:
        add(
            "name",
            f'A serving runtime with the name "{request.name}" already exists. '
            "Please choose a different model deployment name.",
        )
    elif update and existing_is is None:
        add(
            "name",
            f'There is no model deployment named "{request.name}" in project {facts.project} to update',
        )
    profile = _check_profile(request, facts, add)
    if profile is not None:
        _check_resources(request, profile, add)
    _check_storage(request, facts, update, add)
    _check_secrets(facts, add)
    return errors
