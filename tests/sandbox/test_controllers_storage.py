"""The "storage" controller over HTTP: default class, binding, provisioning failures, expansion."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from nim_widget.sandbox import FakeClock, Sandbox

NS = "proj"
PROVISIONER = "disk.csi.azure.com"


@pytest.fixture(autouse=True)
def _no_controller_failures(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING, logger="nim_widget.sandbox")
    yield
    failures = [r.getMessage() for r in caplog.records if r.name.startswith("nim_widget.sandbox")]
    assert failures == []


def _cluster(sb: Sb | Sandbox) -> tuple[Any, Any]:
    """CoreV1Api and StorageV1Api (typed Any: the tests send plain manifests, as the engine does)."""
    api = sb.api_client()
    core: Any = client.CoreV1Api(api)
    storage: Any = client.StorageV1Api(api)
    core.create_namespace({"metadata": {"name": NS}})
    storage.create_storage_class(
        {
            "metadata": {
                "name": "standard",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": PROVISIONER,
            "volumeBindingMode": "Immediate",
            "allowVolumeExpansion": True,
        }
    )
    storage.create_storage_class(
        {
            "metadata": {"name": "late"},
            "provisioner": PROVISIONER,
            "volumeBindingMode": "WaitForFirstConsumer",
        }
    )
    return core, storage


class Sb:
    """The sandbox and its FakeClock, typed as such."""

    def __init__(self, sandbox: Sandbox, clock: FakeClock) -> None:
        self.sandbox, self.clock = sandbox, clock

    def api_client(self) -> Any:
        return self.sandbox.api_client()


@pytest.fixture
def sb() -> Iterator[Sb]:
    clock = FakeClock()
    with Sandbox(world=None, clock=clock, controllers=["storage"]) as sandbox:
        yield Sb(sandbox, clock)


def _claim(name: str, *, size: str = "10Gi", storage_class: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {"metadata": {"name": name}, "spec": spec}


def _events(core: Any, name: str) -> list[tuple[str, str, str, int, str]]:
    items = [e for e in core.list_namespaced_event(NS).items if e.involved_object.name == name]
    items.sort(key=lambda e: int(e.metadata.name.rsplit(".", 1)[1], 16))
    return [(e.type, e.reason, e.message, e.count, e.source.component) for e in items]


def _pvc(core: Any, name: str) -> dict[str, Any]:
    obj = core.read_namespaced_persistent_volume_claim(name, NS)
    serializer: Any = client.ApiClient()
    return dict(serializer.sanitize_for_serialization(obj))


def test_default_class_is_filled_in_and_the_claim_binds_after_provisioning(sb: Sb) -> None:
    core, _ = _cluster(sb)
    core.create_namespaced_persistent_volume_claim(NS, _claim("cache"))
    pvc = _pvc(core, "cache")
    assert pvc["spec"]["storageClassName"] == "standard"
    assert pvc["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    assert pvc["status"] == {"phase": "Pending"}

    sb.clock.advance(1)  # provisioning has started, the volume is not there yet
    pvc = _pvc(core, "cache")
    assert pvc["status"] == {"phase": "Pending"}
    assert pvc["metadata"]["annotations"] == {
        "volume.beta.kubernetes.io/storage-provisioner": PROVISIONER,
        "volume.kubernetes.io/storage-provisioner": PROVISIONER,
    }
    sb.clock.advance(5)
    pvc = _pvc(core, "cache")
    uid = pvc["metadata"]["uid"]
    assert pvc["status"] == {
        "phase": "Bound",
        "accessModes": ["ReadWriteOnce"],
        "capacity": {"storage": "10Gi"},
    }
    assert pvc["spec"]["volumeName"] == f"pvc-{uid}"
    assert pvc["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] == "yes"
    assert pvc["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] == "yes"
    events = _events(core, "cache")
    assert [(t, r) for t, r, *_ in events] == [
        ("Normal", "ExternalProvisioning"),
        ("Normal", "Provisioning"),
        ("Normal", "ProvisioningSucceeded"),
    ]
    assert events[0][2] == (
        f"Waiting for a volume to be created either by the external provisioner '{PROVISIONER}' or manually "
        "by the system administrator. If volume creation is delayed, please verify that the provisioner is "
        "running and correctly registered."
    )
    assert events[0][4] == "persistentvolume-controller"
    assert events[1][2] == f'External provisioner is provisioning volume for claim "{NS}/cache"'
    assert events[1][4].startswith(f"{PROVISIONER}_")
    assert events[2][2] == f"Successfully provisioned volume pvc-{uid}"


def test_the_newest_default_class_wins_and_an_explicit_empty_class_is_kept(sb: Sb) -> None:
    core, storage = _cluster(sb)
    sb.clock.advance(60)  # created a minute after "standard"
    storage.create_storage_class(
        {
            "metadata": {
                "name": "premium",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": PROVISIONER,
        }
    )
    core.create_namespaced_persistent_volume_claim(NS, _claim("newest"))
    core.create_namespaced_persistent_volume_claim(NS, _claim("static", storage_class=""))
    sb.clock.advance(10)
    assert _pvc(core, "newest")["spec"]["storageClassName"] == "premium"
    static = _pvc(core, "static")
    assert static["spec"]["storageClassName"] == ""
    assert static["status"] == {"phase": "Pending"}
    assert _events(core, "static") == [
        (
            "Normal",
            "FailedBinding",
            "no persistent volumes available for this claim and no storage class is set",
            1,
            "persistentvolume-controller",
        )
    ]


def test_a_missing_storage_class_leaves_the_claim_pending_with_a_warning(sb: Sb) -> None:
    core, storage = _cluster(sb)
    core.create_namespaced_persistent_volume_claim(NS, _claim("lost", storage_class="fast-nvme"))
    sb.clock.advance(1)
    assert _pvc(core, "lost")["status"] == {"phase": "Pending"}
    message = 'storageclass.storage.k8s.io "fast-nvme" not found'
    assert _events(core, "lost") == [
        ("Warning", "ProvisioningFailed", message, 1, "persistentvolume-controller")
    ]
    sb.clock.advance(30)  # the PV controller retries on every resync; the event counts up
    assert _events(core, "lost") == [
        ("Warning", "ProvisioningFailed", message, 3, "persistentvolume-controller")
    ]

    storage.create_storage_class({"metadata": {"name": "fast-nvme"}, "provisioner": PROVISIONER})
    sb.clock.advance(5)
    assert _pvc(core, "lost")["status"]["phase"] == "Bound"


def test_wait_for_first_consumer_keeps_the_claim_pending_until_a_node_is_selected(sb: Sb) -> None:
    core, _ = _cluster(sb)
    core.create_namespaced_persistent_volume_claim(NS, _claim("later", storage_class="late"))
    sb.clock.advance(30)
    assert _pvc(core, "later")["status"] == {"phase": "Pending"}
    assert [(t, r, m) for t, r, m, *_ in _events(core, "later")] == [
        ("Normal", "WaitForFirstConsumer", "waiting for first consumer to be created before binding")
    ]
    # what the scheduler does when it places the first pod using the claim
    core.patch_namespaced_persistent_volume_claim(
        "later", NS, {"metadata": {"annotations": {"volume.kubernetes.io/selected-node": "worker-0"}}}
    )
    sb.clock.advance(5)
    assert _pvc(core, "later")["status"]["phase"] == "Bound"


def test_a_bigger_request_on_a_bound_claim_is_expanded_after_a_while(sb: Sb) -> None:
    core, _ = _cluster(sb)
    core.create_namespaced_persistent_volume_claim(NS, _claim("grow", size="50Gi", storage_class="standard"))
    sb.clock.advance(5)
    core.patch_namespaced_persistent_volume_claim(
        "grow", NS, {"spec": {"resources": {"requests": {"storage": "80Gi"}}}}
    )
    sb.clock.advance(1)
    pvc = _pvc(core, "grow")
    assert pvc["spec"]["resources"]["requests"]["storage"] == "80Gi"
    assert pvc["status"]["capacity"] == {"storage": "50Gi"}
    assert pvc["status"]["allocatedResources"] == {"storage": "80Gi"}
    assert [(c["type"], c["status"]) for c in pvc["status"]["conditions"]] == [("Resizing", "True")]
    sb.clock.advance(5)
    pvc = _pvc(core, "grow")
    assert pvc["status"]["capacity"] == {"storage": "80Gi"}
    assert "conditions" not in pvc["status"]
    assert [(t, r, m) for t, r, m, *_ in _events(core, "grow")][-3:] == [
        ("Normal", "ExternalExpanding", "waiting for an external controller to expand this PVC"),
        ("Normal", "Resizing", f"External resizer is resizing volume pvc-{pvc['metadata']['uid']}"),
        ("Normal", "VolumeResizeSuccessful", "Resize volume succeeded"),
    ]


def test_a_claim_in_use_stays_terminating_until_its_pod_is_gone(sb: Sb) -> None:
    core, _ = _cluster(sb)
    core.create_namespaced_persistent_volume_claim(NS, _claim("used"))
    core.create_namespaced_persistent_volume_claim(NS, _claim("unused"))
    sb.clock.advance(5)
    core.create_namespaced_pod(
        NS,
        {
            "metadata": {"name": "reader"},
            "spec": {
                "containers": [{"name": "main", "image": "registry.access.redhat.com/ubi9/ubi-minimal:9.5"}],
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "used"}}],
            },
        },
    )
    core.delete_namespaced_persistent_volume_claim("unused", NS)
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_persistent_volume_claim("unused", NS)
    assert gone.value.status == 404

    core.delete_namespaced_persistent_volume_claim("used", NS)
    pvc = _pvc(core, "used")
    assert pvc["metadata"]["deletionTimestamp"]
    assert pvc["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    core.delete_namespaced_pod("reader", NS)
    with pytest.raises(ApiException) as released:
        core.read_namespaced_persistent_volume_claim("used", NS)
    assert released.value.status == 404


def test_switched_off_the_storage_controller_does_nothing() -> None:
    clock = FakeClock()
    with Sandbox(world=None, clock=clock, controllers=["account"]) as sandbox:
        core, _ = _cluster(sandbox)
        core.create_namespaced_persistent_volume_claim(NS, _claim("idle"))
        clock.advance(120)
        pvc = _pvc(core, "idle")
        assert "storageClassName" not in pvc["spec"]
        assert "finalizers" not in pvc["metadata"]
        assert pvc["status"] == {"phase": "Pending"}
        assert core.list_namespaced_event(NS).items == []
