"""The "inference" controller's failure paths over HTTP, each ending in the shape a real cluster shows.

Image pulls (a tag the catalog does not list, a missing or rejected pull secret), scheduling (GPUs,
node selectors, claims), the model container (a rejected NGC key, a missing key Secret) and unusable
runtimes. The cluster is built by ``test_controllers_cluster.py``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from test_controllers_cluster import (
    IMAGE,
    ISVC,
    KEY,
    NS,
    Cluster,
    cluster,
    container_of,
    make_cluster,
    no_controller_failures,
    pod_conditions,
    waiting,
)

__all__ = ["cluster", "make_cluster", "no_controller_failures"]  # fixtures used by name


# -------------------------------------------------------------------- image pulls


def test_a_tag_the_catalog_does_not_list_ends_in_image_pull_back_off(cluster: Cluster) -> None:
    c = cluster
    image = "nvcr.io/nim/meta/llama-3.1-8b-instruct:9.9.9"
    c.claim()
    c.runtime(image=image)
    c.isvc()
    c.until(lambda: waiting(c) == "ErrImagePull")
    pod = c.pod()
    error = "reading manifest 9.9.9 in nvcr.io/nim/meta/llama-3.1-8b-instruct: manifest unknown"
    assert container_of(pod)["state"] == {"waiting": {"reason": "ErrImagePull", "message": error}}
    name = pod["metadata"]["name"]
    assert c.events(name)[-2:] == [
        ("Warning", "Failed", f'Failed to pull image "{image}": {error}'),
        ("Warning", "Failed", "Error: ErrImagePull"),
    ]
    c.until(lambda: waiting(c) == "ImagePullBackOff")
    back_off = f'Back-off pulling image "{image}"'
    assert container_of(c.pod())["state"] == {"waiting": {"reason": "ImagePullBackOff", "message": back_off}}
    assert c.events(name)[-2:] == [
        ("Normal", "BackOff", back_off),
        ("Warning", "Failed", "Error: ImagePullBackOff"),
    ]
    c.clock.advance(120)
    assert c.event_count(name, "Pulling") >= 3  # retried with a growing back-off
    pod = c.pod()
    assert pod["status"]["phase"] == "Pending"
    # KServe reports what the Deployment says; the pull error itself is on the pod
    assert c.conditions()["PredictorReady"] == (
        "False",
        "MinimumReplicasUnavailable",
        "Deployment does not have minimum availability.",
    )
    assert c.status()["modelStatus"]["states"] == {"activeModelState": "", "targetModelState": "Pending"}
    assert c.status()["modelStatus"]["transitionStatus"] == "InProgress"


def test_a_missing_pull_secret_ends_in_an_authentication_failure(cluster: Cluster) -> None:
    c = cluster
    c.core.delete_namespaced_secret("ngc-secret", NS)
    c.deploy()
    c.until(lambda: waiting(c) == "ImagePullBackOff")
    name = c.pod()["metadata"]["name"]
    error = "unable to retrieve auth token: invalid username/password: unauthorized: authentication required"
    events = c.events(name)
    missing = "Unable to retrieve some image pull secrets (ngc-secret); "
    missing += "attempting to pull the image may not succeed."
    assert ("Warning", "FailedToRetrieveImagePullSecret", missing) in events
    assert ("Warning", "Failed", f'Failed to pull image "{IMAGE}": {error}') in events

    # the dashboard's missing ngc-secret, fixed by hand: the next pull succeeds
    config = {"auths": {"nvcr.io": {"password": KEY, "username": "$oauthtoken"}}}
    c.core.create_namespaced_secret(
        NS,
        {
            "metadata": {"name": "ngc-secret"},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()},
        },
    )
    c.until(lambda: c.conditions()["Ready"][0] == "True", within=400)


def test_a_pull_secret_with_a_rejected_key_is_an_authentication_failure_too(cluster: Cluster) -> None:
    c = cluster
    config = {"auths": {"nvcr.io": {"password": "nvapi-invalid-key", "username": "$oauthtoken"}}}
    c.core.patch_namespaced_secret(
        "ngc-secret",
        NS,
        {"data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()}},
    )
    c.deploy()
    c.until(lambda: waiting(c) == "ErrImagePull")
    assert container_of(c.pod())["state"]["waiting"]["message"] == (
        "unable to retrieve auth token: invalid username/password: unauthorized: authentication required"
    )


# -------------------------------------------------------------------- scheduling


def test_a_gpu_request_no_node_can_satisfy_leaves_the_pod_unschedulable(cluster: Cluster) -> None:
    c = cluster
    c.deploy(gpus=2)
    c.until(
        lambda: (
            c.pods()
            and "PodScheduled" in pod_conditions(c.pod())
            and "Insufficient" in c.pod()["status"]["conditions"][0]["message"]
        )
    )
    message = (
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/master: }, "
        "2 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: "
        "1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
    )
    pod = c.pod()
    assert pod["status"]["conditions"] == [
        {
            "type": "PodScheduled",
            "status": "False",
            "lastTransitionTime": pod["status"]["conditions"][0]["lastTransitionTime"],
            "reason": "Unschedulable",
            "message": message,
        }
    ]
    name = pod["metadata"]["name"]
    assert ("Warning", "FailedScheduling", message) in c.events(name)
    c.clock.advance(60)
    assert c.event_count(name, "FailedScheduling") > 2  # the scheduler keeps retrying
    assert c.conditions()["Ready"][0] == "False"
    assert "nodeName" not in c.pod()["spec"]

    # a bigger GPU node joins the cluster: the pending pod lands on it
    c.node("gpu-1", cpu="48", memory="400Gi", gpus=2, taint="nvidia.com/gpu", ip="10.0.2.11")
    c.until(lambda: c.pod()["spec"].get("nodeName") == "gpu-1", within=30)


def test_node_selectors_and_missing_claims_are_the_schedulers_reasons_too(cluster: Cluster) -> None:
    c = cluster
    c.runtime(claim="nowhere")
    c.isvc(nodeSelector={"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"})
    c.until(lambda: c.pods() and "PodScheduled" in pod_conditions(c.pod()))
    assert c.pod()["status"]["conditions"][0]["message"] == (
        '0/3 nodes are available: persistentvolumeclaim "nowhere" not found. '
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    )
    c.claim("nowhere")
    c.until(lambda: "didn't match" in c.pod()["status"]["conditions"][0].get("message", ""), within=30)
    assert c.pod()["status"]["conditions"][0]["message"] == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/master: }, "
        "2 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    )


# -------------------------------------------------------------------- the model container


def test_a_rejected_ngc_key_crash_loops_the_nim_and_fails_the_model(
    make_cluster: Callable[..., Cluster],
) -> None:
    c = make_cluster(ngc_key="nvapi-invalid-sandbox-key")
    c.deploy()
    c.until(lambda: waiting(c) == "CrashLoopBackOff")
    pod = c.pod()
    name, uid = pod["metadata"]["name"], pod["metadata"]["uid"]
    container = container_of(pod)
    assert container["state"] == {
        "waiting": {
            "reason": "CrashLoopBackOff",
            "message": f"back-off 10s restarting failed container=kserve-container pod={name}_{NS}({uid})",
        }
    }
    assert container["lastState"]["terminated"]["exitCode"] == 1
    assert container["lastState"]["terminated"]["reason"] == "Error"
    assert container["restartCount"] == 1
    assert pod["status"]["phase"] == "Running"
    back_off = f"Back-off restarting failed container kserve-container in pod {name}_{NS}({uid})"
    assert ("Warning", "BackOff", back_off) in c.events(name)
    c.until(lambda: c.status()["modelStatus"]["states"]["targetModelState"] == "FailedToLoad", within=5)
    model = c.status()["modelStatus"]
    assert model["transitionStatus"] == "BlockedByFailedLoad"
    assert model["lastFailureInfo"] == {"reason": "ModelLoadFailed", "exitCode": 1}
    assert c.conditions()["PredictorReady"][:2] == ("False", "MinimumReplicasUnavailable")
    c.clock.advance(120)
    assert container_of(c.pod())["restartCount"] >= 3


def test_a_missing_key_secret_is_a_create_container_config_error(
    make_cluster: Callable[..., Cluster],
) -> None:
    c = make_cluster(api_key_secret=False)
    c.deploy()
    c.until(lambda: waiting(c) == "CreateContainerConfigError")
    pod = c.pod()
    assert container_of(pod)["state"]["waiting"]["message"] == 'secret "nvidia-nim-secrets" not found'
    assert ("Warning", "Failed", 'Error: secret "nvidia-nim-secrets" not found') in c.events(
        pod["metadata"]["name"]
    )
    assert pod["status"]["phase"] == "Pending"
    c.core.create_namespaced_secret(
        NS, {"metadata": {"name": "nvidia-nim-secrets"}, "stringData": {"NGC_API_KEY": KEY}}
    )
    c.until(lambda: c.conditions()["Ready"][0] == "True")


@pytest.mark.parametrize(
    ("runtime", "fmt", "reason", "message", "event"),
    [
        (
            "missing",
            "llama-3.1-8b-instruct",
            "RuntimeNotRecognized",
            "Waiting for runtime to become available",
            "fails to reconcile predictor: No ServingRuntimes or ClusterServingRuntimes with the name: "
            "missing",
        ),
        (
            "llama",
            "mistral-7b-instruct-v0.3",
            "NoSupportingRuntime",
            "Specified runtime does not support specified framework/version",
            "fails to reconcile predictor: specified runtime llama does not support specified "
            "framework/version",
        ),
    ],
)
def test_an_unusable_runtime_is_an_invalid_spec(
    cluster: Cluster, runtime: str, fmt: str, reason: str, message: str, event: str
) -> None:
    c = cluster
    c.claim()
    c.runtime()
    c.isvc(runtime=runtime)
    c.custom.patch_namespaced_custom_object(
        *ISVC, "llama", {"spec": {"predictor": {"model": {"modelFormat": {"name": fmt}}}}}
    )
    c.clock.advance(2)
    model = c.status()["modelStatus"]
    assert model == {
        "transitionStatus": "InvalidSpec",
        "states": {"activeModelState": "", "targetModelState": "FailedToLoad"},
        "lastFailureInfo": {"reason": reason, "message": message},
    }
    assert c.conditions() == {
        "IngressReady": ("Unknown", "", ""),
        "PredictorReady": ("Unknown", "", ""),
        "Ready": ("Unknown", "", ""),
        "Stopped": ("False", "", ""),
    }
    assert ("Warning", "InternalError", event) in c.events("llama")
    assert c.pods() == []


def test_a_runtime_created_after_the_service_unblocks_it(cluster: Cluster) -> None:
    c = cluster
    c.claim()
    c.isvc()
    c.clock.advance(5)
    assert c.status()["modelStatus"]["transitionStatus"] == "InvalidSpec"
    c.runtime()
    c.until(lambda: c.conditions().get("Ready", ("",))[0] == "True")
