"""A cluster connection for notebooks and the app: a real one when configured, else the demo cluster.

Notebooks call :func:`ensure_connection` in their first cell so they run anywhere: on a workbench,
on a laptop with a kubeconfig, in CI and on Binder with nothing configured. The demo cluster is the
package's sandbox with the demo world on a real clock, reached over HTTP through a generated
kubeconfig, so the demo exercises the same connection and engine code as a real cluster.

Environment contract (set by `nim-widget app`, `binder/start`, CI, or by hand):

``NIM_WIDGET_DEMO``
    ``1``/``true``/``yes``/``on``: use the demo cluster whatever else is configured (CI sets it so
    a developer's kubeconfig is never touched by tests). ``0``/``false``/``no``/``off``: never fall
    back to the demo (a missing configuration is an error). Unset or empty: the demo only when no
    kubeconfig (``$KUBECONFIG``, ``~/.kube/config``) and no in-cluster service account exists.
``NIM_WIDGET_DEMO_KUBECONFIG``
    The kubeconfig of a demo sandbox that is already running (started by the app launcher or by
    ``binder/start``). With the demo on, kernels connect to it instead of starting their own, so
    every page shows the same demo cluster and a test can inspect what the page deployed.
``NIM_WIDGET_DEMO_REASON``
    Why the launcher chose the demo (e.g. nothing was configured); the app shows it on the page.
``NIM_WIDGET_CONTEXT`` / ``NIM_WIDGET_NAMESPACE``
    The kubeconfig context and the project the app opens on (`nim-widget app --context/--namespace`).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from nim_widget.cluster.connect import SERVICE_ACCOUNT_DIR, Connection, connect

if TYPE_CHECKING:
    from nim_widget.sandbox import Sandbox

ENV_DEMO = "NIM_WIDGET_DEMO"
ENV_DEMO_KUBECONFIG = "NIM_WIDGET_DEMO_KUBECONFIG"
ENV_DEMO_REASON = "NIM_WIDGET_DEMO_REASON"
ENV_CONTEXT = "NIM_WIDGET_CONTEXT"
ENV_NAMESPACE = "NIM_WIDGET_NAMESPACE"

DEMO_NAMESPACE = "demo"
NO_CONFIGURATION_REASON = (
    "No kubeconfig or in-cluster configuration was found, so this runs on the built-in demo cluster; "
    "nothing reaches a real cluster."
)

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def demo_setting(*, environ: Mapping[str, str] | None = None) -> bool | None:
    """``NIM_WIDGET_DEMO`` as True (force the demo), False (never the demo) or None (decide)."""
    env = os.environ if environ is None else environ
    raw = env.get(ENV_DEMO, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    if raw:
        raise ValueError(f"{ENV_DEMO}={env[ENV_DEMO]!r}: use 1 or 0 (true/false, yes/no, on/off)")
    return None


def find_configuration(
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    service_account_dir: Path = SERVICE_ACCOUNT_DIR,
) -> str | None:
    """Describe the real cluster configuration `connect()` would use, or None when there is none.

    Mirrors `connect()`'s order (kubeconfig, then service account) but only looks at files, so the
    launcher can decide before anything talks to a cluster. A service account counts only when its
    token is mounted: a pod without one would fail to connect, and the demo is the better answer.
    """
    env = os.environ if environ is None else environ
    from_env = env.get("KUBECONFIG")
    if from_env:
        existing = [p for p in from_env.split(os.pathsep) if p and Path(p).expanduser().is_file()]
        if existing:
            return f"kubeconfig {os.pathsep.join(existing)}"
    else:
        default = (home if home is not None else Path.home()) / ".kube" / "config"
        if default.is_file():
            return f"kubeconfig {default}"
    if env.get("KUBERNETES_SERVICE_HOST") and (service_account_dir / "token").is_file():
        return "in-cluster service account"
    return None


def demo_environment(*, kubeconfig: Path, reason: str | None = None) -> dict[str, str]:
    """The variables that point kernels at an already-running demo sandbox (see the module docs)."""
    env = {
        "KUBECONFIG": str(kubeconfig),
        ENV_DEMO: "1",
        ENV_DEMO_KUBECONFIG: str(kubeconfig),
    }
    if reason:
        env[ENV_DEMO_REASON] = reason
    return env


def demo_reason(*, environ: Mapping[str, str] | None = None) -> str | None:
    """The launcher's explanation for running on the demo cluster, if it gave one."""
    env = os.environ if environ is None else environ
    return env.get(ENV_DEMO_REASON) or None


