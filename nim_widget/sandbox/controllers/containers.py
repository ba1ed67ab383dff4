"""The kubelet's checks on a container before and while it runs, with the messages it reports.

- ``config_error``: env / envFrom references to Secrets and ConfigMaps that do not exist or lack
  the key (``CreateContainerConfigError``: ``secret "x" not found``,
  ``couldn't find key K in Secret ns/x``);
- ``missing_volume_source``: secret / configMap volumes whose object is missing (``FailedMount``);
- ``ngc_key``: the NGC key a NIM container reads from ``NGC_API_KEY``;
- ``probe_error``: what a failing readiness probe reports while a NIM's port is still closed.
"""

from __future__ import annotations

import base64
import binascii

from .base import CONFIGMAPS, SECRETS, Obj, Store, as_dict, as_list, ns_of

NGC_KEY_ENV = "NGC_API_KEY"


def missing_volume_source(store: Store, pod: Obj) -> tuple[str, str] | None:
    for volume in as_list(as_dict(pod.get("spec")).get("volumes")):
        volume = as_dict(volume)
        secret = as_dict(volume.get("secret"))
        if secret and not secret.get("optional"):
            name = str(secret.get("secretName", ""))
            if store.try_get(SECRETS, ns_of(pod), name) is None:
                return str(volume.get("name", "")), f'secret "{name}" not found'
        cm = as_dict(volume.get("configMap"))
        if cm and not cm.get("optional"):
            name = str(cm.get("name", ""))
            if store.try_get(CONFIGMAPS, ns_of(pod), name) is None:
                return str(volume.get("name", "")), f'configmap "{name}" not found'
    return None


def config_error(store: Store, pod: Obj, spec: Obj) -> str | None:
    """What the kubelet says when an env reference cannot be resolved (CreateContainerConfigError)."""
    namespace = ns_of(pod)
    for env in as_list(spec.get("env")):
        source = as_dict(as_dict(env).get("valueFrom"))
        for kind_key, field_name, label in (
            (SECRETS, "secretKeyRef", "Secret"),
            (CONFIGMAPS, "configMapKeyRef", "ConfigMap"),
        ):
            ref = as_dict(source.get(field_name))
            if not ref or ref.get("optional"):
                continue
            name, key = str(ref.get("name", "")), str(ref.get("key", ""))
            obj = store.try_get(kind_key, namespace, name)
            if obj is None:
                return f'{label.lower()} "{name}" not found'
            data = as_dict(obj.get("data"))
            if key not in data and key not in as_dict(obj.get("binaryData")):
                return f"couldn't find key {key} in {label} {namespace}/{name}"
    for env_from in as_list(spec.get("envFrom")):
        env_from = as_dict(env_from)
        for kind_key, field_name, label in (
            (SECRETS, "secretRef", "secret"),
            (CONFIGMAPS, "configMapRef", "configmap"),
        ):
            ref = as_dict(env_from.get(field_name))
            if (
                ref
                and not ref.get("optional")
                and store.try_get(kind_key, namespace, str(ref.get("name", ""))) is None
            ):
                return f'{label} "{ref.get("name", "")}" not found'
    return None


def ngc_key(store: Store, pod: Obj, spec: Obj) -> str | None:
    """The NGC key a NIM container would read, or None for containers that are not NIMs."""
    for env in as_list(spec.get("env")):
        env = as_dict(env)
        if env.get("name") != NGC_KEY_ENV:
            continue
        if "value" in env:
            return str(env.get("value") or "")
        ref = as_dict(as_dict(env.get("valueFrom")).get("secretKeyRef"))
        secret = store.try_get(SECRETS, ns_of(pod), str(ref.get("name", "")))
        raw = as_dict(as_dict(secret or {}).get("data")).get(str(ref.get("key", "")))
        try:
            return base64.b64decode(str(raw or "")).decode().strip()
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return None


def probe_error(pod_ip: str, probe: Obj) -> str:
    http = as_dict(probe.get("httpGet"))
    tcp = as_dict(probe.get("tcpSocket"))
    port = http.get("port") or tcp.get("port") or 8000
    refused = f"dial tcp {pod_ip}:{port}: connect: connection refused"
    if http:
        scheme = str(http.get("scheme") or "HTTP").lower()
        return f'Get "{scheme}://{pod_ip}:{port}{http.get("path", "/")}": {refused}'
    if probe.get("exec"):
        return "command terminated with non-zero exit code"
    return refused
