"""The "account" controller: odh-model-controller's NIM Account reconciler.

In the order the real handlers run, each step a separate status update a UI can watch:
1. add the ``runtimes.opendatahub.io/nim-cleanup-finalizer`` finalizer;
2. read the key from the Secret named by ``spec.apiKeySecret`` (data key ``api_key``) and validate
   it (``images.api_key_is_valid``: in the sandbox a personal ``nvapi-`` key is valid unless it
   contains ``invalid``) -> ``APIKeyValidation`` ``ApiKeyValidated`` and
   ``lastSuccessfulValidation``; a rejected key deletes the ConfigMap, Template and pull Secret,
   clears the three status references and reports ``ApiKeyNotValidated`` / ``AccountNotSuccessful``
   with ``api key failed validation``;
3. the catalog ConfigMap ``<account>-cm`` -> ``ConfigMapUpdate``, ``lastSuccessfulConfigRefresh``;
4. the runtime Template ``<account>-template`` -> ``TemplateUpdate``;
5. the pull Secret ``<account>-pull`` (``.dockerconfigjson`` for ``nvcr.io``) -> ``SecretUpdate``;
6. ``AccountStatus`` ``AccountSuccessful`` "the account is healthy" and ``lastAccountCheck``.
The three objects carry ``opendatahub.io/managed: "true"`` and a controller ownerReference to the
Account. The catalog and the template are those of the demo world (``world.load_world``), so a
project enabled at run time offers the same models as the seeded one.

Like the real controller (which filters out status-only updates), it reacts to the Account being
created, its spec changing or its deletion, to its key Secret changing (the dashboard's
``runtimes.opendatahub.io/nim-force-validation`` annotation forces a new validation and is removed
afterwards) and to its owned objects changing; a healthy Account is left alone.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from .base import (
    ACCOUNTS,
    CONFIGMAPS,
    SECRETS,
    TEMPLATES,
    Controller,
    Obj,
    Runtime,
    WorkQueue,
    annotations_of,
    as_dict,
    as_list,
    deleting,
    meta,
    mutate,
    name_of,
    ns_of,
    object_reference,
    owner_reference,
    try_delete,
    write_status,
)
from .images import NGC_REGISTRY, api_key_is_valid

FINALIZER = "runtimes.opendatahub.io/nim-cleanup-finalizer"
FORCE_VALIDATION = "runtimes.opendatahub.io/nim-force-validation"
MANAGED = {"opendatahub.io/managed": "true"}
FAILED_VALIDATION = "api key failed validation"

# status reference field -> (store kind, name suffix)
_REFS = {
    "nimConfig": (CONFIGMAPS, "-cm"),
    "runtimeTemplate": (TEMPLATES, "-template"),
    "nimPullSecret": (SECRETS, "-pull"),
}
_CONDITION_TYPES = ("AccountStatus", "TemplateUpdate", "SecretUpdate", "ConfigMapUpdate", "APIKeyValidation")


@lru_cache(maxsize=1)
def seed_resources() -> tuple[dict[str, str], tuple[Obj, ...], tuple[Obj, ...]]:
    """Catalog data, template objects and template parameters of the demo world's account."""
    from ..world import load_world

    objects = load_world(name="demo")
    account = next(o for o in objects if o.get("kind") == "Account")
    status = as_dict(account.get("status"))
    cm_name = as_dict(status.get("nimConfig")).get("name") or f"{name_of(account)}-cm"
    template_name = as_dict(status.get("runtimeTemplate")).get("name") or f"{name_of(account)}-template"
    cm = next(o for o in objects if o.get("kind") == "ConfigMap" and name_of(o) == cm_name)
    template = next(o for o in objects if o.get("kind") == "Template" and name_of(o) == template_name)
    return (
        {str(k): str(v) for k, v in as_dict(cm.get("data")).items()},
        tuple(copy.deepcopy(as_dict(o)) for o in as_list(template.get("objects"))),
        tuple(copy.deepcopy(as_dict(p)) for p in as_list(template.get("parameters"))),
    )


def pull_secret_data(api_key: str) -> str:
    """``.dockerconfigjson`` as the controller marshals it (Go sorts map keys, no spaces)."""
    config = {"auths": {NGC_REGISTRY: {"password": api_key, "username": "$oauthtoken"}}}
    return base64.b64encode(json.dumps(config, separators=(",", ":"), sort_keys=True).encode()).decode()


