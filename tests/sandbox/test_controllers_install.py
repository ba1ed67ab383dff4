"""``install`` and ``Controllers``: choosing controllers by name and stopping them.

These drive the store directly: what is tested is the controllers' own API (the Sandbox calls
it at start and stop), not the HTTP layer.
"""

from __future__ import annotations

import pytest

from nim_widget.sandbox import FakeClock
from nim_widget.sandbox.controllers import NAMES, install
from nim_widget.sandbox.kinds import DEFAULT_KINDS, Registry
from nim_widget.sandbox.store import Store

PVCS = "persistentvolumeclaims"


def _store(clock: FakeClock) -> Store:
    store = Store(registry=Registry(DEFAULT_KINDS), clock=clock)
    store.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "proj"}})
    store.create(
        "storageclasses.storage.k8s.io",
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "standard"},
            "provisioner": "disk.csi.azure.com",
        },
    )
    return store


def _claim(name: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "proj"},
        "spec": {
            "storageClassName": "standard",
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
        },
    }


def test_controllers_are_chosen_by_name() -> None:
    clock = FakeClock()
    assert install(store=_store(clock), clock=clock).names == NAMES == ("storage", "inference", "account")
    assert install(store=_store(clock), clock=clock, enabled=False).names == ()
    assert install(store=_store(clock), clock=clock, enabled=["account", "storage"]).names == (
        "storage",
        "account",
    )
    with pytest.raises(
        ValueError, match="unknown controller\\(s\\) gc; choose from storage, inference, account"
    ):
        install(store=_store(clock), clock=clock, enabled=["storage", "gc"])


def test_stopping_turns_pending_and_future_work_into_no_ops() -> None:
    clock = FakeClock()
    store = _store(clock)
    controllers = install(store=store, clock=clock, enabled=["storage"])
    store.create(PVCS, _claim("before"))
    assert clock.pending() > 0  # the PV controller's next step is scheduled
    controllers.stop()
    clock.advance(600)
    before = store.get(PVCS, "proj", "before")
    assert before["status"] == {"phase": "Pending"}
    assert "annotations" not in before["metadata"]

    store.create(PVCS, _claim("after"))
    clock.advance(600)
    after = store.get(PVCS, "proj", "after")
    assert "finalizers" not in after["metadata"]
    assert after["status"] == {"phase": "Pending"}
    assert controllers.errors == []


def test_running_controllers_bind_the_same_claim() -> None:
    clock = FakeClock()
    store = _store(clock)
    controllers = install(store=store, clock=clock, enabled=["storage"])
    store.create(PVCS, _claim("bound"))
    clock.advance(600)
    assert store.get(PVCS, "proj", "bound")["status"]["phase"] == "Bound"
    assert controllers.errors == []
