"""nim-widget: deploy NVIDIA NIM models onto Kubernetes / OpenShift AI from a notebook.

The public surface, re-exported by hand. Names resolve lazily so that `nim-widget sandbox` or the engine
alone never pay for importing ipywidgets or the kubernetes client's typed APIs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "NimWizard": "nim_widget.ui",
    "NimDeployments": "nim_widget.ui",
    "DeploymentRequest": "nim_widget.request",
    "load_spec": "nim_widget.request",
    "dump_spec": "nim_widget.request",
    "assemble": "nim_widget.manifests",
    "Plan": "nim_widget.manifests",
    "connect": "nim_widget.cluster.connect",
    "Api": "nim_widget.cluster.api",
    "gather": "nim_widget.cluster.discovery",
    "NimWidgetError": "nim_widget.cluster.errors",
    "deploy": "nim_widget.deploy.orchestrator",
    "StepEvent": "nim_widget.deploy.steps",
    "ensure_connection": "nim_widget.demo",
    "Sandbox": "nim_widget.sandbox",
}

__all__ = [
    "Api",
    "DeploymentRequest",
    "NimDeployments",
    "NimWidgetError",
    "NimWizard",
    "Plan",
    "Sandbox",
    "StepEvent",
    "__version__",
    "assemble",
    "connect",
    "deploy",
    "dump_spec",
    "ensure_connection",
    "gather",
    "load_spec",
]

if TYPE_CHECKING:
    from nim_widget.cluster.api import Api
    from nim_widget.cluster.connect import connect
    from nim_widget.cluster.discovery import gather
    from nim_widget.cluster.errors import NimWidgetError
    from nim_widget.demo import ensure_connection
    from nim_widget.deploy.orchestrator import deploy
    from nim_widget.deploy.steps import StepEvent
    from nim_widget.manifests import Plan, assemble
    from nim_widget.request import DeploymentRequest, dump_spec, load_spec
    from nim_widget.sandbox import Sandbox
    from nim_widget.ui import NimDeployments, NimWizard


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nim_widget' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
