"""Helpers for driving a real NimWizard against the sandbox, as a person would through the widgets."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any, cast

import ipywidgets as widgets
from ipywidgets.widgets.widget import _instances
from kubernetes import client

from nim_widget.cluster.connect import connect_client
from nim_widget.sandbox import Sandbox
from nim_widget.ui import NimWizard
from nim_widget.ui.worker import inline_runner


def make_wizard(sandbox: Sandbox, *, project: str = "demo", **kwargs: Any) -> NimWizard:
    """A wizard on the sandbox over HTTP, jobs run inline, time taken from the sandbox's clock."""
    configuration = sandbox.configuration()
    connection = connect_client(api_client=client.ApiClient(configuration), namespace=project)
    kwargs.setdefault("runner", inline_runner)
    kwargs.setdefault("demo", True)
    return NimWizard(
        connection=connection,
        clock=lambda: datetime.fromtimestamp(sandbox.clock.now(), UTC),
        **kwargs,
    )


def live_widgets() -> list[widgets.Widget]:
    return list(_instances.values())


def all_state_json() -> str:
    """Every live widget's synchronised state, as a notebook saving widget state would store it."""
    states = []
    for widget in live_widgets():
        state = widget.get_state()
        states.append(json.dumps(state, default=str, ensure_ascii=False))
    return "\n".join(states)


def html_values() -> list[str]:
    return [str(w.value) for w in live_widgets() if isinstance(w, widgets.HTML)]


def step_state(wizard: NimWizard, step: int) -> str:
    value = str(wizard.progress.rows[step - 1].value)
    marker = 'data-state="'
    start = value.index(marker) + len(marker)
    return value[start : value.index('"', start)]


def secret_values(core: client.CoreV1Api, *, namespace: str, name: str) -> list[str]:
    """A Secret's data as stored (base64) and decoded, plus JSON-embedded passwords."""
    secret = core.read_namespaced_secret(name=name, namespace=namespace)
    values: list[str] = []
    for raw in (secret.data or {}).values():
        encoded = raw.decode("ascii") if isinstance(raw, bytes) else raw
        decoded = base64.b64decode(encoded).decode("utf-8")
        values += [encoded, decoded]
        try:
            parsed = json.loads(decoded)
        except ValueError:
            continue
        for auth in (parsed.get("auths") or {}).values():
            values += [str(v) for k, v in auth.items() if k in ("password", "auth")]
    return [v for v in values if len(v) >= 8]


def create_project(core: client.CoreV1Api, name: str) -> None:
    core.create_namespace(
        body=cast(
            Any,
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": name, "labels": {"opendatahub.io/dashboard": "true"}},
            },
        )
    )


def create_account(
    core: client.CoreV1Api, custom: client.CustomObjectsApi, *, namespace: str, key: str
) -> None:
    """What the dashboard's "Enable NVIDIA NIM" does in a project: the key Secret and the Account."""
    core.create_namespaced_secret(
        namespace=namespace,
        body=cast(
            Any,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {"name": "nvidia-nim-secrets", "namespace": namespace},
                "data": {"api_key": base64.b64encode(key.encode()).decode()},
            },
        ),
    )
    custom.create_namespaced_custom_object(
        group="nim.opendatahub.io",
        version="v1",
        namespace=namespace,
        plural="accounts",
        body={
            "apiVersion": "nim.opendatahub.io/v1",
            "kind": "Account",
            "metadata": {"name": "odh-nim-account", "namespace": namespace},
            "spec": {"apiKeySecret": {"name": "nvidia-nim-secrets"}},
        },
    )
