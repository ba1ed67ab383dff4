"""Pure parsers from Kubernetes objects (plain JSON dicts) to the facts in `nim_widget.facts`.

Discovery fetches; this module decides what the objects mean, with the dashboard's rules (reference
A.1-A.4, B.4, B.6, D.2), so the rules are testable without a cluster and the same for every caller.
Nothing here raises on a malformed catalog entry or profile: such things are skipped and reported
(`SkippedEntry`), because one bad entry must not make the whole catalog unusable.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from nim_widget.facts import (
    ACCOUNT_ERROR_FALLBACK,
    ACCOUNT_PENDING_MESSAGES,
    ACCOUNT_READY_MESSAGE,
    ACCOUNT_TIMEOUT_MESSAGE,
    AccountState,
    ClusterFacts,
    HardwareIdentifier,
    HardwareProfile,
    NimAccount,
    NimModel,
    PvcInfo,
    RuntimeTemplate,
    SecretValue,
    SkippedEntry,
    StorageClassInfo,
)
from nim_widget.quantity import Quantity, QuantityError

ACCOUNT_NAME = "odh-nim-account"
ACCOUNT_PENDING_TIMEOUT_SECONDS = 300.0
MODEL_SERVING_VISIBILITY = "model-serving"
NIM_PVC_ANNOTATION = "dashboard.opendatahub.io/nim-pvc"
NIM_SUBPATH_ANNOTATION = "dashboard.opendatahub.io/nim-subpath"
KSERVE_CONTAINER = "kserve-container"
API_PROTOCOL_ANNOTATION = "opendatahub.io/apiProtocol"

_Obj = Mapping[str, Any]


class TemplateProblem(ValueError):
    """The account's runtime Template is missing or is not a usable NIM ServingRuntime (E.2)."""


def template_missing_message(*, namespace: str) -> str:
    return f"Unable to find NIM ServingRuntime Template in namespace {namespace}"


def _metadata(obj: _Obj) -> Mapping[str, Any]:
    value = obj.get("metadata")
    return value if isinstance(value, Mapping) else {}


def _annotations(obj: _Obj) -> Mapping[str, Any]:
    value = _metadata(obj).get("annotations")
    return value if isinstance(value, Mapping) else {}


def _labels(obj: _Obj) -> Mapping[str, Any]:
    value = _metadata(obj).get("labels")
    return value if isinstance(value, Mapping) else {}


