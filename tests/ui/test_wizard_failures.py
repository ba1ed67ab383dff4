"""Failure paths: a fault injected on the wire, the rollback shown, and the picker's states."""

from __future__ import annotations

from typing import Any, cast

import pytest
from kubernetes import client
from wizard_driver import create_account, create_project, make_wizard, step_state

from nim_widget.deploy.steps import StepState
from nim_widget.facts import ACCOUNT_ERROR_TITLE, ACCOUNT_NOT_FOUND_TITLE
from nim_widget.sandbox import FakeClock, Sandbox
from nim_widget.ui.picker import TEXT_EMPTY, TEXT_LOAD_ERROR, TEXT_PENDING_TITLE
from nim_widget.ui.wizard import NimWizard


def _to_review(wizard: NimWizard, *, name: str) -> None:
    wizard.picker.choose(key="llama-3.2-1b-instruct")
    wizard.next.click()
    wizard.deployment.display_name.value = name
    wizard.next.click()
    wizard.next.click()
    assert wizard.current_step == 4 and not wizard.deploy_button.disabled


def test_a_failed_write_shows_the_error_and_the_rollback(
    sandbox: Sandbox, custom_objects: client.CustomObjectsApi, core_v1: client.CoreV1Api
) -> None:
    wizard = make_wizard(sandbox)
    _to_review(wizard, name="Doomed model")
    sandbox.faults.add(
        verb="create",
        resource="inferenceservices",
        dry_run=False,
        status=500,
        message="etcdserver: request timed out",
    )
    wizard.deploy_button.click()

    outcome = wizard.progress.outcome.value
    assert "nimw-error" in outcome and "Cluster unavailable" in outcome
    assert "etcdserver: request timed out" in outcome
    assert "Wait a moment and deploy again" in outcome  # what to do
    states = {step: step_state(wizard, step) for step in range(1, 13)}
    assert "failed" in states.values() and "rolled_back" in states.values()
    assert all(states[step] == "succeeded" for step in range(1, 7))
    assert states[12] == "pending"
    rolled = [e for e in wizard.progress.events if e.state is StepState.ROLLED_BACK]
    assert rolled and wizard.progress.rolled_back == tuple(e.detail or e.title for e in rolled)
    assert "Rolled back" in wizard.progress.rollback.value
    for detail in wizard.progress.rolled_back:
        assert detail.replace('"', "&quot;").replace("'", "&#x27;") in wizard.progress.rollback.value

    # Nothing this run created is left; what existed before is untouched.
    with pytest.raises(client.ApiException) as missing:
        custom_objects.get_namespaced_custom_object(
            group="serving.kserve.io",
            version="v1alpha1",
            namespace="demo",
            plural="servingruntimes",
            name="doomed-model",
        )
    assert missing.value.status == 404
    assert core_v1.read_namespaced_secret(name="nvidia-nim-secrets", namespace="demo").data

    # The form is still there to try again.
    assert wizard.progress.back_to_form.layout.display is None
    wizard.progress.back_to_form.click()
    assert wizard.current_step == 4
    wizard.deploy_button.click()
    assert "Doomed model is deployed" in wizard.progress.outcome.value
    assert wizard.progress.rollback.value == ""


def test_a_name_taken_between_review_and_deploy_sends_the_person_to_step_2(sandbox: Sandbox) -> None:
    first = make_wizard(sandbox)
    second = make_wizard(sandbox)
    _to_review(first, name="Contested")
    _to_review(second, name="Contested")
    first.deploy_button.click()
    assert "Contested is deployed" in first.progress.outcome.value
    second.deploy_button.click()
    assert (
        "A model deployment with the name &quot;Contested&quot; already exists"
        in second.progress.outcome.value
    )
    second.progress.back_to_form.click()
    assert second.current_step == 2
    assert second.deployment.name_field.message == (
        'A model deployment with the name "Contested" already exists. '
        "Please choose a different model deployment name."
    )
    assert second.next.disabled


def test_dry_run_failure_is_reported_on_the_review_step(sandbox: Sandbox) -> None:
    wizard = make_wizard(sandbox)
    _to_review(wizard, name="Dry model")
    sandbox.faults.add(
        verb="create",
        resource="servingruntimes",
        dry_run=True,
        status=403,
        message='servingruntimes.serving.kserve.io is forbidden: User "dev" cannot create',
    )
    wizard.review.dry_run.click()
    result = wizard.review.dry_run_result.value
    assert "nimw-alert-danger" in result and "serving runtime is forbidden" in result
    assert not wizard.review.dry_run.disabled and wizard.current_step == 4


def test_catalog_load_error_offers_retry(sandbox: Sandbox) -> None:
    sandbox.faults.add(verb="get", resource="accounts", status=503, times=20)
    wizard = make_wizard(sandbox)
    assert TEXT_LOAD_ERROR in wizard.picker.state.value
    assert wizard.picker.retry.layout.display is None
    assert wizard.picker.chooser.layout.display == "none" and wizard.next.disabled
    sandbox.faults.clear()
    wizard.picker.retry.click()
    assert wizard.picker.state.value == "" and wizard.picker.retry.layout.display == "none"
    assert wizard.picker.visible_rows()


def test_account_states_use_the_dashboard_texts(
    sandbox: Sandbox, core_v1: client.CoreV1Api, custom_objects: client.CustomObjectsApi
) -> None:
    create_project(core_v1, "no-key")
    create_project(core_v1, "bad-key")
    create_account(core_v1, custom_objects, namespace="bad-key", key="nvapi-invalid-0000000000")
    wizard = make_wizard(sandbox, project="no-key")
    state = wizard.picker.state.value
    assert (
        ACCOUNT_NOT_FOUND_TITLE in state
        and "No NVIDIA NIM key has been configured for this project." in state
    )
    assert "Ask your project administrator to configure NVIDIA NIM." in state
    assert "nimw-pill-missing" in wizard.header.line.value
    assert wizard.next.disabled

    wizard.deployment.project.value = "bad-key"
    assert TEXT_PENDING_TITLE in wizard.picker.state.value
    assert "Contacting NVIDIA to validate the license key." in wizard.picker.state.value
    assert "nimw-pill-pending" in wizard.header.line.value
    clock = sandbox.clock
    assert isinstance(clock, FakeClock)
    clock.advance(30)
    wizard.picker.retry.click()
    state = wizard.picker.state.value
    assert ACCOUNT_ERROR_TITLE in state
    assert "The NVIDIA NIM key for this project is invalid and needs to be replaced." in state
    assert "api key failed validation" in state
    assert "nimw-pill-error" in wizard.header.line.value


def test_empty_catalog(sandbox: Sandbox, core_v1: client.CoreV1Api) -> None:
    core_v1.replace_namespaced_config_map(
        name="odh-nim-account-cm",
        namespace="demo",
        body=cast(
            Any,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "odh-nim-account-cm", "namespace": "demo"},
                "data": {},
            },
        ),
    )
    wizard = make_wizard(sandbox)
    assert TEXT_EMPTY in wizard.picker.state.value
    assert wizard.picker.visible_rows() == [] and wizard.next.disabled
