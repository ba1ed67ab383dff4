"""Helpers for the widget's lifecycle tests: a wizard whose step 13 follows on a thread while the test
moves the sandbox's fake clock, and deployments made by the dashboard's shapes.

Everything else in these tests runs inline; only following runs on a thread, because it waits for
the cluster while the test is the one making the cluster move. Waiting is event-driven with a
deadline (no sleeps): the test polls what the widgets show against a fresh read of the cluster.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from lifecycle import dashboard_objects as dash
from wizard_driver import make_wizard

from nim_widget.cluster.api import Api
from nim_widget.cluster.connect import connect_client
from nim_widget.lifecycle.readiness import snapshot_of
from nim_widget.lifecycle.stages import Progress, observe
from nim_widget.sandbox import FakeClock, Sandbox
from nim_widget.ui import NimWizard
from nim_widget.ui.deployments import NimDeployments
from nim_widget.ui.worker import inline_runner, thread_runner

SETTLE_SECONDS = 10.0
MODEL = "llama-3.2-1b-instruct"
ONE_GPU = "opendatahub/nvidia-gpu-1x"
FOUR_GPUS = "opendatahub/nvidia-gpu-4x"


def lifecycle_wizard(sandbox: Sandbox, **kwargs: Any) -> NimWizard:
    """Jobs inline; step 13 on a daemon thread, on the sandbox's clock (the wizard's clock)."""
    kwargs.setdefault("follow_runner", thread_runner)
    return make_wizard(sandbox, **kwargs)


def make_view(sandbox: Sandbox, **kwargs: Any) -> NimDeployments:
    """A stand-alone deployments view on the sandbox, jobs inline, ages on the sandbox's clock."""
    configuration = sandbox.configuration()
    connection = connect_client(api_client=client.ApiClient(configuration), namespace="demo")
    kwargs.setdefault("runner", inline_runner)
    kwargs.setdefault("demo", True)
    return NimDeployments(
        connection=connection, clock=lambda: datetime.fromtimestamp(sandbox.clock.now(), UTC), **kwargs
    )


def open_api(sandbox: Sandbox) -> Iterator[Api]:
    configuration = sandbox.configuration()
    with client.ApiClient(configuration) as api_client:
        yield Api(api_client=api_client)


def advance(sandbox: Sandbox, seconds: float) -> None:
    clock = sandbox.clock
    assert isinstance(clock, FakeClock)
    clock.advance(seconds)


def fill_and_review(wizard: NimWizard, *, display_name: str, profile: str = ONE_GPU, size: int = 20) -> None:
    """Step 1 to 4 as a person would, with a small cache so the sandbox provisions it quickly."""
    wizard.picker.choose(key=MODEL)
    wizard.next.click()
    wizard.deployment.display_name.value = display_name
    wizard.deployment.profile.value = profile
    wizard.storage.size.value = size
    wizard.next.click()
    wizard.next.click()
    assert wizard.current_step == 4 and not wizard.deploy_button.disabled, wizard.check.errors


def deploy_through(wizard: NimWizard, *, display_name: str, profile: str = ONE_GPU) -> str:
    """Deploy through the form; returns the resource name. Step 13 starts on its thread."""
    fill_and_review(wizard, display_name=display_name, profile=profile)
    wizard.deploy_button.click()
    assert wizard.last_result is not None, wizard.progress.outcome.value
    return wizard.last_result.name


def settle(wizard: NimWizard, api: Api, name: str) -> Progress:
    """Wait until step 13 shows what a fresh read of the cluster says (or following has ended)."""
    readiness = wizard.readiness
    deadline = time.monotonic() + SETTLE_SECONDS
    pause = threading.Event()
    while True:
        expected = observe(snapshot_of(api=api, namespace="demo", name=name))
        with wizard.publisher.batch():  # the worker publishes a stage and its widgets under this lock
            last, following = readiness.last, readiness.following
        if last is not None and (last.same_as(expected) or not following):
            return last
        assert time.monotonic() < deadline, f"step 13 stuck at {last} while the cluster says {expected}"
        pause.wait(0.02)


def advance_until(
    wizard: NimWizard,
    sandbox: Sandbox,
    api: Api,
    name: str,
    done: Callable[[Progress], bool],
    *,
    on_each: Callable[[Progress], None] | None = None,
    step: float = 1.0,
    limit: float = 600.0,
) -> Progress:
    """Move the fake clock a second at a time until ``done``; ``on_each`` checks every new stage shown."""
    progress = settle(wizard, api, name)
    moved = 0.0
    seen: Progress | None = None
    while True:
        if on_each is not None and not progress.same_as(seen):
            on_each(progress)
            seen = progress
        if done(progress):
            return progress
        assert moved < limit, f"not done after {limit} s of cluster time; last: {progress.message}"
        advance(sandbox, step)
        moved += step
        progress = settle(wizard, api, name)


def dashboard_deployment(api: Api, *, name: str, display_name: str, replicas: int = 1) -> None:
    """A deployment exactly as the OpenShift AI dashboard's wizard writes it (reference B)."""
    api.create(body=dash.wizard_pvc(name=f"{name}-cache"))
    api.create(body=dash.wizard_runtime(name=name, pvc=f"{name}-cache"))
    api.create(body=dash.wizard_inference_service(name=name, display_name=display_name, replicas=replicas))