def parse_timestamp(value: object) -> datetime | None:
    """RFC 3339 as the API server writes it (`2026-08-21T10:01:12Z`); None when absent or odd."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------- catalog

_VERSION_RE = re.compile(r"^v?(\d+(?:\.\d+)*)(.*)$")


def order_tags(*, tags: Iterable[str], latest_tag: str | None) -> tuple[str, ...]:
    """Tags latest first: the catalog's `latestTag`, then versions newest first, then the rest.

    Tags are kept exactly as NGC has them: `1.2` stays `1.2` (the dashboard pads it to `1.2.0`,
    an image tag that may not exist, D.1). A moving tag sorts right after its most specific
    sibling (`1.2.2`, `1.2`, `1.1.2`, ...); non-version tags such as `latest` come last.
    """
    unique: list[str] = []
    for tag in tags:
        if tag and tag not in unique:
            unique.append(tag)

    def version_key(tag: str) -> tuple[tuple[int, ...], int, str]:
        match = _VERSION_RE.match(tag)
        assert match is not None
        numbers = tuple(int(part) for part in match[1].split("."))
        return numbers, 1 if match[2] == "" else 0, match[2]

    versions = sorted((t for t in unique if _VERSION_RE.match(t)), key=version_key, reverse=True)
    others = sorted(t for t in unique if not _VERSION_RE.match(t))
    ordered = versions + others
    if latest_tag:
        ordered = [latest_tag] + [t for t in ordered if t != latest_tag]
    return tuple(ordered)


def parse_catalog_entry(*, key: str, value: object) -> NimModel:
    """One ConfigMap entry (A.4); raises ValueError with the reason the wizard would skip it."""
    if not isinstance(value, str):
        raise ValueError("the value is not a JSON string")
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the value is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(data, dict):
        raise ValueError("the value is not a JSON object")
    namespace = data.get("namespace")
    if not isinstance(namespace, str) or not namespace.strip("/"):
        raise ValueError('"namespace" is missing or not a string')
    raw_tags = data.get("tags")
    if not isinstance(raw_tags, list):
        raise ValueError('"tags" is missing or not a list')
    latest = data.get("latestTag")
    latest_tag = latest if isinstance(latest, str) and latest else None
    tags = order_tags(tags=(t for t in raw_tags if isinstance(t, str)), latest_tag=latest_tag)
    if not tags:
        raise ValueError("the model has no tags")
    name = data.get("name")
    name = name if isinstance(name, str) and name else key
    display = data.get("displayName")
    description = data.get("shortDescription")
    updated = data.get("updatedDate")
    return NimModel(
        key=key,
        name=name,
        display_name=display if isinstance(display, str) and display else name,
        short_description=description if isinstance(description, str) else "",
        namespace=namespace.strip("/"),
        tags=tags,
        latest_tag=latest_tag,
        updated_date=updated if isinstance(updated, str) else None,
    )


def parse_catalog(*, configmap: _Obj | None) -> tuple[tuple[NimModel, ...], tuple[SkippedEntry, ...]]:
    """The model catalog from the account's ConfigMap: models sorted by key, and skipped entries."""
    if configmap is None:
        return (), ()
    data = configmap.get("data")
    if not isinstance(data, Mapping):
        return (), ()
    models: list[NimModel] = []
    skipped: list[SkippedEntry] = []
    for key in sorted(data):
        try:
            models.append(parse_catalog_entry(key=str(key), value=data[key]))
        except ValueError as exc:
            skipped.append(SkippedEntry(key=f"catalog/{key}", reason=str(exc)))
    return tuple(models), tuple(skipped)


# --------------------------------------------------------------------------------------------- account


def _conditions(account: _Obj) -> list[Mapping[str, Any]]:
    status = account.get("status")
    if not isinstance(status, Mapping):
        return []
    conditions = status.get("conditions")
    if not isinstance(conditions, list):
        return []
    return [c for c in conditions if isinstance(c, Mapping)]


def derive_account_state(*, account: _Obj | None, now: datetime) -> tuple[AccountState, tuple[str, ...]]:
    """The per-project account status exactly as the wizard derives it (A.1 `deriveAccountStatus`).

    Ready when `AccountStatus` is True; error when `APIKeyValidation` is False or any other condition
    is False with a message (messages of all False conditions, de-duplicated); otherwise pending, which
    turns into an error after five minutes without an account check.
    """
    if account is None:
        return "not_found", ()
    conditions = _conditions(account)
    by_type = {str(c.get("type")): c for c in conditions}
    if str((by_type.get("AccountStatus") or {}).get("status")) == "True":
        return "ready", (ACCOUNT_READY_MESSAGE,)
    false_conditions = [c for c in conditions if str(c.get("status")) == "False"]
    messages: list[str] = []
    for condition in false_conditions:
        message = condition.get("message")
        if isinstance(message, str) and message and message not in messages:
            messages.append(message)
    api_key_failed = str((by_type.get("APIKeyValidation") or {}).get("status")) == "False"
    if api_key_failed or messages:
        return "error", tuple(messages) or (ACCOUNT_ERROR_FALLBACK,)
    status = account.get("status")
    last_check = status.get("lastAccountCheck") if isinstance(status, Mapping) else None
    since = parse_timestamp(last_check) or parse_timestamp(_metadata(account).get("creationTimestamp"))
    if since is not None and (now - since).total_seconds() > ACCOUNT_PENDING_TIMEOUT_SECONDS:
        return "error", (ACCOUNT_TIMEOUT_MESSAGE,)
    return "pending", ACCOUNT_PENDING_MESSAGES


