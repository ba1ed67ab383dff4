"""The "inference" controller over HTTP: an InferenceService from creation to Ready, stop, rollout.

The failure paths are in ``test_controllers_failures.py``; the small cluster both use is built by
``test_controllers_cluster.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException
from test_controllers_cluster import (
    GPU_TOLERATION,
    IMAGE,
    ISVC,
    NS,
    Cluster,
    cluster,
    container_of,
    make_cluster,
    no_controller_failures,
    pod_conditions,
)

from nim_widget.sandbox import FakeClock, Sandbox

__all__ = ["cluster", "make_cluster", "no_controller_failures"]  # fixtures used by name


# -------------------------------------------------------------------- the happy path


def test_a_nim_goes_through_every_stage_to_ready(cluster: Cluster) -> None:
    c = cluster
    c.deploy()
    c.until(lambda: c.pods())
    # KServe has reconciled: the Deployment exists, nothing is available yet
    assert c.conditions() == {
        "IngressReady": ("True", "", ""),
        "PredictorReady": (
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        ),
        "Ready": ("False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."),
        "Stopped": ("False", "", ""),
    }
    status = c.status()
    assert status["modelStatus"] == {
        "copies": {"failedCopies": 0},
        "transitionStatus": "InProgress",
        "states": {"activeModelState": "", "targetModelState": "Pending"},
    }
    assert status["url"] == "https://llama-proj.apps.sandbox.local"
    assert status["address"] == {"url": "http://llama-predictor.proj.svc.cluster.local"}
    assert status["observedGeneration"] == 1
    assert status["deploymentMode"] == "RawDeployment"
    assert status["servingRuntimeName"] == "llama"

    pod = c.pod()
    isvc = c.custom.get_namespaced_custom_object(*ISVC, "llama")
    assert pod["metadata"]["labels"] == {
        "app": "isvc.llama-predictor",
        "component": "predictor",
        "serving.kserve.io/inferenceservice": "llama",
        "opendatahub.io/dashboard": "true",
        "networking.kserve.io/visibility": "exposed",
        "pod-template-hash": pod["metadata"]["labels"]["pod-template-hash"],
    }
    assert pod["metadata"]["name"].startswith(
        f"llama-predictor-{pod['metadata']['labels']['pod-template-hash']}-"
    )
    assert pod["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "name": "llama",
            "uid": isvc["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == "8000"
    main = pod["spec"]["containers"][0]
    assert (main["name"], main["image"]) == ("kserve-container", IMAGE)
    assert main["resources"] == {
        "limits": {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": "1"},
        "requests": {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": "1"},
    }
    assert main["readinessProbe"]["tcpSocket"] == {"port": 8000}
    assert pod["spec"]["imagePullSecrets"] == [{"name": "ngc-secret"}]
    assert pod["spec"]["tolerations"] == [GPU_TOLERATION]
    assert pod["status"]["phase"] == "Pending"
    pod_name = pod["metadata"]["name"]

    # waiting for storage: the claim of an Immediate class is still being provisioned
    c.until(lambda: "PodScheduled" in pod_conditions(c.pod()))
    message = (
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    )
    pod = c.pod()
    assert pod["status"]["conditions"][0]["reason"] == "Unschedulable"
    assert pod["status"]["conditions"][0]["message"] == message
    assert ("Warning", "FailedScheduling", message) in c.events(pod_name)

    # scheduled once the claim is bound, onto the only node with a free GPU
    c.until(lambda: pod_conditions(c.pod()).get("PodScheduled") == ("True", ""))
    assert c.pod()["spec"]["nodeName"] == "gpu-0"
    assert ("Normal", "Scheduled", f"Successfully assigned {NS}/{pod_name} to gpu-0") in c.events(pod_name)

    # pulling the image
    c.until(lambda: any(e[1] == "Pulling" for e in c.events(pod_name)))
    pod = c.pod()
    assert container_of(pod)["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert pod["status"]["hostIP"] == "10.0.2.10"
    assert pod["status"]["podIP"].startswith("10.")
    assert pod_conditions(pod)["Ready"] == ("False", "ContainersNotReady")
    assert c.events(pod_name)[-2:] == [
        ("Normal", "AddedInterface", f"Add eth0 [{pod['status']['podIP']}/23] from ovn-kubernetes"),
        ("Normal", "Pulling", f'Pulling image "{IMAGE}"'),
    ]

    # running, not ready: the NIM downloads its weights, its port is still closed
    c.until(lambda: c.pod()["status"]["phase"] == "Running")
    pod = c.pod()
    container = container_of(pod)
    assert "running" in container["state"]
    assert (container["ready"], container["started"], container["restartCount"]) == (False, True, 0)
    assert container["containerID"].startswith("cri-o://")
    assert container["imageID"].startswith("nvcr.io/nim/meta/llama-3.1-8b-instruct@sha256:")
    reasons = [e[1] for e in c.events(pod_name)]
    assert reasons[reasons.index("Pulling") :] == ["Pulling", "Pulled", "Created", "Started", "Unhealthy"]
    pulled = next(e[2] for e in c.events(pod_name) if e[1] == "Pulled")
    assert pulled.startswith(f'Successfully pulled image "{IMAGE}" in ')
    assert pulled.endswith(" bytes.")
    ip = pod["status"]["podIP"]
    refused = f"Readiness probe failed: dial tcp {ip}:8000: connect: connection refused"
    assert ("Warning", "Unhealthy", refused) in c.events(pod_name)
    c.clock.advance(1)
    assert c.conditions()["Ready"][0] == "False"
    assert c.status()["modelStatus"]["states"] == {"activeModelState": "", "targetModelState": "Pending"}

    # ready
    c.until(lambda: c.conditions()["Ready"][0] == "True")
    assert c.conditions() == {
        "IngressReady": ("True", "", ""),
        "PredictorReady": ("True", "", ""),
        "Ready": ("True", "", ""),
        "Stopped": ("False", "", ""),
    }
    status = c.status()
    assert status["modelStatus"] == {
        "copies": {"failedCopies": 0, "totalCopies": 1},
        "transitionStatus": "UpToDate",
        "states": {"activeModelState": "Loaded", "targetModelState": "Loaded"},
    }
    assert status["components"] == {"predictor": {"url": "http://llama-predictor.proj.svc.cluster.local"}}
    pod = c.pod()
    assert container_of(pod)["ready"] is True
    assert pod_conditions(pod) == {
        "PodReadyToStartContainers": ("True", ""),
        "Initialized": ("True", ""),
        "Ready": ("True", ""),
        "ContainersReady": ("True", ""),
        "PodScheduled": ("True", ""),
    }
    assert ("Normal", "InferenceServiceReady", "InferenceService [llama] is Ready") in c.events("llama")
    assert c.event_count(pod_name, "Unhealthy") >= 2


# -------------------------------------------------------------------- stop, resume, rollout


def test_the_stop_annotation_removes_the_pods_and_resuming_starts_them_again(cluster: Cluster) -> None:
    c = cluster
    c.deploy()
    c.until(lambda: c.conditions().get("Ready", ("",))[0] == "True")
    first = c.pod()["metadata"]["name"]
    c.custom.patch_namespaced_custom_object(
        *ISVC, "llama", {"metadata": {"annotations": {"serving.kserve.io/stop": "true"}}}
    )
    c.until(lambda: not c.pods(), within=10)
    assert c.status() == {
        "conditions": c.status()["conditions"],
        "deploymentMode": "RawDeployment",
        "modelStatus": {"transitionStatus": ""},
    }
    assert c.conditions() == {
        "IngressReady": ("False", "Stopped", ""),
        "PredictorReady": ("False", "Stopped", ""),
        "Ready": ("False", "Stopped", ""),
        "Stopped": ("True", "", ""),
    }
    assert ("Normal", "Killing", "Stopping container kserve-container") in c.events(first)
    assert ("Warning", "InferenceServiceNotReady", "InferenceService [llama] is no longer Ready") in c.events(
        "llama"
    )
    c.clock.advance(60)
    assert c.pods() == []

    c.custom.patch_namespaced_custom_object(
        *ISVC, "llama", {"metadata": {"annotations": {"serving.kserve.io/stop": "false"}}}
    )
    took = c.until(lambda: c.conditions().get("Ready", ("",))[0] == "True")
    assert c.conditions()["Stopped"] == ("False", "", "")
    second = c.pod()["metadata"]["name"]
    assert second != first
    # the node still has the image and the claim still has the weights: a restart is quick
    assert ("Normal", "Pulled", f'Container image "{IMAGE}" already present on machine') in c.events(second)
    assert took < 20


def test_a_spec_change_rolls_out_a_new_pod_before_the_old_one_goes(cluster: Cluster) -> None:
    c = cluster
    c.node("gpu-1", cpu="16", memory="64Gi", gpus=1, taint="nvidia.com/gpu", ip="10.0.2.11")
    c.deploy()
    c.until(lambda: c.conditions().get("Ready", ("",))[0] == "True")
    old = c.pod()
    c.custom.patch_namespaced_custom_object(
        *ISVC,
        "llama",
        {"spec": {"predictor": {"model": {"env": [{"name": "NIM_MAX_MODEL_LEN", "value": "8192"}]}}}},
    )
    assert c.custom.get_namespaced_custom_object(*ISVC, "llama")["metadata"]["generation"] == 2
    c.until(lambda: len(c.pods()) == 2, within=5)
    new = next(p for p in c.pods() if p["metadata"]["name"] != old["metadata"]["name"])
    new_hash = new["metadata"]["labels"]["pod-template-hash"]
    assert new_hash != old["metadata"]["labels"]["pod-template-hash"]
    assert {"name": "NIM_MAX_MODEL_LEN", "value": "8192"} in new["spec"]["containers"][0]["env"]
    c.clock.advance(1)
    progressing = ("Unknown", "ReplicaSetUpdated", f'ReplicaSet "llama-predictor-{new_hash}" is progressing.')
    assert c.conditions()["PredictorReady"] == progressing
    assert c.conditions()["Ready"] == progressing
    status = c.status()
    assert status["observedGeneration"] == 2
    assert status["modelStatus"]["transitionStatus"] == "InProgress"
    assert status["modelStatus"]["states"] == {"activeModelState": "Loaded", "targetModelState": "Pending"}
    assert any(pod_conditions(p).get("Ready") == ("True", "") for p in c.pods())  # the old one still serves

    c.until(lambda: c.conditions()["Ready"][0] == "True" and len(c.pods()) == 1)
    assert c.pod()["metadata"]["name"] == new["metadata"]["name"]
    assert ("Normal", "Killing", "Stopping container kserve-container") in c.events(old["metadata"]["name"])
    assert c.status()["modelStatus"]["states"] == {"activeModelState": "Loaded", "targetModelState": "Loaded"}


def test_replicas_scale_up_and_down_without_a_new_rollout(cluster: Cluster) -> None:
    c = cluster
    c.node("gpu-1", cpu="16", memory="64Gi", gpus=1, taint="nvidia.com/gpu", ip="10.0.2.11")
    c.deploy(minReplicas=2, maxReplicas=2)
    c.until(lambda: c.conditions().get("Ready", ("",))[0] == "True")
    pods = c.pods()
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["gpu-0", "gpu-1"]
    assert len({p["metadata"]["labels"]["pod-template-hash"] for p in pods}) == 1
    assert c.status()["modelStatus"]["copies"] == {"failedCopies": 0, "totalCopies": 2}

    c.custom.patch_namespaced_custom_object(*ISVC, "llama", {"spec": {"predictor": {"minReplicas": 1}}})
    c.until(lambda: len(c.pods()) == 1 and c.status()["modelStatus"]["copies"].get("totalCopies") == 1)
    assert c.pod()["metadata"]["name"] in {p["metadata"]["name"] for p in pods}
    assert c.conditions()["Ready"][0] == "True"
    assert c.status()["observedGeneration"] == 2


def test_a_rollout_that_cannot_schedule_times_out_while_the_old_pod_keeps_serving(cluster: Cluster) -> None:
    c = cluster  # one GPU in the whole cluster: the surge pod of a rolling update has nowhere to go
    c.deploy()
    c.until(lambda: c.conditions().get("Ready", ("",))[0] == "True")
    old = c.pod()["metadata"]["name"]
    c.custom.patch_namespaced_custom_object(
        *ISVC,
        "llama",
        {"spec": {"predictor": {"model": {"env": [{"name": "NIM_LOG_LEVEL", "value": "DEBUG"}]}}}},
    )
    c.until(lambda: len(c.pods()) == 2 and c.conditions()["PredictorReady"][0] == "Unknown", within=5)
    new = next(p for p in c.pods() if p["metadata"]["name"] != old)
    rs = f"llama-predictor-{new['metadata']['labels']['pod-template-hash']}"
    c.clock.advance(300)
    pending = next(p for p in c.pods() if p["metadata"]["name"] == new["metadata"]["name"])
    assert pending["status"]["conditions"][0]["message"].startswith(
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/master: }, "
        "2 Insufficient nvidia.com/gpu."
    )
    assert c.conditions()["PredictorReady"] == (
        "Unknown",
        "ReplicaSetUpdated",
        f'ReplicaSet "{rs}" is progressing.',
    )
    c.clock.advance(301)
    timed_out = ("False", "ProgressDeadlineExceeded", f'ReplicaSet "{rs}" has timed out progressing.')
    assert c.conditions()["PredictorReady"] == timed_out
    assert c.conditions()["Ready"] == timed_out
    serving = [p for p in c.pods() if p["metadata"]["name"] == old]
    assert pod_conditions(serving[0])["Ready"] == ("True", "")
    assert c.status()["modelStatus"]["states"] == {
        "activeModelState": "Loaded",
        "targetModelState": "Pending",
    }


def test_a_storage_uri_is_copied_by_the_storage_initializer_while_the_model_is_loading(
    cluster: Cluster,
) -> None:
    c = cluster
    c.claim()
    c.runtime()
    c.isvc(
        model={
            "modelFormat": {"name": "llama-3.1-8b-instruct"},
            "runtime": "llama",
            "storageUri": "s3://models/llama-3.1-8b-instruct",
            "resources": {"limits": {"nvidia.com/gpu": "1"}, "requests": {"nvidia.com/gpu": "1"}},
        }
    )
    c.until(lambda: c.status().get("modelStatus", {}).get("states", {}).get("targetModelState") == "Loading")
    pod = c.pod()
    init = pod["status"]["initContainerStatuses"][0]
    assert init["name"] == "storage-initializer"
    assert "running" in init["state"]
    assert pod["spec"]["initContainers"][0]["args"] == ["s3://models/llama-3.1-8b-instruct", "/mnt/models"]
    assert pod_conditions(pod)["Initialized"] == ("False", "ContainersNotInitialized")
    assert pod["metadata"]["annotations"]["internal.serving.kserve.io/storage-initializer-sourceuri"] == (
        "s3://models/llama-3.1-8b-instruct"
    )
    assert c.status()["modelStatus"]["transitionStatus"] == "InProgress"
    c.until(lambda: c.conditions()["Ready"][0] == "True")
    assert c.pod()["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"


def test_deleting_the_service_removes_its_pods(cluster: Cluster) -> None:
    c = cluster
    c.deploy()
    c.until(lambda: c.pods() and c.pod()["status"]["phase"] == "Running")
    c.custom.delete_namespaced_custom_object(*ISVC, "llama")
    assert c.pods() == []
    c.clock.advance(120)
    assert c.pods() == []
    with pytest.raises(ApiException) as gone:
        c.custom.get_namespaced_custom_object(*ISVC, "llama")
    assert gone.value.status == 404


def test_switched_off_the_inference_controller_does_nothing() -> None:
    with Sandbox(world=None, clock=FakeClock(), controllers=["storage", "account"]) as sb:
        c = Cluster(sb)
        c.setup()
        c.deploy()
        c.clock.advance(300)
        assert c.status() == {}
        assert c.pods() == []
        assert c.events("llama") == []


# -------------------------------------------------------------------- the demo world


def test_in_the_demo_world_a_four_gpu_nim_fits_nowhere_and_a_one_gpu_nim_becomes_ready(
    sandbox: Sandbox,
) -> None:
    c = Cluster(sandbox)
    ns = "demo"
    pull = c.core.read_namespaced_secret("odh-nim-account-pull", ns)
    c.core.create_namespaced_secret(
        ns, {"metadata": {"name": "ngc-secret"}, "type": "kubernetes.io/dockerconfigjson", "data": pull.data}
    )
    template = c.custom.get_namespaced_custom_object(
        "template.openshift.io", "v1", ns, "templates", "odh-nim-account-template"
    )
    for name, gpus in (("big", 4), ("small", 1)):
        runtime = json.loads(json.dumps(template["objects"][0]))
        runtime["metadata"] = {"name": name, "annotations": runtime["metadata"]["annotations"]}
        runtime.pop("status")
        spec = runtime["spec"]
        spec["containers"][0]["image"] = IMAGE
        spec["supportedModelFormats"] = [
            {"name": "llama-3.1-8b-instruct", "version": "1.8.6", "autoSelect": False, "priority": 1}
        ]
        spec["volumes"][0]["persistentVolumeClaim"]["claimName"] = "llama-3-1-8b-cache"
        spec["volumes"].append({"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}})
        c.custom.create_namespaced_custom_object(
            "serving.kserve.io", "v1alpha1", ns, "servingruntimes", runtime
        )
        resources = {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": str(gpus)}
        c.custom.create_namespaced_custom_object(
            "serving.kserve.io",
            "v1beta1",
            ns,
            "inferenceservices",
            {
                "apiVersion": "serving.kserve.io/v1beta1",
                "kind": "InferenceService",
                "metadata": {
                    "name": name,
                    "annotations": {"serving.kserve.io/deploymentMode": "RawDeployment"},
                },
                "spec": {
                    "predictor": {
                        "minReplicas": 1,
                        "tolerations": [GPU_TOLERATION],
                        "model": {
                            "modelFormat": {"name": "llama-3.1-8b-instruct"},
                            "runtime": name,
                            "resources": {"limits": resources, "requests": resources},
                        },
                    }
                },
            },
        )
    c.clock.advance(60)

    def pod_of(name: str) -> dict[str, Any]:
        items = c.core.list_namespaced_pod(
            ns, label_selector=f"serving.kserve.io/inferenceservice={name}"
        ).items
        assert len(items) == 1
        return dict(c.api.sanitize_for_serialization(items[0]))

    big = pod_of("big")
    assert big["status"]["conditions"][0]["message"] == (
        "0/4 nodes are available: 4 Insufficient nvidia.com/gpu. "
        "preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod."
    )
    small = pod_of("small")
    assert small["spec"]["nodeName"].startswith("demo-gpu-")
    status = c.custom.get_namespaced_custom_object(
        "serving.kserve.io", "v1beta1", ns, "inferenceservices", "small"
    )
    assert {x["type"]: x["status"] for x in status["status"]["conditions"]}["Ready"] == "True"
