"""A kubeconfig pointing at a running sandbox, for kubectl and for ``config.load_kube_config``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml


def kubeconfig(
    *,
    url: str,
    namespace: str = "demo",
    context: str = "nim-sandbox",
    user: str = "demo-user",
    token: str | None = None,
) -> dict[str, Any]:
    cluster = context
    user_entry: dict[str, Any] = {"token": token} if token else {}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": cluster, "cluster": {"server": url}}],
        "users": [{"name": user, "user": user_entry}],
        "contexts": [
            {"name": context, "context": {"cluster": cluster, "user": user, "namespace": namespace}}
        ],
        "current-context": context,
    }


def write_kubeconfig(
    path: str | os.PathLike[str],
    *,
    url: str,
    namespace: str = "demo",
    context: str = "nim-sandbox",
    user: str = "demo-user",
    token: str | None = None,
) -> Path:
    """Write the file with owner-only permissions, since it may hold the sandbox's bearer token."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(
        kubeconfig(url=url, namespace=namespace, context=context, user=user, token=token), sort_keys=False
    )
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return target