def _status_ref_name(account: _Obj, field: str) -> str | None:
    status = account.get("status")
    if not isinstance(status, Mapping):
        return None
    ref = status.get(field)
    if isinstance(ref, Mapping) and isinstance(ref.get("name"), str) and ref["name"]:
        return str(ref["name"])
    return None


def parse_account(*, account: _Obj, now: datetime) -> NimAccount:
    metadata = _metadata(account)
    spec = account.get("spec")
    key_ref = spec.get("apiKeySecret") if isinstance(spec, Mapping) else None
    key_name = key_ref.get("name") if isinstance(key_ref, Mapping) else None
    state, messages = derive_account_state(account=account, now=now)
    return NimAccount(
        name=str(metadata.get("name", "")),
        namespace=str(metadata.get("namespace", "")),
        state=state,
        messages=messages,
        template_name=_status_ref_name(account, "runtimeTemplate"),
        config_name=_status_ref_name(account, "nimConfig"),
        pull_secret_name=_status_ref_name(account, "nimPullSecret"),
        api_key_secret_name=key_name if isinstance(key_name, str) and key_name else None,
        raw=copy.deepcopy(dict(account)),
    )


# -------------------------------------------------------------------------------------------- template


def parse_template(*, template: _Obj | None, namespace: str) -> RuntimeTemplate:
    """The Template turned into a ServingRuntime the way the wizard does it (A.3).

    Besides the dashboard's checks (`objects[0]` is a ServingRuntime with containers and supported
    formats) we require the `kserve-container` the NIM wiring targets, so a broken template is
    reported up front instead of producing a runtime without an image.
    """
    missing = template_missing_message(namespace=namespace)
    if template is None:
        raise TemplateProblem(missing)
    objects = template.get("objects")
    if not isinstance(objects, list) or not objects or not isinstance(objects[0], Mapping):
        raise TemplateProblem(f"{missing} (the Template has no objects)")
    runtime = copy.deepcopy(dict(objects[0]))
    spec = runtime.get("spec")
    if runtime.get("kind") != "ServingRuntime" or not isinstance(spec, Mapping):
        raise TemplateProblem(f"{missing} (its first object is not a ServingRuntime)")
    containers = spec.get("containers")
    if not isinstance(containers, list) or not spec.get("supportedModelFormats"):
        raise TemplateProblem(f"{missing} (the ServingRuntime lacks containers or supportedModelFormats)")
    if not any(isinstance(c, Mapping) and c.get("name") == KSERVE_CONTAINER for c in containers):
        raise TemplateProblem(f"{missing} (the ServingRuntime has no {KSERVE_CONTAINER})")
    metadata = runtime.get("metadata")
    protocol = _annotations(template).get(API_PROTOCOL_ANNOTATION)
    if isinstance(metadata, dict) and isinstance(metadata.get("annotations"), dict) and protocol is not None:
        metadata["annotations"][API_PROTOCOL_ANNOTATION] = protocol
    template_metadata = _metadata(template)
    return RuntimeTemplate(
        name=str(template_metadata.get("name", "")),
        namespace=str(template_metadata.get("namespace", namespace)),
        serving_runtime=runtime,
        raw=copy.deepcopy(dict(template)),
    )


# ---------------------------------------------------------------------------------- hardware profiles


def _visible_for_model_serving(annotations: Mapping[str, Any]) -> bool:
    raw = annotations.get("opendatahub.io/dashboard-feature-visibility")
    if raw is None or raw == "":
        return True
    try:
        areas = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return True  # unreadable: treat like absent rather than hide a profile an admin meant to show
    if not isinstance(areas, list) or not areas:
        return True
    return MODEL_SERVING_VISIBILITY in areas