class _KernelSandbox:
    """The one demo sandbox a kernel starts for itself, stopped when the interpreter exits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sandbox: Sandbox | None = None
        self._kubeconfig: Path | None = None
        self._atexit = False

    def kubeconfig(self) -> Path:
        with self._lock:
            if self._kubeconfig is None:
                from nim_widget.sandbox import RealClock, Sandbox

                sandbox = Sandbox(world="demo", clock=RealClock(), controllers=True)
                sandbox.start()
                workdir = Path(tempfile.mkdtemp(prefix="nim-widget-demo-"))
                path = workdir / "kubeconfig"
                sandbox.write_kubeconfig(path, namespace=DEMO_NAMESPACE)
                self._sandbox, self._kubeconfig = sandbox, path
                if not self._atexit:
                    atexit.register(self.stop)
                    self._atexit = True
            return self._kubeconfig

    @property
    def sandbox(self) -> Sandbox | None:
        return self._sandbox

    def stop(self) -> None:
        with self._lock:
            sandbox, path = self._sandbox, self._kubeconfig
            self._sandbox = self._kubeconfig = None
        if sandbox is not None:
            sandbox.stop()
        if path is not None:
            shutil.rmtree(path.parent, ignore_errors=True)


_KERNEL_SANDBOX = _KernelSandbox()


def kernel_sandbox() -> Sandbox | None:
    """The sandbox this process started for the demo, if any (tests use it to inject faults)."""
    return _KERNEL_SANDBOX.sandbox


def stop_kernel_sandbox() -> None:
    """Stop this process's demo sandbox now rather than at exit; the next demo connection starts a new one."""
    _KERNEL_SANDBOX.stop()


def ensure_connection(
    *,
    kubeconfig: str | os.PathLike[str] | None = None,
    context: str | None = None,
    namespace: str | None = None,
    demo: bool | None = None,
) -> tuple[Connection, bool]:
    """Connect to the configured cluster, or to the demo cluster; returns ``(connection, is_demo)``.

    Which one: ``demo`` when given; else ``NIM_WIDGET_DEMO`` when set; else the demo only when no
    real configuration exists (explicit ``kubeconfig``/``context`` count as one). In demo mode a
    sandbox announced through ``NIM_WIDGET_DEMO_KUBECONFIG`` is reused, otherwise one is started in
    this process (once; later calls share it). ``namespace`` defaults to ``NIM_WIDGET_NAMESPACE``,
    then to the kubeconfig context's namespace (``demo`` on the demo cluster).
    """
    env = os.environ
    use_demo = demo if demo is not None else demo_setting(environ=env)
    if use_demo is None:
        explicit = kubeconfig is not None or context is not None
        use_demo = not explicit and find_configuration(environ=env) is None
    namespace = namespace or env.get(ENV_NAMESPACE) or None
    if use_demo:
        shared = env.get(ENV_DEMO_KUBECONFIG)
        # The launcher's sandbox when it is still there (its kubeconfig goes with it), else our own.
        path = Path(shared) if shared and Path(shared).is_file() else _KERNEL_SANDBOX.kubeconfig()
        return connect(kubeconfig=path, namespace=namespace, in_cluster=False), True
    return (
        connect(
            kubeconfig=kubeconfig,
            context=context or env.get(ENV_CONTEXT) or None,
            namespace=namespace,
        ),
        False,
    )
