"""The one place that knows Kubernetes verbs, content types, dry run, retries and Status errors.

Everything above this module works with plain dicts (camelCase, exactly as the server sent them)
and our own errors. Responses are read raw (`_preload_content=False`) instead of through the
generated models: the models drop fields they do not know, rewrite timestamps, and the generated
custom-object `create` maps only HTTP 201 to a result. Request bodies of core kinds still pass
through the typed methods, so the official client checks their shape before anything is sent.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import functools
import json
import logging
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonpatch
import pydantic
import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException, OpenApiException

from nim_widget.cluster.errors import (
    BadRequest,
    NimWidgetError,
    NotFound,
    ObjectRef,
    Unavailable,
    error_from_status,
    error_from_transport,
)

log = logging.getLogger(__name__)

JSON = "application/json"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"

# Fields the server owns: never part of a diff we compute (the dashboard's createPatchesFromDiff
# ignores the same list).
SERVER_MANAGED_METADATA = (
    "resourceVersion",
    "uid",
    "selfLink",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "managedFields",
    "ownerReferences",
)

_RETRYABLE_STATUS = frozenset({429, 503, 504})
_MAX_BACKOFF = 4.0
_MAX_RETRY_AFTER = 10.0


@dataclass(frozen=True)
class KindInfo:
    """How to reach one kind: typed API class and method stem for core kinds, or custom objects."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool
    api_class: type[Any] | None = None  # None: CustomObjectsApi
    stem: str = ""  # typed method stem, e.g. "persistent_volume_claim"

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def resource_key(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _core(kind: str, plural: str, stem: str, *, namespaced: bool = True) -> KindInfo:
    return KindInfo("v1", kind, plural, namespaced, client.CoreV1Api, stem)


def _custom(api_version: str, kind: str, plural: str) -> KindInfo:
    return KindInfo(api_version, kind, plural, True)


_KINDS: dict[tuple[str, str], KindInfo] = {
    (k.api_version, k.kind): k
    for k in (
        _core("Namespace", "namespaces", "namespace", namespaced=False),
        _core("Node", "nodes", "node", namespaced=False),
        _core("Secret", "secrets", "secret"),
        _core("ConfigMap", "configmaps", "config_map"),
        _core("PersistentVolumeClaim", "persistentvolumeclaims", "persistent_volume_claim"),
        _core("ServiceAccount", "serviceaccounts", "service_account"),
        _core("Pod", "pods", "pod"),
        _core("Event", "events", "event"),
        KindInfo("storage.k8s.io/v1", "StorageClass", "storageclasses", False, client.StorageV1Api,
                 "storage_class"),
        KindInfo("rbac.authorization.k8s.io/v1", "Role", "roles", True, client.RbacAuthorizationV1Api,
                 "role"),
        KindInfo("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True,
                 client.RbacAuthorizationV1Api, "role_binding"),
        KindInfo("authorization.k8s.io/v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False,
                 client.AuthorizationV1Api, "self_subject_access_review"),
        _custom("serving.kserve.io/v1alpha1", "ServingRuntime", "servingruntimes"),
        _custom("serving.kserve.io/v1beta1", "InferenceService", "inferenceservices"),
        _custom("nim.opendatahub.io/v1", "Account", "accounts"),
        _custom("template.openshift.io/v1", "Template", "templates"),
        _custom("infrastructure.opendatahub.io/v1", "HardwareProfile", "hardwareprofiles"),
        _custom("apps.nvidia.com/v1alpha1", "NIMService", "nimservices"),
    )
}


def register_kind(info: KindInfo) -> None:
    """Teach the API layer one more kind (custom resources need only apiVersion, kind, plural)."""
    _KINDS[(info.api_version, info.kind)] = info


def kind_info(*, api_version: str, kind: str) -> KindInfo:
    try:
        return _KINDS[(api_version, kind)]
    except KeyError:
        raise BadRequest("Unknown kind", f"nim-widget does not know {kind} ({api_version}).") from None


def strip_server_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy without status and server-managed metadata: what a diff or a re-create compares."""
    out = copy.deepcopy(dict(obj))
    out.pop("status", None)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for key in SERVER_MANAGED_METADATA:
            meta.pop(key, None)
    return out


def diff_ops(*, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """RFC 6902 operations turning `old` into `new`, ignoring what the server owns."""
    ops: list[dict[str, Any]] = jsonpatch.make_patch(strip_server_fields(old), strip_server_fields(new)).patch
    return ops


def _secret_values(info: KindInfo, body: Any) -> list[str]:
    """Every string that could be a secret in a Secret body or a patch touching one."""
    found: list[str] = []
    if info.kind != "Secret":
        return found

    def take(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
            with contextlib.suppress(binascii.Error, ValueError, UnicodeDecodeError):
                found.append(base64.b64decode(value, validate=True).decode("utf-8"))
        elif isinstance(value, Mapping):
            for item in value.values():
                take(item)
        elif isinstance(value, list):
            for item in value:
                take(item)

    if isinstance(body, Mapping):
        take(body.get("data"))
        take(body.get("stringData"))
    elif isinstance(body, list):
        take([op.get("value") for op in body if isinstance(op, Mapping)])
    return found


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK
    object: dict[str, Any]


class Api:
    """Verbs over one `ApiClient`; safe to share between the threads of a pool.

    `sleep` is only used between retries of reads; tests pass a recorder instead of waiting.
    """

    def __init__(
        self,
        *,
        api_client: client.ApiClient,
        timeout: tuple[float, float] = (5.0, 30.0),
        read_retries: int = 3,
        backoff: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_client = api_client
        self._timeout = timeout
        self._read_retries = read_retries
        self._backoff = backoff
        self._sleep = sleep
        self._typed: dict[type[Any], Any] = {}
        self._custom = client.CustomObjectsApi(api_client)

    @property
    def server(self) -> str:
        return str(self.api_client.configuration.host)

    def __repr__(self) -> str:
        return f"Api(server={self.server!r})"

    # -- reads -----------------------------------------------------------------------------------

    def get(self, *, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        info = kind_info(api_version=api_version, kind=kind)
        call = self._bind("read", info, namespace, name)
        return self._call("get", ObjectRef(api_version, kind, name, namespace), retry=True, fn=call)

    def try_get(
        self, *, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        """The object, or None when it does not exist (any other failure still raises)."""
        try:
            return self.get(api_version=api_version, kind=kind, name=name, namespace=namespace)
        except NotFound:
            return None

    def list(
        self,
        *,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[dict[str, Any]]:
        """Items of a kind; `namespace=None` lists cluster-scoped kinds or every namespace."""
        info = kind_info(api_version=api_version, kind=kind)
        method = self._list_method(info, namespace)
        selectors = {"label_selector": label_selector, "field_selector": field_selector}
        selectors = {k: v for k, v in selectors.items() if v}
        result = self._call(
            "list", ObjectRef(api_version, kind, "", namespace), retry=True,
            fn=lambda **kw: method(**selectors, **kw),
        )
        items = result.get("items") or []
        for item in items:  # list items omit apiVersion/kind on a real server
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return list(items)

    def watch(
        self,
        *,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        resource_version: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int = 60,
    ) -> Generator[WatchEvent, None, None]:
        """Stream changes until the server ends the watch (after `timeout_seconds`)."""
        info = kind_info(api_version=api_version, kind=kind)
        ref = ObjectRef(api_version, kind, "", namespace)
        method = self._list_method(info, namespace)
        params: dict[str, Any] = {"watch": True, "timeout_seconds": timeout_seconds}
        for key, value in (("resource_version", resource_version), ("label_selector", label_selector),
                           ("field_selector", field_selector)):
            if value:
                params[key] = value
        response = self._open(ref, lambda **kw: method(**params, **kw), read_timeout=timeout_seconds + 5)
        lines = _stream_lines(response)
        try:
            while True:
                error: NimWidgetError | None = None
                try:
                    line = next(lines)
                except StopIteration:
                    return
                except (urllib3.exceptions.HTTPError, OSError) as exc:
                    error = error_from_transport(error=exc, server=self.server, obj=ref)
                if error is not None:
                    raise error
                yield self._watch_event(line, ref)
        finally:
            response.release_conn()

    @staticmethod
    def _watch_event(line: bytes, ref: ObjectRef) -> WatchEvent:
        event = json.loads(line)
        if event.get("type") == "ERROR":
            status = event.get("object") or {}
            raise error_from_status(code=int(status.get("code") or 500), body=json.dumps(status), obj=ref)
        return WatchEvent(type=str(event.get("type")), object=dict(event.get("object") or {}))

    # -- writes ----------------------------------------------------------------------------------

    def create(self, *, body: Mapping[str, Any], dry_run: bool = False) -> dict[str, Any]:
        info, ref = self._identify(body)
        plain = dict(body)
        call = self._bind("create", info, ref.namespace)
        return self._call("create", ref, secrets=_secret_values(info, plain), dry_run=dry_run,
                          fn=lambda **kw: call(plain, _headers={"Content-Type": JSON}, **kw))

    def replace(
        self, *, body: Mapping[str, Any], resource_version: str | None = None, dry_run: bool = False
    ) -> dict[str, Any]:
        """PUT the whole object, guarded by its resourceVersion so a concurrent change is a Conflict."""
        plain = copy.deepcopy(dict(body))
        meta = plain.setdefault("metadata", {})
        if resource_version is not None:
            meta["resourceVersion"] = resource_version
        if not meta.get("resourceVersion"):
            raise ValueError("replace() needs a resourceVersion; use json_patch() to overwrite")
        info, ref = self._identify(plain)
        call = self._bind("replace", info, ref.namespace, ref.name)
        return self._call("replace", ref, secrets=_secret_values(info, plain), dry_run=dry_run,
                          fn=lambda **kw: call(plain, _headers={"Content-Type": JSON}, **kw))

    def json_patch(
        self, *, old: Mapping[str, Any], new: Mapping[str, Any], dry_run: bool = False
    ) -> dict[str, Any]:
        """Send the diff of `old` and `new` as a JSON patch; an empty diff sends nothing."""
        ops = diff_ops(old=old, new=new)
        if not ops:
            return copy.deepcopy(dict(old))
        _, ref = self._identify(new)
        return self.patch_ops(
            api_version=ref.api_version, kind=ref.kind, name=ref.name, namespace=ref.namespace,
            ops=ops, dry_run=dry_run,
        )

    def patch_ops(
        self,
        *,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None,
        ops: Sequence[Mapping[str, Any]],
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """RFC 6902 JSON patch, with the content type forced (custom objects default to merge patch)."""
        return self._patch(api_version, kind, name, namespace, [dict(op) for op in ops], JSON_PATCH, dry_run)

    def merge_patch(
        self,
        *,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None,
        patch: Mapping[str, Any],
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """RFC 7386 merge patch (`None` deletes a key)."""
        return self._patch(api_version, kind, name, namespace, dict(patch), MERGE_PATCH, dry_run)

    def delete(
        self,
        *,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        dry_run: bool = False,
        propagation_policy: str = "Background",
    ) -> dict[str, Any]:
        info = kind_info(api_version=api_version, kind=kind)
        call = self._bind("delete", info, namespace, name)
        return self._call("delete", ObjectRef(api_version, kind, name, namespace), dry_run=dry_run,
                          fn=lambda **kw: call(propagation_policy=propagation_policy, **kw))

    def can_i(
        self,
        *,
        verb: str,
        resource: str,
        group: str = "",
        namespace: str | None = None,
        name: str | None = None,
    ) -> bool:
        """Ask the cluster (SelfSubjectAccessReview) whether the current user may do something."""
        attrs = {"verb": verb, "resource": resource, "group": group}
        if namespace:
            attrs["namespace"] = namespace
        if name:
            attrs["name"] = name
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs},
        }
        result = self.create(body=body)
        return bool((result.get("status") or {}).get("allowed"))

    # -- plumbing --------------------------------------------------------------------------------

    def _patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None,
        body: Any,
        content_type: str,
        dry_run: bool,
    ) -> dict[str, Any]:
        info = kind_info(api_version=api_version, kind=kind)
        call = self._bind("patch", info, namespace, name)
        return self._call("patch", ObjectRef(api_version, kind, name, namespace),
                          secrets=_secret_values(info, body), dry_run=dry_run,
                          fn=lambda **kw: call(body, _content_type=content_type, **kw))

    @staticmethod
    def _identify(body: Mapping[str, Any]) -> tuple[KindInfo, ObjectRef]:
        api_version = str(body.get("apiVersion") or "")
        kind = str(body.get("kind") or "")
        info = kind_info(api_version=api_version, kind=kind)
        meta = body.get("metadata") or {}
        namespace = meta.get("namespace") if info.namespaced else None
        if info.namespaced and not namespace:
            raise ValueError(f"{kind} needs metadata.namespace")
        return info, ObjectRef(api_version, kind, str(meta.get("name") or ""), namespace)

    def _api(self, info: KindInfo) -> Any:
        assert info.api_class is not None
        api = self._typed.get(info.api_class)
        if api is None:
            api = self._typed.setdefault(info.api_class, info.api_class(self.api_client))
        return api

    def _bind(self, verb: str, info: KindInfo, namespace: str | None, name: str | None = None) -> Any:
        """The generated method for `verb` with its leading positional arguments filled in.

        Typed methods take (name, namespace, body); custom-object methods (group, version,
        namespace, plural, name, body)."""
        ns: tuple[str, ...] = ()
        if info.namespaced:
            if not namespace:
                raise ValueError(f"{info.kind} is namespaced; pass a namespace")
            ns = (namespace,)
        named = (name,) if name is not None else ()
        if info.api_class is None:
            scope = "namespaced" if info.namespaced else "cluster"
            custom_verb = "get" if verb == "read" else verb
            method = getattr(self._custom, f"{custom_verb}_{scope}_custom_object")
            return functools.partial(method, info.group, info.version, *ns, info.plural, *named)
        scope = "namespaced_" if info.namespaced else ""
        return functools.partial(getattr(self._api(info), f"{verb}_{scope}{info.stem}"), *named, *ns)

    def _list_method(self, info: KindInfo, namespace: str | None) -> Any:
        if info.namespaced and namespace is None:
            if info.api_class is None:
                return functools.partial(self._custom.list_cluster_custom_object, info.group, info.version,
                                         info.plural)
            return getattr(self._api(info), f"list_{info.stem}_for_all_namespaces")
        return self._bind("list", info, namespace)

    def _open(self, ref: ObjectRef, fn: Callable[..., Any], *, read_timeout: float) -> Any:
        """Start a streaming request; errors become ours, raised outside any except block."""
        error: NimWidgetError
        try:
            return fn(_preload_content=False, _request_timeout=(self._timeout[0], read_timeout))
        except ApiException as exc:
            error = self._from_api_exception(exc, ref, ())
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            error = error_from_transport(error=exc, server=self.server, obj=ref)
        raise error

    def _from_api_exception(
        self, exc: ApiException, ref: ObjectRef, secrets: Iterable[str]
    ) -> NimWidgetError:
        if not exc.status:
            return Unavailable(detail=f"Could not reach the cluster at {self.server}: "
                                      f"{str(exc.reason or 'TLS error').splitlines()[0]}.", obj=ref)
        headers = dict(exc.headers or {})
        return error_from_status(code=int(exc.status), body=exc.body, reason_phrase=str(exc.reason or ""),
                                 headers=headers, obj=ref, secrets=secrets)

    def _call(
        self,
        verb: str,
        ref: ObjectRef,
        *,
        fn: Callable[..., Any],
        retry: bool = False,
        dry_run: bool = False,
        secrets: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Run one request. Reads are retried on throttling and broken connections; writes never are,
        because a write whose answer was lost may well have happened."""
        secret_values = tuple(secrets)
        extra: dict[str, Any] = {"_preload_content": False, "_request_timeout": self._timeout}
        if dry_run:
            extra["dry_run"] = "All"
        attempt = 0
        while True:
            error: NimWidgetError
            retry_after: float | None = None
            try:
                response = fn(**extra)
                try:
                    raw = response.data
                finally:
                    response.release_conn()
            except ApiException as exc:
                error = self._from_api_exception(exc, ref, secret_values)
                can_retry = retry and exc.status in _RETRYABLE_STATUS
                retry_after = _retry_after(exc.headers)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                error = error_from_transport(error=exc, server=self.server, obj=ref)
                can_retry = retry
            except pydantic.ValidationError as exc:
                problems = exc.errors(include_input=False, include_url=False)
                fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in problems)
                error = BadRequest("Malformed object", f"{ref} has fields of the wrong type: {fields}.",
                                   obj=ref)
                can_retry = False
            except OpenApiException as exc:
                error = BadRequest("Malformed request", f"{ref}: {type(exc).__name__}.", obj=ref)
                can_retry = False
            else:
                log.debug("%s %s%s -> ok", verb, ref, " (dry run)" if dry_run else "")
                try:
                    parsed = json.loads(raw) if raw else {}
                except ValueError:
                    parsed = None
                if not isinstance(parsed, dict):
                    error = Unavailable(detail=f"The cluster at {self.server} answered {verb} {ref} "
                                               "with something that is not a Kubernetes object.", obj=ref)
                    raise error
                return parsed
            log.debug("%s %s%s -> %s", verb, ref, " (dry run)" if dry_run else "", error.title)
            if not can_retry or attempt >= self._read_retries:
                raise error
            delay = min(self._backoff * (2**attempt), _MAX_BACKOFF)
            if retry_after is not None:
                delay = min(max(delay, retry_after), _MAX_RETRY_AFTER)
            attempt += 1
            self._sleep(delay)


def _stream_lines(response: Any) -> Iterator[bytes]:
    buffer = b""
    for chunk in response.stream(4096, decode_content=True):
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                yield line
    if buffer.strip():
        yield buffer


def _retry_after(headers: Any) -> float | None:
    if not headers:
        return None
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None
