"""The wizard inputs whose rendered plans are pinned under golden/<case>.yaml.

Each case is a spec file (the CLI's input) plus the state of the cluster around it, so a reviewer can
read the input here and hold the output against reference section B line by line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Case:
    id: str
    spec: str
    world: dict[str, Any] = field(default_factory=dict)
    update: bool = False
    overwrite: bool = False


CASES = (
    # Reference B.2/B.3/B.6 wizard example: new PVC typed "Llama cache" with subpath "/llama", GPU
    # profile; per-project account, so nvidia-nim-secrets is reused and ngc-secret is created (G).
    Case(
        "gpu-new-storage-subpath",
        """
project: my-project
displayName: Llama 3.1 8B
model: llama-3.1-8b-instruct
tag: "1.2.2"
storage: {mode: new, pvcName: Llama cache, size: 50Gi, storageClass: gp3-csi, subPath: /llama}
hardwareProfile: nvidia-gpu-small
""",
    ),
    # CPU-only profile, new storage with every default (name <name>-cache, 50Gi) but a chosen class,
    # no subpath, tag omitted (the catalog's latest).
    Case(
        "cpu-new-storage-defaults",
        """
project: my-project
displayName: Arctic embeddings
model: arctic-embed-l
storage: {mode: new, storageClass: nfs-client}
hardwareProfile: default-profile
""",
    ),
    # Existing NIM cache PVC with a subpath: nothing to create but the runtime and the service.
    Case(
        "existing-storage-subpath",
        """
project: my-project
displayName: Llama shared cache
model: llama-3.1-8b-instruct
tag: "1.1.2"
storage: {mode: existing, pvcName: shared-nim-cache, subPath: llama-3.1-8b-instruct}
hardwareProfile: nvidia-gpu-small
""",
    ),
    # Existing plain PVC without subpath; the 1.2-style tag stays exactly as the catalog has it.
    Case(
        "existing-storage-no-subpath",
        """
project: my-project
displayName: Tiny llama
model: llama-3.2-1b-instruct
tag: "1.8"
storage: {mode: existing, pvcName: notebook-data}
hardwareProfile: default-profile
""",
    ),
    # GPU profile with requests/limits overridden inside its bounds.
    Case(
        "gpu-resource-overrides",
        """
project: my-project
displayName: Llama tuned resources
model: llama-3.1-8b-instruct
storage: {mode: new, pvcName: llama-tuned-cache, size: 80Gi}
hardwareProfile: nvidia-gpu-small
resources:
  requests: {cpu: "6", memory: 24Gi, nvidia.com/gpu: "2"}
  limits: {cpu: "8", memory: 32Gi, nvidia.com/gpu: "2"}
""",
    ),
    # Environment variables and two replicas (min = max = 2).
    Case(
        "env-vars-replicas",
        """
project: my-project
displayName: Llama long context
model: llama-3.1-8b-instruct
storage: {mode: new, subPath: models/llama}
hardwareProfile: nvidia-gpu-small
replicas: 2
env:
  - {name: NIM_MAX_MODEL_LEN, value: "8192"}
  - {name: NIM_LOG_LEVEL, value: DEBUG}
  - {name: _EMPTY_FLAG}
""",
    ),
    # A display name starting with a digit: the wizard's regex wants a letter, we prefix "nim-".
    Case(
        "display-name-starts-with-digit",
        """
project: my-project
displayName: 3B Mini model
model: llama-3.2-1b-instruct
hardwareProfile: default-profile
""",
    ),
    # A long display name: the resource name is cut to 30 characters; project-scoped profile by ref.
    Case(
        "long-display-name",
        """
project: my-project
displayName: Llama 3.3 Nemotron Super 49B v1 - production deployment for the research team
model: llama-3.3-nemotron-super-49b-v1
storage: {mode: new, pvcName: nemotron-49b-cache, size: 1Ti, subPath: nemotron}
hardwareProfile: my-project/team-a100
""",
    ),
    # An NGC organisation with a team segment: image nvcr.io/nvaie/nim-embedding/<name>:<tag>.
    Case(
        "org-with-team",
        """
