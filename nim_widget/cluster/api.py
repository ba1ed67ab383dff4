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
    AlreadyExists,
    BadRequest,
    Conflict,
    NimWidgetError,
    NotFound,
    ObjectRef,
    Unavailable,
    already_exists_detail,
    error_from_status,
    error_from_transport,
)
from nim_widget.cluster.retry import RetryPolicy, Transience, classify, retry_after

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

# The annotation that lets a create whose answer was lost be recognised as ours (see `Api.create`).
RUN_ANNOTATION = "nim-widget/deploy-run"

Confirm = Callable[[], "dict[str, Any] | None"]


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
        KindInfo(
            "storage.k8s.io/v1", "StorageClass", "storageclasses", False, client.StorageV1Api, "storage_class"
        ),
        KindInfo(
            "rbac.authorization.k8s.io/v1", "Role", "roles", True, client.RbacAuthorizationV1Api, "role"
        ),
        KindInfo(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            "rolebindings",
            True,
            client.RbacAuthorizationV1Api,
            "role_binding",
        ),
        KindInfo(
            "authorization.k8s.io/v1",
            "SelfSubjectAccessReview",
            "selfsubjectaccessreviews",
            False,
            client.AuthorizationV1Api,
            "self_subject_access_review",
        ),
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


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _registry_credentials(text: str) -> list[str]:
    """The credentials inside a dockerconfigjson: an error may quote the password (the NGC key) or
    an `auth` alone, in any of its forms, without the rest of the document around it."""
    if "auths" not in text:
        return []
    try:
        config = json.loads(text)
    except ValueError:
        return []
    auths = config.get("auths") if isinstance(config, dict) else None
    if not isinstance(auths, dict):
        return []
    found: list[str] = []
    for entry in auths.values():
        if not isinstance(entry, dict):
            continue
        password, auth = entry.get("password"), entry.get("auth")
        if isinstance(password, str) and password:
            found += [password, _b64(password)]
            username = entry.get("username")
            if isinstance(username, str):
                found += [f"{username}:{password}", _b64(f"{username}:{password}")]
        if isinstance(auth, str) and auth:
            found.append(auth)
            with contextlib.suppress(binascii.Error, ValueError, UnicodeDecodeError):
                pair = base64.b64decode(auth, validate=True).decode("utf-8")
                found.append(pair)
                _, colon, secret = pair.partition(":")
                if colon and secret:
                    found += [secret, _b64(secret)]
    return found


