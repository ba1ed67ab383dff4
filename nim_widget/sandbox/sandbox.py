"""The Sandbox: one local Kubernetes API server, its world and its simulated controllers.

Start order matters and mirrors a real cluster coming up: the kinds are registered, the store
exists, the controllers are watching, and only then is the world created through the same store
API clients use, so controllers see the world's objects arrive as they would on a cluster.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection
from pathlib import Path
from types import TracebackType
from typing import Any

from .access import Access
from .clock import Clock, RealClock
from .faults import Faults
from .kinds import DEFAULT_KINDS, Kind, Registry
from .kubeconfig import write_kubeconfig
from .requestlog import RequestLog
from .server import ApiServer, HttpServer
from .store import Store, clone


class Sandbox:
    def __init__(
        self,
        *,
        world: str | None = "demo",
        clock: Clock | None = None,
        controllers: bool | Collection[str] = True,
        token: str | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        user: str = "demo-user",
        history: int = 10_000,
    ) -> None:
        self.world = world
        self.clock: Clock = clock if clock is not None else RealClock()
        self._owns_clock = clock is None
        self.registry = Registry(DEFAULT_KINDS)
        # history: how many recent changes a watch can resume from before it gets 410 Expired
        self.store = Store(registry=self.registry, clock=self.clock, history=history)
        self.access = Access(user=user, token=token)
        self.faults = Faults()
        self.log = RequestLog()
        self.token = token
        self._controllers_wanted = controllers
        self._controllers: Any = None
        self._host, self._port = host, port
        self._http: HttpServer | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Sandbox:
        if self._http is not None:
            return self
        if self._controllers_wanted:
            self._controllers = _install_controllers(self.store, self.clock, self._controllers_wanted)
        if self.world is not None:
            self._load_world(self.world)
        app = ApiServer(
            store=self.store,
            registry=self.registry,
            access=self.access,
            faults=self.faults,
            log=self.log,
            clock=self.clock,
        )
        self._http = HttpServer(app=app, host=self._host, port=self._port)
        self._http.start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()
            self._http = None
        if self._controllers is not None:
            self._controllers.stop()
            self._controllers = None
        if self._owns_clock and isinstance(self.clock, RealClock):
            self.clock.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _load_world(self, name: str) -> None:
        for obj in _world_objects(name):
            kind = self.registry.by_kind(obj["apiVersion"], obj["kind"])
            if kind is None:
                raise ValueError(f"world {name!r}: no kind {obj['apiVersion']}/{obj['kind']} is registered")
            self.store.create(kind.key, obj)

    # ------------------------------------------------------------ clients

    @property
    def url(self) -> str:
        if self._http is None:
            raise RuntimeError("the sandbox is not running; call start() or use it as a context manager")
        return self._http.url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def configuration(self) -> Any:
        """A fresh ``kubernetes.client.Configuration``; never the global default one."""
        from kubernetes import client

        config = client.Configuration()
        config.host = self.url
        # the engine runs a dozen requests at once (dry-run and write batches, watches): urllib3's default
        # pool of 10 would log "pool is full" and reconnect
        config.connection_pool_maxsize = 32
        if self.token:
            config.api_key = {"BearerToken": self.token}
            config.api_key_prefix = {"BearerToken": "Bearer"}
        return config

    def api_client(self) -> Any:
        from kubernetes import client

        return client.ApiClient(self.configuration())

    def write_kubeconfig(
        self, path: str | os.PathLike[str], *, namespace: str = "demo", context: str = "nim-sandbox"
    ) -> Path:
        return write_kubeconfig(
            path, url=self.url, namespace=namespace, context=context, user=self.access.user, token=self.token
        )

    def register_kind(self, kind: Kind) -> Kind:
        return self.registry.register(kind)


_WORLDS: dict[str, list[dict[str, Any]]] = {}
_WORLDS_LOCK = threading.Lock()


def _world_objects(name: str) -> list[dict[str, Any]]:
    """The world's objects, parsed once per process (YAML parsing dominates a sandbox's start-up)."""
    with _WORLDS_LOCK:
        if name not in _WORLDS:
            from .world import load_world

            _WORLDS[name] = load_world(name=name)
        return [clone(obj) for obj in _WORLDS[name]]


def _install_controllers(store: Store, clock: Clock, enabled: bool | Collection[str]) -> Any:
    try:
        from .controllers import install
    except ImportError as exc:  # the controllers package is optional while the sandbox is assembled
        if "controllers" not in str(exc):
            raise
        return None
    return install(store=store, clock=clock, enabled=enabled)