def _parse_identifier(raw: object, index: int) -> HardwareIdentifier:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("identifier"), str) or not raw["identifier"]:
        raise ValueError(f"identifier {index + 1} has no resource name")
    name = str(raw["identifier"])
    try:
        minimum = Quantity.parse(raw.get("minCount"))
        default = Quantity.parse(raw.get("defaultCount"))
        maximum = None if raw.get("maxCount") is None else Quantity.parse(raw.get("maxCount"))
    except QuantityError as exc:
        raise ValueError(f"identifier {name}: {exc}") from None
    display = raw.get("displayName")
    resource_type = raw.get("resourceType")
    return HardwareIdentifier(
        identifier=name,
        display_name=display if isinstance(display, str) and display else name,
        resource_type=resource_type if isinstance(resource_type, str) else None,
        min_count=minimum,
        max_count=maximum,
        default_count=default,
    )


def parse_hardware_profile(*, obj: _Obj) -> HardwareProfile:
    """One HardwareProfile; raises ValueError when it cannot be applied (bad identifiers)."""
    metadata = _metadata(obj)
    annotations = _annotations(obj)
    spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    raw_identifiers = spec.get("identifiers") or []
    if not isinstance(raw_identifiers, list):
        raise ValueError("spec.identifiers is not a list")
    identifiers = tuple(_parse_identifier(item, i) for i, item in enumerate(raw_identifiers))
    scheduling = spec.get("scheduling") if isinstance(spec.get("scheduling"), Mapping) else {}
    assert isinstance(scheduling, Mapping)
    node = scheduling.get("node") if isinstance(scheduling.get("node"), Mapping) else {}
    kueue = scheduling.get("kueue") if isinstance(scheduling.get("kueue"), Mapping) else {}
    assert isinstance(node, Mapping) and isinstance(kueue, Mapping)
    node_selector = node.get("nodeSelector") or {}
    tolerations = node.get("tolerations") or []
    if not isinstance(node_selector, Mapping) or not isinstance(tolerations, list):
        raise ValueError("spec.scheduling.node has a malformed nodeSelector or tolerations")
    name = str(metadata.get("name", ""))
    display = annotations.get("opendatahub.io/display-name")
    description = annotations.get("opendatahub.io/description")
    queue = kueue.get("localQueueName")
    return HardwareProfile(
        name=name,
        namespace=str(metadata.get("namespace", "")),
        display_name=display if isinstance(display, str) and display else name,
        description=description if isinstance(description, str) else "",
        identifiers=identifiers,
        node_selector={str(k): str(v) for k, v in node_selector.items()},
        tolerations=tuple(copy.deepcopy(dict(t)) for t in tolerations if isinstance(t, Mapping)),
        resource_version=str(metadata.get("resourceVersion") or ""),
        enabled=str(annotations.get("opendatahub.io/disabled", "")).lower() != "true",
        visible_for_model_serving=_visible_for_model_serving(annotations),
        scheduling_type=str(scheduling["type"]) if scheduling.get("type") else None,
        local_queue_name=queue if isinstance(queue, str) and queue else None,
        raw=copy.deepcopy(dict(obj)),
    )


def parse_hardware_profiles(
    *, objs: Iterable[_Obj]
) -> tuple[tuple[HardwareProfile, ...], tuple[SkippedEntry, ...]]:
    """All profiles (disabled and hidden ones included, so validation can say why one is unusable),
    sorted by namespace and name; malformed ones skipped with a reason."""
    profiles: list[HardwareProfile] = []
    skipped: list[SkippedEntry] = []
    for obj in objs:
        metadata = _metadata(obj)
        ref = f"{metadata.get('namespace', '')}/{metadata.get('name', '')}"
        try:
            profiles.append(parse_hardware_profile(obj=obj))
        except ValueError as exc:
            skipped.append(SkippedEntry(key=f"hardwareprofile/{ref}", reason=str(exc)))
    profiles.sort(key=lambda p: (p.namespace, p.name))
    return tuple(profiles), tuple(skipped)


