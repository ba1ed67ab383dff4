"""Model access: the dashboard's external route and token authentication (reference B.7).

A deployed NIM answers only inside the cluster until it is exposed, and with token authentication
only callers with a bearer token of the deployment's service account get in. The objects are the
dashboard's, name for name, so a deployment exposed here shows its tokens in the dashboard and the
other way round: ServiceAccount `<isvc>-sa`, Role `<isvc>-view-role` (get on this one
InferenceService), RoleBinding `<isvc>-view`, one service-account-token Secret per token, all owned
by the InferenceService (deleting it removes them), plus the `networking.kserve.io/visibility:
exposed` label and the `security.opendatahub.io/enable-auth` annotation on the InferenceService.

After readiness `model_access()` gives what a person needs to call the model: the URL, the token
(masked until `reveal()`), and a ready-to-run curl for the OpenAI-compatible API.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import shlex
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from nim_widget.cluster.api import Api
from nim_widget.cluster.errors import Forbidden
from nim_widget.facts import SecretValue
from nim_widget.lifecycle import kinds as k
from nim_widget.lifecycle.errors import DeploymentNotFound
from nim_widget.naming import translate_display_name

TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token"
SA_NAME_ANNOTATION = "kubernetes.io/service-account.name"
DEFAULT_TOKEN = "default-token"
MASK = "•" * 40  # the dashboard shows a token as 40 bullets until it is revealed
NO_PERMISSION = "Model route and token authentication can only be changed by administrator users."


@dataclass(frozen=True)
class AccessNames:
    service_account: str
    role: str
    role_binding: str

    @classmethod
    def of(cls, name: str) -> AccessNames:
        return cls(service_account=f"{name}-sa", role=f"{name}-view-role", role_binding=f"{name}-view")


def token_secret_name(*, name: str, token: str) -> str:
    """`<translate(token display name)>-<isvc>-sa`, as the dashboard names token Secrets."""
    return f"{translate_display_name(text=token)}-{name}-sa"


def _owner(inference_service: Mapping[str, Any]) -> list[dict[str, Any]]:
    uid = k.meta(inference_service).get("uid")
    if not uid:
        raise ValueError("the InferenceService has no uid yet; create it before its access objects")
    return [
        {
            "apiVersion": k.IS_API,
            "kind": k.IS_KIND,
            "name": k.name_of(inference_service),
            "uid": uid,
            "blockOwnerDeletion": False,
        }
    ]


def build_access_objects(
    *, inference_service: Mapping[str, Any], tokens: Sequence[str] = (DEFAULT_TOKEN,)
) -> list[dict[str, Any]]:
    """ServiceAccount, Role, RoleBinding and token Secrets for one InferenceService (pure)."""
    name = k.name_of(inference_service)
    namespace = str(k.meta(inference_service).get("namespace") or "")
    names = AccessNames.of(name)
    owners = _owner(inference_service)
    dashboard = {k.DASHBOARD_LABEL: "true"}
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": names.service_account, "namespace": namespace, "ownerReferences": owners},
        },
        {
            "apiVersion": k.RBAC_API,
            "kind": "Role",
            "metadata": {
                "name": names.role,
                "namespace": namespace,
                "labels": dict(dashboard),
                "ownerReferences": copy.deepcopy(owners),
            },
            "rules": [
                {
                    "verbs": ["get"],
                    "apiGroups": ["serving.kserve.io"],
                    "resources": ["inferenceservices"],
                    "resourceNames": [name],
                }
            ],
        },
        {
            "apiVersion": k.RBAC_API,
            "kind": "RoleBinding",
            "metadata": {
                "name": names.role_binding,
                "namespace": namespace,
                "labels": dict(dashboard),
                "ownerReferences": copy.deepcopy(owners),
            },
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": names.role},
            "subjects": [{"kind": "ServiceAccount", "name": names.service_account}],
        },
    ]
    for token in tokens:
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": TOKEN_SECRET_TYPE,
                "metadata": {
                    "name": token_secret_name(name=name, token=token),
                    "namespace": namespace,
                    "labels": dict(dashboard),
                    "annotations": {SA_NAME_ANNOTATION: names.service_account, k.DISPLAY_NAME: token},
                    "ownerReferences": copy.deepcopy(owners),
                },
            }
        )
    return objects


def exposed_inference_service(
    *, inference_service: Mapping[str, Any], external_route: bool, token_auth: bool
) -> dict[str, Any]:
    """The InferenceService with the visibility label and the enable-auth annotation set (pure)."""
    new = copy.deepcopy(dict(inference_service))
    meta = new.setdefault("metadata", {})
    labels = dict(meta.get("labels") or {})
    annotations = dict(meta.get("annotations") or {})
    if external_route:
        labels[k.VISIBILITY_LABEL] = "exposed"
    else:
        labels.pop(k.VISIBILITY_LABEL, None)
    annotations[k.ENABLE_AUTH] = "true" if token_auth else "false"
    meta["labels"] = labels
    meta["annotations"] = annotations
    return new


@dataclass(frozen=True)
class AccessChange:
    """What `enable_model_access` wrote: object descriptions like `ServiceAccount llama-sa`."""

    created: tuple[str, ...]
    reused: tuple[str, ...]
    patched: tuple[str, ...]


def enable_model_access(
    *,
    api: Api,
    namespace: str,
    name: str,
    external_route: bool = True,
    token_auth: bool = True,
    tokens: Sequence[str] = (DEFAULT_TOKEN,),
    dry_run: bool = False,
) -> AccessChange:
    """Expose a deployment and require tokens, creating B.7's objects; dry run of everything first.

    Like the wizard, nothing is written unless the user may create RoleBindings in the project.
    """
    isvc = api.try_get(api_version=k.IS_API, kind=k.IS_KIND, name=name, namespace=namespace)
    if isvc is None:
        raise DeploymentNotFound(namespace=namespace, name=name)
    if not api.can_i(
        verb="create", resource="rolebindings", group="rbac.authorization.k8s.io", namespace=namespace
    ):
        raise Forbidden(detail=NO_PERMISSION)
    wanted = build_access_objects(inference_service=isvc, tokens=tokens if token_auth else ())
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="nim-widget-access") as pool:
        existing = list(pool.map(lambda o: _try_get(api, o), wanted))
    missing = [o for o, found in zip(wanted, existing, strict=True) if found is None]
    reused = [_describe(o) for o, found in zip(wanted, existing, strict=True) if found is not None]
    new_isvc = exposed_inference_service(
        inference_service=isvc, external_route=external_route, token_auth=token_auth
    )
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="nim-widget-access") as pool:
        checks = [pool.submit(api.create, body=o, dry_run=True) for o in missing]
        checks.append(pool.submit(api.json_patch, old=isvc, new=new_isvc, dry_run=True))
        for check in checks:
            check.result()
    if dry_run:
        return AccessChange(
            created=tuple(_describe(o) for o in missing),
            reused=tuple(reused),
            patched=(f"{k.IS_KIND} {name}",),
        )
    # The dashboard's order: ServiceAccount and Role, then the RoleBinding, then the token Secrets.
    by_kind = {
        kind: [o for o in missing if o["kind"] == kind]
        for kind in ("ServiceAccount", "Role", "RoleBinding", "Secret")
    }
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="nim-widget-access") as pool:
        for batch in (by_kind["ServiceAccount"] + by_kind["Role"], by_kind["RoleBinding"], by_kind["Secret"]):
            for future in [pool.submit(api.create, body=o) for o in batch]:
                future.result()
    api.json_patch(old=isvc, new=new_isvc)
    return AccessChange(
        created=tuple(_describe(o) for o in missing), reused=tuple(reused), patched=(f"{k.IS_KIND} {name}",)
    )


def _try_get(api: Api, obj: Mapping[str, Any]) -> dict[str, Any] | None:
    return api.try_get(
        api_version=str(obj["apiVersion"]),
        kind=str(obj["kind"]),
        name=k.name_of(obj),
        namespace=str(k.meta(obj).get("namespace")),
    )


def _describe(obj: Mapping[str, Any]) -> str:
    return f"{obj['kind']} {k.name_of(obj)}"


class Token:
    """A bearer token that shows 40 bullets until `reveal()` is called.

    `issued` is False while the cluster's token controller has not filled the Secret yet.
    """

    __slots__ = ("_secret", "secret_name")

    def __init__(self, *, value: str | None, secret_name: str) -> None:
        self._secret = SecretValue(value) if value else None
        self.secret_name = secret_name

    @property
    def issued(self) -> bool:
        return self._secret is not None

    def reveal(self) -> str:
        return self._secret.reveal() if self._secret is not None else ""

    @property
    def masked(self) -> str:
        return MASK if self.issued else "(not issued yet)"

    def __repr__(self) -> str:
        return f"Token(secret_name={self.secret_name!r}, value={self.masked})"

    __str__ = __repr__


@dataclass(frozen=True)
class ModelAccess:
    """How to call a deployed model: endpoint, token and curl examples (token shown only on request)."""

    name: str
    url: str | None
    internal_url: str | None
    external: bool
    token_auth: bool
    served_model: str
    tokens: tuple[Token, ...] = field(default=(), repr=False)
    path: str = "/v1/chat/completions"

    @property
    def endpoint(self) -> str | None:
        return self.url or self.internal_url

    def curl(self, *, reveal: bool = False, models: bool = False) -> str:
        """A ready-to-run curl; without `reveal` it reads the token from `$TOKEN`."""
        base = (self.endpoint or "http://<not-ready-yet>").rstrip("/")
        auth: list[str] = []
        if self.token_auth:
            issued = [t for t in self.tokens if t.issued]
            if reveal and issued:
                auth = [f"-H {shlex.quote('Authorization: Bearer ' + issued[0].reveal())}"]
            else:
                auth = ['-H "Authorization: Bearer $TOKEN"']
        if models:
            lines = [f"curl -sS {shlex.quote(base + '/v1/models')}", *auth]
            return " \\\n  ".join(lines)
        body = _example_body(self.path, self.served_model)
        lines = [
            f"curl -sS {shlex.quote(base + self.path)}",
            *auth,
            "-H 'Content-Type: application/json'",
            f"-d {shlex.quote(json.dumps(body))}",
        ]
        return " \\\n  ".join(lines)

    def to_dict(self, *, reveal: bool = False) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "internalUrl": self.internal_url,
            "external": self.external,
            "tokenAuth": self.token_auth,
            "servedModel": self.served_model,
            "tokens": [
                {"secret": t.secret_name, "token": t.reveal() if reveal else t.masked} for t in self.tokens
            ],
            "curl": self.curl(reveal=reveal),
        }


def _example_body(path: str, model: str) -> dict[str, Any]:
    if path == "/v1/embeddings":
        return {"model": model, "input": ["What is NVIDIA NIM?"], "input_type": "query"}
    return {
        "model": model,
        "messages": [{"role": "user", "content": "What is NVIDIA NIM?"}],
        "max_tokens": 128,
    }


def model_access(*, api: Api, namespace: str, name: str) -> ModelAccess:
    """Read the endpoint, the tokens of `<name>-sa` and the served model name of a deployment."""
    isvc = api.try_get(api_version=k.IS_API, kind=k.IS_KIND, name=name, namespace=namespace)
    if isvc is None:
        raise DeploymentNotFound(namespace=namespace, name=name)
    runtime_name = k.runtime_name(isvc)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="nim-widget-access") as pool:
        runtime_f = (
            pool.submit(
                api.try_get, api_version=k.SR_API, kind=k.SR_KIND, name=runtime_name, namespace=namespace
            )
            if runtime_name
            else None
        )
        secrets_f = pool.submit(_token_secrets, api, namespace, AccessNames.of(name).service_account)
        runtime = runtime_f.result() if runtime_f is not None else None
        secrets = secrets_f.result()
    status = isvc.get("status") or {}
    image = k.parse_image(str(k.main_container(runtime).get("image") or ""))
    served = image.served_model or str((k.predictor_model(isvc).get("modelFormat") or {}).get("name") or name)
    external = k.labels_of(isvc).get(k.VISIBILITY_LABEL) == "exposed"
    token_auth = str(k.annotations_of(isvc).get(k.ENABLE_AUTH, "true")).lower() != "false"
    tokens = [
        Token(value=_decode((s.get("data") or {}).get("token")), secret_name=k.name_of(s)) for s in secrets
    ]
    return ModelAccess(
        name=name,
        url=str(status.get("url")) if external and status.get("url") else None,
        internal_url=((status.get("address") or {}).get("url")) or None,
        external=external,
        token_auth=token_auth,
        served_model=served,
        tokens=tuple(tokens),
        path="/v1/embeddings" if "embed" in image.name else "/v1/chat/completions",
    )


def _token_secrets(api: Api, namespace: str, service_account: str) -> list[dict[str, Any]]:
    try:
        secrets = api.list(api_version="v1", kind="Secret", namespace=namespace)
    except Forbidden:
        return []
    found = [
        s
        for s in secrets
        if s.get("type") == TOKEN_SECRET_TYPE
        and k.annotations_of(s).get(SA_NAME_ANNOTATION) == service_account
    ]
    return sorted(found, key=k.name_of)


def _decode(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
