"""Build one kubernetes `ApiClient` for one cluster, without touching the client's global state.

The official helpers (`load_kube_config()` without a configuration) install a process-wide default;
a notebook that talks to a sandbox and a real cluster, or tests running in parallel, would then
interfere. Every `Connection` owns a fresh `Configuration`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from kubernetes import client
from kubernetes import config as _config
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.incluster_config import InClusterConfigLoader as _InClusterConfigLoader
from urllib3.util.retry import Retry

from nim_widget.cluster.errors import ConnectionConfigError

# The config loaders have no type hints; name them as Any once instead of at every call.
config: Any = _config
InClusterConfigLoader: Any = _InClusterConfigLoader

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
_POOL_SIZE = 32  # the deploy batch runs about a dozen requests at once; a small pool would churn sockets

Source = Literal["kubeconfig", "in-cluster", "token"]


@dataclass(repr=False)
class Connection:
    """One cluster: the client, where it points and which namespace it defaults to."""

    api_client: client.ApiClient
    source: Source
    server: str
    context: str | None = None
    namespace: str | None = None
    _closed: bool = field(default=False, init=False)

    def describe(self) -> str:
        """One line for a UI header; never includes credentials."""
        if self.source == "kubeconfig":
            return f"context {self.context} at {self.server}"
        if self.source == "in-cluster":
            return f"in-cluster service account at {self.server}"
        return f"token at {self.server}"

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            api_client: Any = self.api_client
            api_client.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Connection({self.describe()}, namespace={self.namespace!r})"


def _fresh_configuration() -> client.Configuration:
    cfg = client.Configuration()
    cfg.connection_pool_maxsize = _POOL_SIZE
    # Re-dial only when no byte reached the server; anything else is decided by the Api layer,
    # which retries reads but never writes.
    cfg.retries = Retry(
        total=2,
        connect=2,
        read=0,
        status=0,
        other=0,
        redirect=0,
        raise_on_status=False,
        respect_retry_after_header=False,
    )
    return cfg


def _kubeconfig_paths(kubeconfig: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> str | None:
    if kubeconfig is not None:
        return os.fspath(kubeconfig)
    from_env = environ.get("KUBECONFIG")
    if from_env:
        existing = [p for p in from_env.split(os.pathsep) if p and Path(p).expanduser().exists()]
        return os.pathsep.join(existing) if existing else None
    default = Path("~/.kube/config").expanduser()
    return str(default) if default.exists() else None


def _sa_namespace(service_account_dir: Path) -> str | None:
    try:
        value = (service_account_dir / "namespace").read_text().strip()
    except OSError:
        return None
    return value or None


def _from_kubeconfig(path: str, context: str | None, verify_ssl: bool) -> Connection:
    cfg = _fresh_configuration()
    error: ConnectionConfigError | None = None
    try:
        config.load_kube_config(
            config_file=path, context=context, client_configuration=cfg, persist_config=False
        )
        contexts, current = config.list_kube_config_contexts(config_file=path)
    except (ConfigException, OSError, ValueError, TypeError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        error = ConnectionConfigError(detail=f"Cannot use kubeconfig {path}: {problem}")
    if error is not None:
        raise error
    chosen = next((c for c in contexts if c.get("name") == context), current) if context else current
    namespace = ((chosen or {}).get("context") or {}).get("namespace")
    if not verify_ssl:
        cfg.verify_ssl = False
    return Connection(
        api_client=client.ApiClient(cfg),
        source="kubeconfig",
        server=cfg.host,
        context=(chosen or {}).get("name"),
        namespace=namespace or "default",
    )


def _from_service_account(
    service_account_dir: Path, environ: Mapping[str, str], verify_ssl: bool
) -> Connection:
    cfg = _fresh_configuration()
    loader = InClusterConfigLoader(
        token_filename=str(service_account_dir / "token"),
        cert_filename=str(service_account_dir / "ca.crt"),
        environ=environ,
    )
    error: ConnectionConfigError | None = None
    try:
        loader.load_and_set(cfg)
    except (ConfigException, OSError) as exc:
        error = ConnectionConfigError(detail=f"Cannot use the in-cluster service account: {exc}")
    if error is not None:
        raise error
    if not verify_ssl:
        cfg.verify_ssl = False
    return Connection(
        api_client=client.ApiClient(cfg),
        source="in-cluster",
        server=cfg.host,
        namespace=_sa_namespace(service_account_dir),
    )


def connect(
    *,
    kubeconfig: str | os.PathLike[str] | None = None,
    context: str | None = None,
    server: str | None = None,
    token: str | None = None,
    in_cluster: bool | None = None,
    verify_ssl: bool = True,
    ca_cert: str | os.PathLike[str] | None = None,
    namespace: str | None = None,
    service_account_dir: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Connection:
    """Connect the way kubectl would, then fall back to the workbench's service account.

    Order: `server` (+ `token`) when given; the in-cluster service account when `in_cluster` is
    True; else the kubeconfig (`kubeconfig`, `$KUBECONFIG`, `~/.kube/config`) and, when none exists
    and `in_cluster` is not False, the service account (OpenShift AI workbenches have no kubeconfig).
    `namespace` overrides the namespace the kubeconfig context or service account names.
    """
    env = os.environ if environ is None else environ
    sa_dir = Path(service_account_dir) if service_account_dir is not None else SERVICE_ACCOUNT_DIR
    if server is not None:
        cfg = _fresh_configuration()
        cfg.host = server.rstrip("/")
        if token:
            cfg.api_key["BearerToken"] = token
            cfg.api_key_prefix["BearerToken"] = "Bearer"
        cfg.verify_ssl = verify_ssl
        if ca_cert is not None:
            cfg.ssl_ca_cert = os.fspath(ca_cert)
        conn = Connection(
            api_client=client.ApiClient(cfg),
            source="token",
            server=cfg.host,
            namespace=_sa_namespace(sa_dir),
        )
    elif in_cluster:
        conn = _from_service_account(sa_dir, env, verify_ssl)
    else:
        path = _kubeconfig_paths(kubeconfig, env)
        if path is not None:
            conn = _from_kubeconfig(path, context, verify_ssl)
        elif in_cluster is None and env.get("KUBERNETES_SERVICE_HOST"):
            conn = _from_service_account(sa_dir, env, verify_ssl)
        else:
            raise ConnectionConfigError(
                detail="No kubeconfig found (--kubeconfig, $KUBECONFIG, ~/.kube/config) "
                "and not running inside a cluster."
            )
    if namespace:
        conn.namespace = namespace
    return conn


def connect_client(*, api_client: client.ApiClient, namespace: str | None = None) -> Connection:
    """Wrap an existing client (for example `Sandbox.api_client()`), so callers keep one type."""
    cfg = api_client.configuration
    return Connection(api_client=api_client, source="token", server=cfg.host, namespace=namespace)
