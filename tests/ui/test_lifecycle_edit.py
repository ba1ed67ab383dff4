"""Edit in the wizard: opened from its Deployments page, prefilled and locked as the dashboard locks it,
the exact change shown before applying, applied through the orchestrator's update path."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
from kubernetes import client
from lifecycle_driver import dashboard_deployment, lifecycle_wizard, open_api
from wizard_driver import all_state_json, secret_values, step_state

from nim_widget.cluster.api import Api
from nim_widget.deploy import deploy
from nim_widget.deploy.steps import StepState
from nim_widget.request import DeploymentRequest
from nim_widget.sandbox import Sandbox
from nim_widget.ui import NimWizard
from nim_widget.ui.header import EDIT_TITLE, TITLE

IS_API = "serving.kserve.io/v1beta1"


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[Api]:
    yield from open_api(sandbox)


@pytest.fixture
def deployed(sandbox: Sandbox, api: Api) -> str:
    request = DeploymentRequest.model_validate(
        {
            "project": "demo",
            "displayName": "Llama small",
            "model": "llama-3.2-1b-instruct",
            "hardwareProfile": "nvidia-gpu-1x",
            "storage": {"mode": "new", "size": "20Gi"},
            "env": [{"name": "NIM_MAX_MODEL_LEN", "value": "8192"}],
            "resources": {"requests": {"cpu": "3"}},
        },
        by_alias=True,
        by_name=False,
    )
    return deploy(api=api, request=request, clock=sandbox.clock).name


@pytest.fixture
def wizard(sandbox: Sandbox) -> Iterator[NimWizard]:
    made = lifecycle_wizard(sandbox, wait_until_ready=False)
    yield made
    made.close()


def open_edit(wizard: NimWizard, name: str) -> None:
    wizard.nav_deployments.click()
    assert wizard.current_step == 6 and wizard.deployments_view is not None
    slot = wizard.deployments_view.slot_for(name)
    assert slot is not None
    slot.edit.click()
    assert wizard.edit_session is not None, wizard.edit_banner.value


def to_review(wizard: NimWizard) -> None:
    while wizard.current_step < 4:
        assert not wizard.next.disabled, wizard.check.errors
        wizard.next.click()


def isvc(api: Api, name: str) -> dict[str, object]:
    return api.get(api_version=IS_API, kind="InferenceService", name=name, namespace="demo")


def test_edit_is_prefilled_and_locked_as_in_the_dashboard(wizard: NimWizard, deployed: str) -> None:
    open_edit(wizard, deployed)
    assert wizard.current_step == 2
    assert EDIT_TITLE in wizard.header.title.value
    assert "Editing a deployment" in wizard.edit_banner.value
    section, storage, picker = wizard.deployment, wizard.storage, wizard.picker
    assert section.display_name.value == "Llama small"
    assert (section.resource_name.value, section.resource_name.disabled) == ("llama-small", True)
    assert section.project.disabled and section.edit_resource.layout.display == "none"
    assert section.profile.value == "opendatahub/nvidia-gpu-1x"
    cpu = section.slot_for("cpu")
    assert cpu is not None and cpu.text.value == "3"
    assert section.replicas.value == 1
    assert picker.model_key == "llama-3.2-1b-instruct" and picker.selected_tag == "1.12.0"
    assert picker.list.disabled and picker.search.disabled and not picker.tag.disabled
    assert storage.mode.value == "existing" and storage.mode.disabled
    assert storage.existing.value == "llama-small-cache" and storage.existing.disabled
    assert (storage.size.value, storage.unit.value) == (20, "Gi")
    assert storage.size_field.box.layout.display is None  # the one storage field an edit may change
    assert storage.pvc_name_field.box.layout.display == "none"
    wizard.next.click()
    names = [(row.name.value, row.value.value) for row in wizard.env.rows]
    assert names == [("NIM_MAX_MODEL_LEN", "8192")]  # rows made when the page is shown


def test_no_change_is_an_empty_preview_and_nothing_to_apply(
    wizard: NimWizard, deployed: str, sandbox: Sandbox
) -> None:
    open_edit(wizard, deployed)
    sandbox.log.clear()
    to_review(wizard)
    changes = wizard.review.changes.value
    assert "No changes" in changes and "matches the deployment as it runs now" in changes
    assert wizard.change_preview is not None and wizard.change_preview.empty
    assert wizard.deploy_button.description == "Apply changes" and wizard.deploy_button.disabled
    assert sandbox.log.writes() == []


def test_changing_replicas_shows_the_patch_then_applies_it(
    wizard: NimWizard, deployed: str, api: Api, sandbox: Sandbox, core_v1: client.CoreV1Api
) -> None:
    open_edit(wizard, deployed)
    wizard.deployment.replicas.value = 2
    to_review(wizard)
    changes = wizard.review.changes.value
    lines = [html.unescape(line) for line in changes.split("</div>") if "nimw-change-line" in line]
    assert [line.split(">", 1)[1].split('">')[-1] for line in lines] == [
        "unchanged ServingRuntime llama-small",
        "update InferenceService llama-small (2 operations):",
        "  ~ /spec/predictor/minReplicas: 1 -> 2",
        "  ~ /spec/predictor/maxReplicas: 1 -> 2",
    ]
    assert "nimw-change-replace" in changes and "-&gt; 2" in changes  # escaped, classed by kind
    assert not wizard.deploy_button.disabled
    assert "kind: InferenceService" in wizard.review.yaml_text
    wizard.review.dry_run.click()  # the update path, checked by the cluster without storing
    assert "Dry run passed" in wizard.review.dry_run_result.value
    assert isvc(api, deployed)["spec"]["predictor"]["minReplicas"] == 1  # type: ignore[index]

    sandbox.log.clear()
    wizard.deploy_button.click()
    assert "Llama small is updated" in wizard.progress.outcome.value
    assert "Updating Llama small in project demo" in wizard.progress.heading.value
    assert step_state(wizard, 12) == "succeeded"
    assert [e.state for e in wizard.progress.events if e.step == 7][-1] is StepState.SUCCEEDED
    predictor = isvc(api, deployed)["spec"]["predictor"]  # type: ignore[index]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 2)
    writes = [
        (e.method, e.resource, e.dry_run)
        for e in sandbox.log.writes()
        if e.resource != "selfsubjectaccessreviews"  # the pre-flight permission checks
    ]
    assert writes == [("PUT", "inferenceservices", True), ("PUT", "inferenceservices", False)]
    assert 'data-state="skipped"' in wizard.readiness.row.value  # wait_until_ready is off here

    state = all_state_json()
    for secret in ("nvidia-nim-secrets", "ngc-secret"):  # no key in any widget a notebook could save
        values = secret_values(core_v1, namespace="demo", name=secret)
        assert values
        for value in values:
            assert value not in state

    wizard.progress.new_deployment.click()
    assert wizard.edit_session is None and TITLE in wizard.header.title.value
    assert not wizard.deployment.resource_name.disabled and not wizard.picker.list.disabled
    assert wizard.review.edit_box.layout.display == "none"


def test_overwrite_sends_the_change_as_a_json_patch(
    wizard: NimWizard, deployed: str, api: Api, sandbox: Sandbox
) -> None:
    open_edit(wizard, deployed)
    wizard.deployment.replicas.value = 3
    to_review(wizard)
    wizard.review.overwrite.value = True  # the preview is computed again, as a patch
    assert wizard.change_preview is not None
    assert [o.operation for o in wizard.change_preview.plan.objects] == ["patch", "patch"]
    sandbox.log.clear()
    wizard.deploy_button.click()
    real = [e for e in sandbox.log.writes() if not e.dry_run and e.resource == "inferenceservices"]
    assert [(e.method, e.content_type) for e in real] == [("PATCH", "application/json-patch+json")]
    assert isvc(api, deployed)["spec"]["predictor"]["minReplicas"] == 3  # type: ignore[index]


def test_the_pvc_can_grow_but_not_shrink(wizard: NimWizard, deployed: str, sandbox: Sandbox) -> None:
    open_edit(wizard, deployed)
    storage = wizard.storage
    sandbox.log.clear()
    storage.size.value = 10
    message = storage.size_field.error.value
    assert 'Storage can only grow: "llama-small-cache" is 20Gi now' in html.unescape(message)
    assert wizard.next.disabled
    assert sandbox.log.entries == []  # refused before any API call

    storage.size.value = 40
    assert storage.size_field.error.value == ""
    to_review(wizard)
    changes = html.unescape(wizard.review.changes.value)
    assert "update PersistentVolumeClaim llama-small-cache" in changes
    assert '~ /spec/resources/requests/storage: "20Gi" -> "40Gi"' in changes


def test_a_dashboard_made_deployment_opens_for_edit(wizard: NimWizard, api: Api) -> None:
    dashboard_deployment(api, name="dash-made", display_name="From the dashboard", replicas=2)
    open_edit(wizard, "dash-made")
    assert wizard.deployment.display_name.value == "From the dashboard"
    assert wizard.deployment.replicas.value == 2
    assert wizard.storage.existing.value == "dash-made-cache"
    wizard.deployment.replicas.value = 1
    to_review(wizard)
    assert "  ~ /spec/predictor/minReplicas: 2 -&gt; 1" in wizard.review.changes.value


def test_a_deployment_that_cannot_be_read_back_says_why(wizard: NimWizard, api: Api) -> None:
    from lifecycle import dashboard_objects as dash

    runtime = dash.wizard_runtime(name="no-cache", pvc="x")
    spec = runtime["spec"]
    spec["volumes"] = spec["volumes"][:-1]
    spec["containers"][0]["volumeMounts"] = spec["containers"][0]["volumeMounts"][:-1]
    api.create(body=runtime)
    api.create(body=dash.wizard_inference_service(name="no-cache", display_name="No cache"))
    wizard.nav_deployments.click()
    wizard.deployments_view.slot_for("no-cache").edit.click()  # type: ignore[union-attr]
    assert wizard.edit_session is None
    assert "no model cache PVC mounted at /mnt/models/cache" in wizard.edit_banner.value
    wizard.cancel_edit.click()
    assert wizard.edit_bar.layout.display == "none" and wizard.current_step == 1