project: my-project
displayName: Production embeddings
model: nv-embedqa-e5-v5-pb24h2
tag: "1.0.1"
storage: {mode: new, pvcName: embedqa-cache, size: 30Gi}
hardwareProfile: nvidia-gpu-small
""",
    ),
    # Cluster-level account: the project has neither secret, both are copied in (B.5).
    Case(
        "cluster-account-missing-secrets",
        """
project: my-project
displayName: Llama 3.1 8B
model: llama-3.1-8b-instruct
storage: {mode: new, pvcName: llama-cache}
hardwareProfile: nvidia-gpu-small
""",
        world={"account": "cluster"},
    ),
    # Both secrets already in the project: nothing to copy, both reused.
    Case(
        "secrets-present",
        """
project: my-project
displayName: Llama 3.1 8B
model: llama-3.1-8b-instruct
storage: {mode: new, pvcName: llama-cache}
hardwareProfile: nvidia-gpu-small
""",
        world={"project_secrets": ("nvidia-nim-secrets", "odh-nim-account-pull", "ngc-secret")},
    ),
    # No hardware profile: no profile annotations, resources or scheduling; a description; 3 replicas.
    Case(
        "no-profile-description",
        """
project: my-project
displayName: Support bot embeddings
description: Embeddings for the support bot, owned by the help-desk team
model: arctic-embed-l
tag: "1.0.0"
storage: {mode: new, pvcName: support-embeddings}
replicas: 3
""",
    ),
    # No hardware profile, custom resources (a cluster without profiles): the container's requests and
    # limits exactly as typed (the GPU's request equal to its limit), and still no profile annotations,
    # tolerations or nodeSelector (B.4 deletes the annotations when there is no profile).
    Case(
        "no-profile-custom-resources",
        """
project: my-project
displayName: Llama custom resources
model: llama-3.1-8b-instruct
tag: "1.2.2"
storage: {mode: new, pvcName: llama-custom-cache, size: 60Gi}
resources:
  requests: {cpu: "4", memory: 24Gi, nvidia.com/gpu: "1"}
  limits: {cpu: "8", memory: 32Gi, nvidia.com/gpu: "1"}
""",
    ),
    # Update of deployment "arctic": new tag, GPU profile, 2 replicas; PUT bodies carry the live
    # resourceVersion and keep what others set (args, stop annotation, visibility label).
    Case(
        "update-replace",
        """
project: my-project
displayName: Arctic embeddings
name: arctic
model: arctic-embed-l
tag: "1.0.1"
storage: {mode: existing, pvcName: arctic-cache}
hardwareProfile: nvidia-gpu-small
replicas: 2
""",
        world={"with_existing": True, "project_secrets": ("nvidia-nim-secrets", "ngc-secret")},
        update=True,
    ),
    # Update with overwrite (JSON patch) and a larger cache: the PVC grows (force-redeploy annotation).
    Case(
        "update-overwrite-grow-storage",
        """
project: my-project
displayName: Arctic embeddings
name: arctic
model: arctic-embed-l
tag: "1.0.0"
storage: {mode: existing, pvcName: arctic-cache, size: 80Gi}
hardwareProfile: default-profile
""",
        world={"with_existing": True, "project_secrets": ("nvidia-nim-secrets", "ngc-secret")},
        update=True,
        overwrite=True,
    ),
    # Re-running the original "new storage" spec as an update: the PVC exists and is simply reused.
    Case(
        "update-rerun-new-storage-spec",
        """
project: my-project
displayName: Arctic embeddings
name: arctic
model: arctic-embed-l
tag: "1.0.0"
storage: {mode: new, pvcName: arctic-cache, size: 50Gi}
hardwareProfile: default-profile
""",
        world={"with_existing": True},
        update=True,
    ),
)