# ------------------------------------------------------------------------------------------- storage

_DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def _admin_default(annotations: Mapping[str, Any]) -> bool:
    raw = annotations.get("opendatahub.io/sc-config")
    if not isinstance(raw, str):
        return False
    try:
        config = json.loads(raw)
    except json.JSONDecodeError:
        return False
    return isinstance(config, dict) and config.get("isDefault") is True and config.get("isEnabled") is True


def parse_storage_classes(*, objs: Iterable[_Obj]) -> tuple[tuple[StorageClassInfo, ...], str | None]:
    """Storage classes by name and the default the wizard preselects: the OpenShift AI admin default
    (`opendatahub.io/sc-config` enabled + default), else the cluster default annotation."""
    infos: list[StorageClassInfo] = []
    admin_default: str | None = None
    cluster_default: str | None = None
    for obj in sorted(objs, key=lambda o: str(_metadata(o).get("name", ""))):
        annotations = _annotations(obj)
        name = str(_metadata(obj).get("name", ""))
        is_cluster_default = any(
            str(annotations.get(a, "")).lower() == "true" for a in _DEFAULT_CLASS_ANNOTATIONS
        )
        if _admin_default(annotations) and admin_default is None:
            admin_default = name
        if is_cluster_default and cluster_default is None:
            cluster_default = name
        display = annotations.get("openshift.io/display-name")
        infos.append(
            StorageClassInfo(
                name=name,
                display_name=display if isinstance(display, str) and display else name,
                is_default=False,
                provisioner=str(obj.get("provisioner", "")),
                allows_expansion=obj.get("allowVolumeExpansion") is True,
            )
        )
    default = admin_default or cluster_default
    marked = tuple(
        StorageClassInfo(
            name=i.name,
            display_name=i.display_name,
            is_default=i.name == default,
            provisioner=i.provisioner,
            allows_expansion=i.allows_expansion,
        )
        for i in infos
    )
    return marked, default


def _claims(runtime: _Obj) -> set[str]:
    spec = runtime.get("spec")
    volumes = spec.get("volumes") if isinstance(spec, Mapping) else None
    names: set[str] = set()
    for volume in volumes if isinstance(volumes, list) else []:
        claim = volume.get("persistentVolumeClaim") if isinstance(volume, Mapping) else None
        if isinstance(claim, Mapping) and isinstance(claim.get("claimName"), str):
            names.add(str(claim["claimName"]))
    return names


def parse_pvc(*, pvc: _Obj, used_by: Sequence[str] = ()) -> PvcInfo:
    metadata = _metadata(pvc)
    annotations = _annotations(pvc)
    spec = pvc.get("spec") if isinstance(pvc.get("spec"), Mapping) else {}
    status = pvc.get("status") if isinstance(pvc.get("status"), Mapping) else {}
    assert isinstance(spec, Mapping) and isinstance(status, Mapping)
    requests = (spec.get("resources") or {}).get("requests") or {}
    try:
        size: Quantity | None = Quantity.parse(requests.get("storage"))
    except QuantityError:
        size = None
    name = str(metadata.get("name", ""))
    display = annotations.get("openshift.io/display-name")
    sub_path = annotations.get(NIM_SUBPATH_ANNOTATION)
    storage_class = spec.get("storageClassName")
    phase = status.get("phase")
    modes = spec.get("accessModes")
    return PvcInfo(
        name=name,
        display_name=display if isinstance(display, str) and display else name,
        size=size,
        storage_class=storage_class if isinstance(storage_class, str) else None,
        phase=phase if isinstance(phase, str) else None,
        access_modes=tuple(str(m) for m in modes) if isinstance(modes, list) else (),
        is_nim_cache=str(annotations.get(NIM_PVC_ANNOTATION, "")).lower() == "true",
        sub_path=sub_path if isinstance(sub_path, str) and sub_path else None,
        created=parse_timestamp(metadata.get("creationTimestamp")),
        used_by=tuple(sorted(used_by)),
        raw=copy.deepcopy(dict(pvc)),
    )