def _secret_value(secret: Obj, key: str) -> str | None:
    string_data = as_dict(secret.get("stringData"))
    if key in string_data:
        return str(string_data[key])
    raw = as_dict(secret.get("data")).get(key)
    if raw is None:
        return None
    try:
        return base64.b64decode(str(raw)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""


def _registry_login(encoded: str) -> tuple[str, str] | None:
    """The ``nvcr.io`` user and password in a ``.dockerconfigjson``, compared by meaning not bytes."""
    try:
        auths = as_dict(as_dict(json.loads(base64.b64decode(encoded))).get("auths"))
    except (binascii.Error, ValueError):
        return None
    entry = as_dict(auths.get(NGC_REGISTRY))
    return (str(entry.get("username", "")), str(entry.get("password", ""))) if entry else None


def _find(conditions: list[Any], ctype: str) -> Obj | None:
    for cond in conditions:
        if as_dict(cond).get("type") == ctype:
            return as_dict(cond)
    return None


def _is_true(status: Obj, ctype: str) -> bool:
    cond = _find(as_list(status.get("conditions")), ctype)
    return cond is not None and cond.get("status") == "True"


class AccountController(Controller):
    name = "account"

    def __init__(self, rt: Runtime) -> None:
        super().__init__(rt)
        self._queue = WorkQueue(rt, self.reconcile)
        self._busy: set[tuple[str, str]] = set()  # a timed step is in flight
        self._dirty: set[tuple[str, str]] = set()  # something changed while it was
        self._generations: dict[str, Any] = {}

    # ------------------------------------------------------------ store events

    def on_event(self, event: str, kind_key: str, obj: Obj) -> None:
        if kind_key == ACCOUNTS:
            uid = str(meta(obj).get("uid", ""))
            if event == "DELETED":
                self._generations.pop(uid, None)
                return
            generation = meta(obj).get("generation")
            if event == "ADDED" or deleting(obj) or self._generations.get(uid) != generation:
                self._generations[uid] = generation
                self.enqueue(ns_of(obj), name_of(obj))
            return
        if kind_key == SECRETS and event != "DELETED":
            for account in self.store.list(ACCOUNTS, ns_of(obj))[0]:
                ref = as_dict(as_dict(account.get("spec")).get("apiKeySecret"))
                if ref.get("name") == name_of(obj) and (ref.get("namespace") or ns_of(account)) == ns_of(obj):
                    self.enqueue(ns_of(account), name_of(account))
        if kind_key in (CONFIGMAPS, SECRETS, TEMPLATES):
            for ref in as_list(meta(obj).get("ownerReferences")):
                ref = as_dict(ref)
                if ref.get("kind") == "Account" and ref.get("controller"):
                    self.enqueue(ns_of(obj), str(ref.get("name", "")))

    def enqueue(self, namespace: str, name: str) -> None:
        self._queue.add(namespace, name, self.timings.finalizer)

    def _after(self, key: tuple[str, str], delay: float, step: Callable[[Obj], bool]) -> None:
        """Run one handler after the time its real work (an NGC call, an apply) takes."""
        self._busy.add(key)

        def run() -> None:
            self._busy.discard(key)
            account = self.store.try_get(ACCOUNTS, key[0], key[1])
            if account is None or deleting(account):
                self.enqueue(*key)
                return
            if step(account) or key in self._dirty:
                self.enqueue(*key)  # the real handlers requeue after every successful step
            self._dirty.discard(key)

        self.rt.later(delay, run)

    # ------------------------------------------------------------ reconcile

    def reconcile(self, namespace: str, name: str) -> None:
        key = (namespace, name)
        if key in self._busy:
            self._dirty.add(key)
            return
        account = self.store.try_get(ACCOUNTS, namespace, name)
        if account is None:
            return
        if deleting(account):
            self._finalize(account)
            return
        if FINALIZER not in as_list(meta(account).get("finalizers")):

            def add(obj: Obj) -> bool:
                finalizers = meta(obj).setdefault("finalizers", [])
                if FINALIZER in finalizers:
                    return False
                finalizers.append(FINALIZER)
                return True

            mutate(self.store, ACCOUNTS, namespace, name, add)
            self.enqueue(namespace, name)
            return
        secret = self._key_secret(account)
        if secret is None:
            return  # the real controller waits for the Secret's creation to trigger it
        api_key = _secret_value(secret, "api_key")
        status = as_dict(account.get("status"))
        if api_key is None:
            self._fail(account, "failed to find api key data in secret", validation=False)
            return
        api_key = api_key.strip()
        forced = FORCE_VALIDATION in annotations_of(secret)
        if forced or not _is_true(status, "APIKeyValidation") or not status.get("lastSuccessfulValidation"):
            self._after(key, self.timings.validation, lambda a: self._validate(a, api_key, forced))
            return
        if self._needs_configmap(account, status):
            self._after(key, self.timings.catalog, self._apply_configmap)
            return
        if self._needs(account, status, "runtimeTemplate", "TemplateUpdate"):
            self._after(key, self.timings.template, self._apply_template)
            return
        if self._needs_pull_secret(account, status, api_key):
            self._after(key, self.timings.pull_secret, lambda a: self._apply_pull_secret(a, api_key))
            return
        if not _is_true(status, "AccountStatus"):
            new = copy.deepcopy(status)
            self._set(account, new, "AccountStatus", "True", "AccountSuccessful", "the account is healthy")
            new["lastAccountCheck"] = self.rt.now()
            write_status(self.store, ACCOUNTS, namespace, name, new)

    def _key_secret(self, account: Obj) -> Obj | None:
        ref = as_dict(as_dict(account.get("spec")).get("apiKeySecret"))
        if not ref.get("name"):
            return None
        return self.store.try_get(SECRETS, str(ref.get("namespace") or ns_of(account)), str(ref["name"]))

    def _set(self, account: Obj, status: Obj, ctype: str, value: str, reason: str, message: str) -> None:
        """``meta.SetStatusCondition``: the transition time moves only when the status changes."""
        conditions = as_list(status.get("conditions"))
        status["conditions"] = conditions
        generation = meta(account).get("generation", 1)
        existing = _find(conditions, ctype)
        if existing is None:
            conditions.append(
                {
                    "type": ctype,
                    "status": value,
                    "observedGeneration": generation,
                    "lastTransitionTime": self.rt.now(),
                    "reason": reason,
                    "message": message,
                }
            )
            return
        if existing.get("status") != value:
            existing["lastTransitionTime"] = self.rt.now()
        existing.update(
            {"status": value, "reason": reason, "message": message, "observedGeneration": generation}
        )

    # ------------------------------------------------------------ handlers

    def _clear_force_annotation(self, account: Obj) -> None:
        ref = as_dict(as_dict(account.get("spec")).get("apiKeySecret"))

        def drop(obj: Obj) -> bool:
            annotations = as_dict(meta(obj).get("annotations"))
            if FORCE_VALIDATION not in annotations:
                return False
            del annotations[FORCE_VALIDATION]
            return True

        mutate(
            self.store, SECRETS, str(ref.get("namespace") or ns_of(account)), str(ref.get("name", "")), drop
        )

    def _validate(self, account: Obj, api_key: str, forced: bool) -> bool:
        if forced:
            self._clear_force_annotation(account)
        if not api_key_is_valid(api_key):
            self._fail(account, FAILED_VALIDATION, validation=True)
            return False  # no requeue for a rejected key
        status = copy.deepcopy(as_dict(account.get("status")))
        self._set(
            account, status, "APIKeyValidation", "True", "ApiKeyValidated", "api key validated successfully"
        )
        status["lastSuccessfulValidation"] = self.rt.now()
        write_status(self.store, ACCOUNTS, ns_of(account), name_of(account), status)
        return True

    def _fail(self, account: Obj, message: str, *, validation: bool) -> None:
        """``makeCleanStatusForAccountFailure``: objects deleted, references cleared, reasons set."""
        self._cleanup(account)
        status = copy.deepcopy(as_dict(account.get("status")))
        for field in _REFS:
            status.pop(field, None)
        status["lastAccountCheck"] = self.rt.now()
        status["conditions"] = []
        if validation:
            self._set(account, status, "APIKeyValidation", "False", "ApiKeyNotValidated", message)
        for ctype in _CONDITION_TYPES:
            if _find(status["conditions"], ctype) is not None:
                continue
            if ctype == "AccountStatus":
                self._set(account, status, ctype, "False", "AccountNotSuccessful", message)
            else:
                self._set(account, status, ctype, "Unknown", "NotReconciled", message)
        write_status(self.store, ACCOUNTS, ns_of(account), name_of(account), status)

    def _owned_object(self, account: Obj, field: str) -> Obj | None:
        kind_key, suffix = _REFS[field]
        ref = as_dict(as_dict(account.get("status")).get(field))
        return self.store.try_get(kind_key, ns_of(account), str(ref.get("name") or name_of(account) + suffix))

    def _needs(self, account: Obj, status: Obj, field: str, ctype: str) -> bool:
        return (
            not status.get(field) or not _is_true(status, ctype) or self._owned_object(account, field) is None
        )

    def _needs_configmap(self, account: Obj, status: Obj) -> bool:
        if self._needs(account, status, "nimConfig", "ConfigMapUpdate"):
            return True
        refreshed = str(status.get("lastSuccessfulConfigRefresh") or "")
        return not refreshed or str(status.get("lastSuccessfulValidation") or "") > refreshed

    def _needs_pull_secret(self, account: Obj, status: Obj, api_key: str) -> bool:
        if self._needs(account, status, "nimPullSecret", "SecretUpdate"):
            return True
        secret = self._owned_object(account, "nimPullSecret") or {}
        return _registry_login(str(as_dict(secret.get("data")).get(".dockerconfigjson", ""))) != (
            "$oauthtoken",
            api_key,
        )

    def _apply(self, account: Obj, kind_key: str, desired: Obj) -> Obj:
        """Server-side apply with ``Force``: our fields win, labels are merged."""
        namespace, name = ns_of(account), name_of(desired)
        existing = self.store.try_get(kind_key, namespace, name)
        if existing is None:
            return self.store.create(kind_key, desired)

        def change(obj: Obj) -> bool:
            before = copy.deepcopy(obj)
            m = meta(obj)
            m["labels"] = {**as_dict(m.get("labels")), **MANAGED}
            if as_dict(desired["metadata"]).get("annotations"):
                m["annotations"] = {**as_dict(m.get("annotations")), **desired["metadata"]["annotations"]}
            m["ownerReferences"] = desired["metadata"]["ownerReferences"]
            for field in ("data", "type", "objects", "parameters"):
                if field in desired:
                    obj[field] = copy.deepcopy(desired[field])
            return obj != before

        return mutate(self.store, kind_key, namespace, name, change) or existing

    def _desired_meta(self, account: Obj, suffix: str, annotations: dict[str, str] | None = None) -> Obj:
        m: Obj = {
            "name": f"{name_of(account)}{suffix}",
            "namespace": ns_of(account),
            "labels": dict(MANAGED),
            "ownerReferences": [owner_reference(account)],
        }
        if annotations:
            m["annotations"] = annotations
        return m

    def _record(
        self,
        account: Obj,
        field: str,
        obj: Obj,
        ctype: str,
        reason: str,
        message: str,
        extra: dict[str, str] | None = None,
    ) -> bool:
        status = copy.deepcopy(as_dict(account.get("status")))
        status[field] = object_reference(obj)
        status.update(extra or {})
        self._set(account, status, ctype, "True", reason, message)
        write_status(self.store, ACCOUNTS, ns_of(account), name_of(account), status)
        return True

    def _apply_configmap(self, account: Obj) -> bool:
        data, _, _ = seed_resources()
        desired = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": self._desired_meta(account, "-cm"),
            "data": dict(data),
        }
        cm = self._apply(account, CONFIGMAPS, desired)
        return self._record(
            account,
            "nimConfig",
            cm,
            "ConfigMapUpdate",
            "ConfigMapUpdated",
            "nim config reconciled successfully",
            {"lastSuccessfulConfigRefresh": self.rt.now()},
        )

    def _apply_template(self, account: Obj) -> bool:
        _, objects, parameters = seed_resources()
        desired = {
            "apiVersion": "template.openshift.io/v1",
            "kind": "Template",
            "metadata": self._desired_meta(
                account,
                "-template",
                {"opendatahub.io/apiProtocol": "REST", "opendatahub.io/modelServingSupport": '["single"]'},
            ),
            "objects": [copy.deepcopy(o) for o in objects],
            "parameters": [copy.deepcopy(p) for p in parameters],
        }
        template = self._apply(account, TEMPLATES, desired)
        return self._record(
            account,
            "runtimeTemplate",
            template,
            "TemplateUpdate",
            "TemplateUpdated",
            "runtime template reconciled successfully",
        )

    def _apply_pull_secret(self, account: Obj, api_key: str) -> bool:
        desired = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": self._desired_meta(account, "-pull"),
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": pull_secret_data(api_key)},
        }
        secret = self._apply(account, SECRETS, desired)
        return self._record(
            account,
            "nimPullSecret",
            secret,
            "SecretUpdate",
            "SecretUpdated",
            "pull secret reconciled successfully",
        )

    # ------------------------------------------------------------ deletion

    def _cleanup(self, account: Obj) -> None:
        uid = meta(account).get("uid")
        for field in _REFS:
            obj = self._owned_object(account, field)
            if obj is None:
                continue
            owners = [as_dict(r).get("uid") for r in as_list(meta(obj).get("ownerReferences"))]
            ref_name = as_dict(as_dict(account.get("status")).get(field)).get("name")
            if uid in owners or ref_name == name_of(obj):
                try_delete(self.store, _REFS[field][0], ns_of(obj), name_of(obj))

    def _finalize(self, account: Obj) -> None:
        if FINALIZER not in as_list(meta(account).get("finalizers")):
            return
        self._cleanup(account)

        def drop(obj: Obj) -> bool:
            finalizers = as_list(meta(obj).get("finalizers"))
            if FINALIZER not in finalizers:
                return False
            meta(obj)["finalizers"] = [f for f in finalizers if f != FINALIZER]
            return True

        mutate(self.store, ACCOUNTS, ns_of(account), name_of(account), drop)
