"""The words of readiness: stages, the progress reported for one observation, and what is observed.

Plain data shared by the stage logic (`stages`, `pods`), the follower, the deployments list and the
widget, which draws its step 13 from `Progress`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from nim_widget.lifecycle import kinds as k


class Stage(StrEnum):
    PENDING = "pending"
    STORAGE = "storage"
    SCHEDULING = "scheduling"
    PULLING = "pulling"
    DOWNLOADING = "downloading"
    LOADING = "loading"
    READY = "ready"
    STOPPED = "stopped"
    FAILED = "failed"


STAGE_TITLES: dict[Stage, str] = {
    Stage.PENDING: "Starting",
    Stage.STORAGE: "Waiting for storage",
    Stage.SCHEDULING: "Scheduling",
    Stage.PULLING: "Pulling the image",
    Stage.DOWNLOADING: "Downloading the model",
    Stage.LOADING: "Loading the model",
    Stage.READY: "Ready",
    Stage.STOPPED: "Stopped",
    Stage.FAILED: "Failed",
}

# How far along each stage is; a deployment with several Pods shows its least advanced one.
ORDER = {stage: i for i, stage in enumerate(Stage)}
TERMINAL = frozenset({Stage.READY, Stage.STOPPED, Stage.FAILED})


@dataclass(frozen=True)
class Progress:
    """One observation: the stage, a sentence for people, and the cluster's own words."""

    stage: Stage
    message: str
    detail: str = ""
    url: str | None = None
    internal_url: str | None = None
    failed_stage: Stage | None = None
    elapsed: float = 0.0

    @property
    def title(self) -> str:
        return STAGE_TITLES[self.stage]

    @property
    def terminal(self) -> bool:
        return self.stage in TERMINAL

    def same_as(self, other: Progress | None) -> bool:
        """Equal apart from the elapsed time: the follower reports only real changes."""
        return other is not None and (self.stage, self.message, self.detail, self.url) == (
            other.stage,
            other.message,
            other.detail,
            other.url,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage.value,
            "title": self.title,
            "message": self.message,
            "detail": self.detail,
            "url": self.url,
            "internalUrl": self.internal_url,
            "failedStage": self.failed_stage.value if self.failed_stage else None,
            "elapsed": round(self.elapsed, 1),
        }


@dataclass(frozen=True)
class Snapshot:
    """What is known about one deployment at one moment (objects as the API returned them)."""

    name: str
    namespace: str
    inference_service: Mapping[str, Any] | None
    runtime: Mapping[str, Any] | None = None
    pvc: Mapping[str, Any] | None = None
    pods: Sequence[Mapping[str, Any]] = ()
    events: Sequence[Mapping[str, Any]] = ()

    @property
    def expected_pvc(self) -> str | None:
        """The model-cache PVC the runtime mounts, which the deployment waits for."""
        mount = k.cache_mount(self.runtime)
        return mount.pvc if mount else None