def _secret_values(info: KindInfo, body: Any) -> list[str]:
    """Every string that could be a secret in a Secret body or a patch touching one."""
    found: list[str] = []
    if info.kind != "Secret":
        return found

    def take(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
            found.extend(_registry_credentials(value))
            with contextlib.suppress(binascii.Error, ValueError, UnicodeDecodeError):
                decoded = base64.b64decode(value, validate=True).decode("utf-8")
                found.append(decoded)
                found.extend(_registry_credentials(decoded))
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

    Failures are retried within `policy` (see `cluster.retry`): reads, dry runs and access reviews
    on throttling, 503/504 and broken connections; real writes only after looking at the object
    shows the lost attempt did not take effect (see `_call`). `sleep` waits between attempts;
    tests pass a recorder so the whole fault matrix runs without waiting. `timeout` is
    (connect, read) seconds for one attempt.
    """

    def __init__(
        self,
        *,
        api_client: client.ApiClient,
        timeout: tuple[float, float] = (5.0, 30.0),
        retries: int = 3,
        backoff: float = 0.25,
        retry_budget: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_client = api_client
        self._timeout = timeout
        self.policy = RetryPolicy(retries=retries, backoff=backoff, budget=retry_budget)
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
        return self._call("get", ObjectRef(api_version, kind, name, namespace), idempotent=True, fn=call)

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
            "list",
            ObjectRef(api_version, kind, "", namespace),
            idempotent=True,
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
        for key, value in (
            ("resource_version", resource_version),
            ("label_selector", label_selector),
            ("field_selector", field_selector),
        ):
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
        """POST a new object.

        A create is not idempotent: when its answer is lost (reset, timeout, 503) the object may
        exist already, and sending it again would fail with AlreadyExists against our own object.
        A body that carries `RUN_ANNOTATION` (a value unique to one deploy run) can be recognised:
        the object is read back, and if it carries the same value it is ours and the create
        succeeded; if it is absent the create is sent again; if it carries another value (or none)
        it is someone else's and AlreadyExists is raised. Without the annotation the failure is
        raised as it is: nothing is sent twice blindly.
        """
        info, ref = self._identify(body)
        plain = dict(body)
        call = self._bind("create", info, ref.namespace)
        marker = _annotation(plain, RUN_ANNOTATION)
        confirm = (
            None if dry_run or not marker else functools.partial(self._confirm_create, info, ref, marker)
        )
        return self._call(
            "create",
            ref,
            secrets=_secret_values(info, plain),
            dry_run=dry_run,
            confirm=confirm,
            fn=lambda **kw: call(plain, _headers={"Content-Type": JSON}, **kw),
        )

    def replace(
        self, *, body: Mapping[str, Any], resource_version: str | None = None, dry_run: bool = False
    ) -> dict[str, Any]:
        """PUT the whole object, guarded by its resourceVersion so a concurrent change is a Conflict.

        When the answer is lost, the object is read back: still at the resourceVersion we sent means
        the PUT did not happen (sent again); holding everything we sent means it did."""
        plain = copy.deepcopy(dict(body))
        meta = plain.setdefault("metadata", {})
        if resource_version is not None:
            meta["resourceVersion"] = resource_version
        if not meta.get("resourceVersion"):
            raise ValueError("replace() needs a resourceVersion; use json_patch() to overwrite")
        info, ref = self._identify(plain)
        call = self._bind("replace", info, ref.namespace, ref.name)
        confirm = None if dry_run else functools.partial(self._confirm_replace, ref, plain)
        return self._call(
            "replace",
            ref,
            secrets=_secret_values(info, plain),
            dry_run=dry_run,
            confirm=confirm,
            fn=lambda **kw: call(plain, _headers={"Content-Type": JSON}, **kw),
        )

    def json_patch(
        self, *, old: Mapping[str, Any], new: Mapping[str, Any], dry_run: bool = False
    ) -> dict[str, Any]:
        """Send the diff of `old` and `new` as a JSON patch; an empty diff sends nothing."""
        ops = diff_ops(old=old, new=new)
        if not ops:
            return copy.deepcopy(dict(old))
        _, ref = self._identify(new)
        return self.patch_ops(
            api_version=ref.api_version,
            kind=ref.kind,
            name=ref.name,
            namespace=ref.namespace,
            ops=ops,
            dry_run=dry_run,
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
        """RFC 6902 JSON patch, with the content type forced (custom objects default to merge patch).

        After a lost answer the patch is applied to the live object locally: if that changes
        nothing, it was applied; if it cannot apply, the outcome cannot be told and the failure
        is raised; otherwise it is sent again."""
        body = [dict(op) for op in ops]

        def applied(live: dict[str, Any]) -> dict[str, Any]:
            result: dict[str, Any] = jsonpatch.apply_patch(live, body)
            return result

        return self._patch(api_version, kind, name, namespace, body, JSON_PATCH, dry_run, applied)

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
        body = dict(patch)
        return self._patch(
            api_version, kind, name, namespace, body, MERGE_PATCH, dry_run, lambda live: _merged(live, body)
        )

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
        """DELETE; after a lost answer, an object that is gone or terminating was deleted."""
        info = kind_info(api_version=api_version, kind=kind)
        ref = ObjectRef(api_version, kind, name, namespace)
        call = self._bind("delete", info, namespace, name)
        confirm = None if dry_run else functools.partial(self._confirm_delete, ref)
        return self._call(
            "delete",
            ref,
            dry_run=dry_run,
            confirm=confirm,
            fn=lambda **kw: call(propagation_policy=propagation_policy, **kw),
        )

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
        info, ref = self._identify(body)
        call = self._bind("create", info, None)
        # A review stores nothing: asking again is harmless, so it is retried like a read. It goes
        # with dryRun=All (the API server answers a review the same way), so audit and request logs
        # that count writes see it for what it is: a question, not a change.
        result = self._call(
            "create",
            ref,
            idempotent=True,
            dry_run=True,
            fn=lambda **kw: call(body, _headers={"Content-Type": JSON}, **kw),
        )
        return bool((result.get("status") or {}).get("allowed"))

    # -- telling whether a write whose answer was lost took effect -------------------------------

    def _live(self, ref: ObjectRef) -> dict[str, Any] | None:
        return self.try_get(
            api_version=ref.api_version, kind=ref.kind, name=ref.name, namespace=ref.namespace
        )

    def _confirm_create(self, info: KindInfo, ref: ObjectRef, marker: str) -> dict[str, Any] | None:
        live = self._live(ref)
        if live is None:
            return None
        if _annotation(live, RUN_ANNOTATION) == marker:
            return live
        raise AlreadyExists(
            detail=already_exists_detail(resource=info.plural, display_name=ref.name), obj=ref, status=409
        )

    def _confirm_replace(self, ref: ObjectRef, sent: Mapping[str, Any]) -> dict[str, Any] | None:
        live = self._live(ref)
        if live is None:
            raise NotFound(detail=f"{ref} was deleted while it was being updated.", obj=ref, status=404)
        if covers(live=strip_server_fields(live), wanted=strip_server_fields(sent)):
            return live
        if _rv(live) == _rv(sent):
            return None
        raise Conflict(
            detail=f"{ref} was changed by someone else while our update was on its way.", obj=ref, status=409
        )

    def _confirm_delete(self, ref: ObjectRef) -> dict[str, Any] | None:
        live = self._live(ref)
        if live is None or (live.get("metadata") or {}).get("deletionTimestamp"):
            return {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Success",
                "details": {"name": ref.name, "kind": ref.kind},
            }
        return None

    def _confirm_patch(
        self, ref: ObjectRef, apply: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any] | None:
        live = self._live(ref)
        if live is None:
            raise NotFound(detail=f"{ref} was deleted while it was being changed.", obj=ref, status=404)
        try:
            again = apply(copy.deepcopy(live))
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException):
            raise Unavailable(
                detail=f"The answer to a change of {ref} was lost and the change can no longer "
                "be applied to it; check the object.",
                obj=ref,
            ) from None
        return live if again == live else None

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
        apply: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> dict[str, Any]:
        info = kind_info(api_version=api_version, kind=kind)
        ref = ObjectRef(api_version, kind, name, namespace)
        call = self._bind("patch", info, namespace, name)
        confirm = None if dry_run else functools.partial(self._confirm_patch, ref, apply)
        return self._call(
            "patch",
            ref,
            secrets=_secret_values(info, body),
            dry_run=dry_run,
            confirm=confirm,
            fn=lambda **kw: call(body, _content_type=content_type, **kw),
        )

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
                return functools.partial(
                    self._custom.list_cluster_custom_object, info.group, info.version, info.plural
                )
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
            return Unavailable(
                detail=f"Could not reach the cluster at {self.server}: "
                f"{str(exc.reason or 'TLS error').splitlines()[0]}.",
                obj=ref,
            )
        headers = dict(exc.headers or {})
        error = error_from_status(
            code=int(exc.status),
            body=exc.body,
            reason_phrase=str(exc.reason or ""),
            headers=headers,
            obj=ref,
            secrets=secrets,
        )
        error.retry_after = retry_after(headers=headers, status=_status_of(exc.body))
        return error

    def _once(
        self,
        verb: str,
        ref: ObjectRef,
        fn: Callable[..., Any],
        extra: Mapping[str, Any],
        secrets: tuple[str, ...],
    ) -> dict[str, Any] | NimWidgetError:
        """One attempt: the parsed answer, or our error (never the client's exception)."""
        try:
            response = fn(**extra)
            try:
                raw = response.data
            finally:
                response.release_conn()
        except ApiException as exc:
            return self._from_api_exception(exc, ref, secrets)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return error_from_transport(error=exc, server=self.server, obj=ref)
        except pydantic.ValidationError as exc:
            problems = exc.errors(include_input=False, include_url=False)
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in problems)
            return BadRequest("Malformed object", f"{ref} has fields of the wrong type: {fields}.", obj=ref)
        except OpenApiException as exc:
            return BadRequest("Malformed request", f"{ref}: {type(exc).__name__}.", obj=ref)
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            return Unavailable(
                detail=f"The cluster at {self.server} answered {verb} {ref} "
                "with something that is not a Kubernetes object.",
                obj=ref,
            )
        return parsed

    def _call(
        self,
        verb: str,
        ref: ObjectRef,
        *,
        fn: Callable[..., Any],
        idempotent: bool = False,
        confirm: Confirm | None = None,
        dry_run: bool = False,
        secrets: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Run one request within the retry policy.

        Requests without side effects (reads, dry runs, access reviews) are sent again after a
        429, 503, 504 or broken connection. A 429 means the server turned the request away, so a
        write is sent again too. Any other write whose answer was lost is never simply sent again:
        `confirm` reads the object and returns it when the write took effect, None when it did
        not (then it is sent again), or raises when someone else's object or change is in the way.
        A write that cannot be confirmed is not retried. When a write was sent again after a lost
        answer, an AlreadyExists, Conflict or NotFound may be the first attempt's own doing, so
        `confirm` decides once more."""
        secret_values = tuple(secrets)
        extra: dict[str, Any] = {"_preload_content": False, "_request_timeout": self._timeout}
        if dry_run:
            extra["dry_run"] = "All"
        harmless = idempotent or dry_run
        attempt = 0
        slept = 0.0
        uncertain = False  # an earlier attempt may have taken effect
        while True:
            outcome = self._once(verb, ref, fn, extra, secret_values)
            if not isinstance(outcome, NimWidgetError):
                log.debug("%s %s%s -> ok", verb, ref, " (dry run)" if dry_run else "")
                return outcome
            error = outcome
            log.debug("%s %s%s -> %s", verb, ref, " (dry run)" if dry_run else "", error.title)
            if uncertain and confirm is not None and isinstance(error, AlreadyExists | Conflict | NotFound):
                found = self._confirmed(confirm, error)
                if found is not None:
                    return found
                raise error
            transience = classify(error)
            if transience is Transience.FINAL:
                raise error
            if transience is Transience.UNKNOWN and not harmless:
                if confirm is None:
                    raise error
                found = self._confirmed(confirm, error)
                if found is not None:
                    return found
                uncertain = True
            delay = self.policy.delay(attempt=attempt, retry_after=error.retry_after)
            if not self.policy.allows(attempt=attempt, slept=slept, delay=delay):
                raise error
            attempt += 1
            slept += delay
            self._sleep(delay)

    @staticmethod
    def _confirmed(confirm: Confirm, error: NimWidgetError) -> dict[str, Any] | None:
        """`confirm()`, except that failing to read the object leaves the original failure standing."""
        try:
            return confirm()
        except (AlreadyExists, Conflict, NotFound, BadRequest):
            raise
        except NimWidgetError:
            raise error from None


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


def _status_of(body: Any) -> dict[str, Any] | None:
    if not body:
        return None
    try:
        parsed = json.loads(body)
    except (ValueError, TypeError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _annotation(obj: Mapping[str, Any], key: str) -> str | None:
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(key)
    return str(value) if value is not None else None


def _rv(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def covers(*, live: Any, wanted: Any) -> bool:
    """Whether `live` holds everything in `wanted`: the server may add defaults (fields, list
    items' fields) but not change or drop what was sent."""
    if isinstance(wanted, Mapping):
        return isinstance(live, Mapping) and all(
            key in live and covers(live=live[key], wanted=value) for key, value in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(live, list)
            and len(live) == len(wanted)
            and all(covers(live=a, wanted=b) for a, b in zip(live, wanted, strict=True))
        )
    return bool(live == wanted)


def _merged(target: Any, patch: Any) -> Any:
    """RFC 7386 applied locally (to tell whether a merge patch is already in place)."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merged(result.get(key), value)
    return result
