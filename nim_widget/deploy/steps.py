"""The twelve steps of a deployment and the events that report them.

The wizard draws a checklist from these events and the CLI prints one line per event, so an event is
complete in itself: step id, title, state, how long it took, a sentence for people and the manifests
it touched (always redacted: events end up in logs and notebooks).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class StepState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    SKIPPED = "skipped"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


class Step(enum.IntEnum):
    VALIDATE = 1
    LOAD_TEMPLATE = 2
    RESOLVE_NAMES = 3
    SERVING_RUNTIME = 4
    INFERENCE_SERVICE = 5
    DRY_RUN = 6
    APPLY = 7
    SECRETS_AND_STORAGE = 8
    RESIZE_STORAGE = 9
    WRITE_BATCH = 10
    RESTART = 11
    RESULT = 12


STEP_TITLES: Mapping[int, str] = {
    Step.VALIDATE: "Validate request",
    Step.LOAD_TEMPLATE: "Load NIM template",
    Step.RESOLVE_NAMES: "Resolve names",
    Step.SERVING_RUNTIME: "Configure serving runtime",
    Step.INFERENCE_SERVICE: "Assemble inference service",
    Step.DRY_RUN: "Dry run",
    Step.APPLY: "Apply serving runtime and inference service",
    Step.SECRETS_AND_STORAGE: "Secrets and storage",
    Step.RESIZE_STORAGE: "Resize storage",
    Step.WRITE_BATCH: "Write changes",
    Step.RESTART: "Restart deployment",
    Step.RESULT: "Return deployment",
}

_MARKS = {
    StepState.PENDING: " ",
    StepState.RUNNING: ">",
    StepState.SUCCEEDED: "+",
    StepState.SKIPPED: "-",
    StepState.FAILED: "x",
    StepState.ROLLED_BACK: "<",
}


@dataclass(frozen=True)
class StepEvent:
    """One change of one step's state. `manifests` are redacted copies, safe to show and log."""

    step: int
    title: str
    state: StepState
    duration: float | None = None
    detail: str = ""
    manifests: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)

    def line(self) -> str:
        """One line for a terminal or a log: `[ 7/12] + Apply ... (0.03 s) - detail`."""
        timing = f" ({self.duration:.2f} s)" if self.duration is not None else ""
        detail = f" - {self.detail}" if self.detail else ""
        return f"[{self.step:>2}/12] {_MARKS[self.state]} {self.title}: {self.state.value}{timing}{detail}"


def event(
    *,
    step: int,
    state: StepState,
    duration: float | None = None,
    detail: str = "",
    manifests: tuple[Mapping[str, Any], ...] = (),
) -> StepEvent:
    return StepEvent(
        step=step, title=STEP_TITLES[step], state=state, duration=duration, detail=detail, manifests=manifests
    )


def where(*, step: int, obj: object | None = None) -> str:
    """The sentence that tells a person where a deployment stopped: the step and the object."""
    place = f"step {step}/12 ({STEP_TITLES[step]})"
    return f"Failed at {place} on {obj}." if obj is not None else f"Failed at {place}."