def parse_pvcs(*, pvcs: Iterable[_Obj], serving_runtimes: Iterable[_Obj] = ()) -> tuple[PvcInfo, ...]:
    """The project's PVCs, NIM cache PVCs first (as the wizard lists them, D.2), then by name;
    `used_by` names the ServingRuntimes that mount each one."""
    claims = {str(_metadata(r).get("name", "")): _claims(r) for r in serving_runtimes}
    infos = []
    for pvc in pvcs:
        name = str(_metadata(pvc).get("name", ""))
        infos.append(parse_pvc(pvc=pvc, used_by=[rt for rt, names in claims.items() if name in names]))
    infos.sort(key=lambda p: (not p.is_nim_cache, p.name))
    return tuple(infos)


# ------------------------------------------------------------------------------------------- secrets


def read_secret_value(*, secret: _Obj | None, keys: Sequence[str]) -> SecretValue | None:
    """The first present `data` entry among `keys`, still base64-encoded (copied as-is, B.5)."""
    if secret is None:
        return None
    data = secret.get("data")
    if not isinstance(data, Mapping):
        return None
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value:
            return SecretValue(value)
    return None


# --------------------------------------------------------------------------------------------- facts


def facts_from_objects(
    *,
    project: str,
    now: datetime,
    account: _Obj | None,
    template: _Obj | None = None,
    catalog: _Obj | None = None,
    api_key_secret: _Obj | None = None,
    pull_secret: _Obj | None = None,
    hardware_profiles: Iterable[_Obj] = (),
    storage_classes: Iterable[_Obj] = (),
    pvcs: Iterable[_Obj] = (),
    serving_runtimes: Iterable[_Obj] = (),
    inference_services: Iterable[_Obj] = (),
    secret_names: Iterable[str] = (),
    project_exists: bool = True,
) -> ClusterFacts:
    """Build `ClusterFacts` from the raw objects discovery read: the one place the parsers meet.

    `account`: the Account chosen (per-project first, else cluster-level) or None; `template`,
    `catalog`, `api_key_secret`, `pull_secret`: the objects its spec/status name, read in the
    account's namespace; `secret_names`: Secrets present in the project.
    """
    runtimes = list(serving_runtimes)
    parsed_account = None if account is None else parse_account(account=account, now=now)
    parsed_template: RuntimeTemplate | None = None
    problem: str | None = None
    if parsed_account is not None:
        try:
            parsed_template = parse_template(template=template, namespace=parsed_account.namespace)
        except TemplateProblem as exc:
            problem = str(exc)
    models, skipped_models = parse_catalog(configmap=catalog)
    profiles, skipped_profiles = parse_hardware_profiles(objs=hardware_profiles)
    classes, default_class = parse_storage_classes(objs=storage_classes)
    existing: dict[tuple[str, str], Mapping[str, Any]] = {}
    for kind, objs in (("InferenceService", inference_services), ("ServingRuntime", runtimes)):
        for obj in objs:
            existing[(kind, str(_metadata(obj).get("name", "")))] = copy.deepcopy(dict(obj))
    return ClusterFacts(
        project=project,
        account=parsed_account,
        template=parsed_template,
        models=models,
        hardware_profiles=profiles,
        storage_classes=classes,
        default_storage_class=default_class,
        pvcs=parse_pvcs(pvcs=pvcs, serving_runtimes=runtimes),
        existing_secrets=frozenset(secret_names),
        existing=existing,
        project_exists=project_exists,
        template_problem=problem,
        api_key=read_secret_value(secret=api_key_secret, keys=("api_key", "NGC_API_KEY")),
        docker_config_json=read_secret_value(secret=pull_secret, keys=(".dockerconfigjson",)),
        skipped=skipped_models + skipped_profiles,
        gathered_at=now,
    )
