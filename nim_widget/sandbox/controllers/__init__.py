"""Simulated cluster controllers, switchable by name and driven only by the injectable clock.

``install`` subscribes the chosen controllers to the store; from then on they react to every
write (HTTP clients, the world loader, each other) and schedule their next steps with
``clock.call_later``. On a ``FakeClock`` nothing moves until a test calls ``advance``; on a
``RealClock`` the clock's thread moves the demo cluster along. Names:

- ``storage``: default StorageClass, PVC protection, Pending -> Bound, expansion (``storage.py``);
- ``inference``: KServe, Deployments, the scheduler and the kubelets: InferenceService status,
  predictor pods and their Events (``inference.py``, ``kubelet.py``, ``scheduler.py``);
- ``account``: the NIM Account reconciler of odh-model-controller (``account.py``).

Garbage collection of dependents is the store's job, not a controller's.

How a deployment's stages show, as on a real cluster (so a UI reads the same fields there):

- waiting for storage: the claim is ``Pending`` (``WaitForFirstConsumer``/``ExternalProvisioning``
  Events); with an ``Immediate`` class the pod is ``PodScheduled=False`` "pod has unbound
  immediate PersistentVolumeClaims";
- scheduling / unschedulable: pod ``Pending`` without ``spec.nodeName``; ``PodScheduled=False``
  ``Unschedulable`` with the scheduler's message and ``FailedScheduling`` Events;
- pulling the image: ``PodScheduled=True``, container waiting ``ContainerCreating``, a ``Pulling``
  Event; failures are ``ErrImagePull`` / ``ImagePullBackOff`` on the container;
- downloading the model: pod ``Running``, container started but not ready, ``Unhealthy`` Events;
  KServe keeps ``modelStatus`` at ``Pending`` (``Loading`` only while a storage-initializer runs);
- ready: ``Ready=True`` on the InferenceService, ``modelStatus`` ``Loaded``.
"""

from __future__ import annotations

import functools
from collections.abc import Collection

from ..clock import Clock
from .account import AccountController
from .base import Controller, Obj, Runtime, Store
from .events import EventRecorder
from .images import api_key_is_valid
from .inference import InferenceController
from .storage import StorageController
from .timings import DEFAULT_TIMINGS, Timings

NAMES: tuple[str, ...] = ("storage", "inference", "account")

__all__ = ["NAMES", "Controllers", "Timings", "api_key_is_valid", "install"]


class Controllers:
    """The installed controllers; ``stop`` turns every pending and future step into a no-op."""

    def __init__(self, *, runtime: Runtime, controllers: list[Controller]) -> None:
        self._runtime = runtime
        self._controllers = controllers
        self.names: tuple[str, ...] = tuple(c.name for c in controllers)

    @property
    def errors(self) -> list[str]:
        """Failures of controller steps (each also logged); tests assert this stays empty."""
        return list(self._runtime.errors)

    def stop(self) -> None:
        with self._runtime.lock:
            self._runtime.stopped = True

    def _dispatch(self, event: str, kind_key: str, obj: Obj) -> None:
        for controller in self._controllers:
            self._runtime.guarded(functools.partial(controller.on_event, event, kind_key, obj))


def install(
    *,
    store: Store,
    clock: Clock,
    enabled: Collection[str] | bool = True,
    timings: Timings | None = None,
) -> Controllers:
    """Subscribe the enabled controllers to ``store``; ``enabled`` is True, False or a set of names."""
    if enabled is True:
        names = set(NAMES)
    elif enabled is False:
        names = set()
    else:
        names = set(enabled)
        unknown = sorted(names - set(NAMES))
        if unknown:
            raise ValueError(f"unknown controller(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    runtime = Runtime(store=store, clock=clock, timings=timings or DEFAULT_TIMINGS)
    events = EventRecorder(runtime)
    controllers: list[Controller] = []
    if "storage" in names:
        controllers.append(StorageController(runtime, events))
    if "inference" in names:
        controllers.append(InferenceController(runtime, events))
    if "account" in names:
        controllers.append(AccountController(runtime))
    installed = Controllers(runtime=runtime, controllers=controllers)
    if controllers:
        store.subscribe(installed._dispatch)
    return installed
