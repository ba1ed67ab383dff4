"""Every delay the simulated controllers use, in one place.

Real clusters take minutes to pull a NIM image and load its weights; the demo should feel like a
cluster at work, yet show a model ready in well under a minute. The defaults below are that
compromise. Tests run on a ``FakeClock`` and only care about the order of the stages, so they
may pass their own ``Timings`` to make a stage as short or as long as they need.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Timings:
    # PersistentVolume controller and CSI provisioner / resizer.
    provision: float = 3.0  # Pending -> Bound once provisioning starts
    resize: float = 5.0  # expansion requested -> new capacity reported
    storage_retry: float = 15.0  # resync of claims that cannot be provisioned yet

    # KServe InferenceService controller (the Deployment and ReplicaSet controllers folded in).
    reconcile: float = 0.5  # a watched change -> the controller acts on it
    progress_deadline: float = 600.0  # a Deployment's progressDeadlineSeconds (the Kubernetes default)

    # kube-scheduler.
    schedule: float = 1.0  # a new pod -> a scheduling attempt
    schedule_retry: float = 10.0  # an unschedulable pod is retried this often

    # kubelet and the container runtime.
    sandbox: float = 2.0  # bound -> pod sandbox and network ready
    pull: float = 12.0  # image pull of a NIM image
    pull_failure: float = 2.0  # a registry answering "no"
    backoff: float = 10.0  # first image-pull / crash-loop back-off; doubles up to max_backoff
    max_backoff: float = 300.0
    start: float = 1.0  # container create + start
    model_download: float = 20.0  # NIM downloading weights into an empty cache, port closed
    model_cached: float = 5.0  # NIM starting from a cache that already holds the weights
    storage_initializer: float = 10.0  # KServe storage-initializer copying a storageUri
    crash_after: float = 6.0  # a NIM with a rejected NGC key runs this long before exiting
    config_retry: float = 10.0  # kubelet retry of a container whose config refers to missing objects
    terminate: float = 1.0  # graceful shutdown of a deleted predictor pod

    # odh-model-controller NIM account reconciler.
    finalizer: float = 0.1
    validation: float = 2.0  # the NGC key check against NVIDIA
    catalog: float = 3.0  # fetching the NGC catalog into the ConfigMap
    template: float = 0.5
    pull_secret: float = 0.5


DEFAULT_TIMINGS = Timings()
