"""The deployments view: dashboard-made and nim-widget deployments alike, Stop/Start, Delete with a typed
confirmation and the storage choice, model access, and Edit opening the wizard."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lifecycle import dashboard_objects as dash
from lifecycle_driver import advance, dashboard_deployment, make_view, open_api
from wizard_driver import html_values

from nim_widget.cluster.api import Api
from nim_widget.deploy import deploy
from nim_widget.request import DeploymentRequest
from nim_widget.sandbox import Rule, Sandbox
from nim_widget.ui.deployments import NimDeployments
from nim_widget.ui.worker import thread_runner

IS_API = "serving.kserve.io/v1beta1"
HOSTILE = 'Dash <img src=x onerror="alert(1)">'


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[Api]:
    yield from open_api(sandbox)


@pytest.fixture
def views() -> Iterator[list[NimDeployments]]:
    made: list[NimDeployments] = []
    yield made
    for view in made:
        view.close()


def nim_widget_deployment(api: Api, sandbox: Sandbox, *, display_name: str = "Llama small") -> str:
    request = DeploymentRequest.model_validate(
        {
            "project": "demo",
            "displayName": display_name,
            "model": "llama-3.2-1b-instruct",
            "hardwareProfile": "nvidia-gpu-1x",
            "storage": {"mode": "new", "size": "20Gi"},
        },
        by_alias=True,
        by_name=False,
    )
    return deploy(api=api, request=request, clock=sandbox.clock).name


def isvc(api: Api, name: str) -> dict[str, object] | None:
    return api.try_get(api_version=IS_API, kind="InferenceService", name=name, namespace="demo")


def test_the_table_lists_dashboard_and_nim_widget_deployments_alike(
    sandbox: Sandbox, api: Api, views: list[NimDeployments]
) -> None:
    dashboard_deployment(api, name="dash-made", display_name=HOSTILE)
    nim_widget_deployment(api, sandbox)
    view = make_view(sandbox)
    views.append(view)
    assert [r.name for r in view.rows] == ["dash-made", "llama-small"]
    dash_cells = view.slots[0].cells.value
    ours = view.slots[1].cells.value
    assert 'data-name="dash-made"' in dash_cells and 'data-made-by="dashboard"' in dash_cells
    assert "made in the dashboard" in dash_cells
    # who made ours is the engine's call (listing.made_by); the row shows exactly that
    assert 'data-name="llama-small"' in ours and f'data-made-by="{view.rows[1].made_by}"' in ours
    for cells in (dash_cells, ours):
        assert "llama-3.2-1b-instruct" in cells and "1.12.0" in cells  # model and tag
        assert "opendatahub/nvidia-gpu-1x" in cells  # hardware profile
        assert "0/1" in cells  # replicas: none ready of one
        assert 'class="nimw-dep-cell nimw-dep-age">0s<' in cells
    assert "dash-made-cache (20Gi)" in dash_cells and "llama-small-cache (20Gi)" in ours
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in dash_cells
    assert not [v for v in html_values() if "<img src=x" in v]
    assert view.slots[2].box.layout.display == "none" and view.slots[0].box.layout.display is None
    assert "2 deployments in project demo" in view.status.value

    advance(sandbox, 300)
    view.refresh_button.click()
    ours = view.slot_for("llama-small")
    assert ours is not None and 'data-state="ready"' in ours.cells.value
    assert "http://llama-small-predictor.demo.svc.cluster.local" in ours.cells.value
    assert "1/1" in ours.cells.value and ">5m<" in ours.cells.value


def test_stop_and_start_toggle_without_confirmation(
    sandbox: Sandbox, api: Api, views: list[NimDeployments]
) -> None:
    name = nim_widget_deployment(api, sandbox)
    view = make_view(sandbox)
    views.append(view)
    slot = view.slot_for(name)
    assert slot is not None and slot.toggle.description == "Stop"
    slot.toggle.click()
    assert "llama-small stopped." in view.result.value and "nimw-alert-success" in view.result.value
    live = isvc(api, name)
    assert live is not None
    assert live["metadata"]["annotations"]["serving.kserve.io/stop"] == "true"  # type: ignore[index]
    slot = view.slot_for(name)
    assert slot is not None and slot.toggle.description == "Start"
    assert 'data-state="stopped"' in slot.cells.value
    slot.toggle.click()
    assert "llama-small started." in view.result.value
    live = isvc(api, name)
    assert live["metadata"]["annotations"]["serving.kserve.io/stop"] == "false"  # type: ignore[index]
    assert view.slot_for(name).toggle.description == "Stop"  # type: ignore[union-attr]


def test_delete_needs_the_typed_name_and_keeps_the_model_cache_by_default(
    sandbox: Sandbox, api: Api, views: list[NimDeployments]
) -> None:
    name = nim_widget_deployment(api, sandbox)
    view = make_view(sandbox)
    views.append(view)
    panel = view.delete_panel
    view.slot_for(name).delete.click()  # type: ignore[union-attr]
    assert panel.box.layout.display is None
    assert "Delete Llama small?" in panel.title.value
    assert "InferenceService llama-small" in panel.plan.value and "nimw-delete-deleting" in panel.plan.value
    kept = panel.plan.value.split("Will be kept")[1]
    assert "PersistentVolumeClaim llama-small-cache" in kept and "kept by default" in kept
    assert not panel.storage.value and not panel.storage.disabled
    assert "holds the downloaded model" in panel.storage_help.value
    assert panel.delete.disabled

    sandbox.log.clear()
    panel.confirm.value = "llama-smal"
    assert panel.delete.disabled
    panel.delete.click()  # even a click that gets through does nothing without the right name
    assert "The name does not match" in panel.message.value
    assert [e for e in sandbox.log.writes() if e.resource != "selfsubjectaccessreviews"] == []
    assert isvc(api, name) is not None

    panel.confirm.value = "llama-small"
    assert not panel.delete.disabled
    panel.delete.click()
    report = panel.report.value
    assert "Llama small was deleted" in report
    deleted = report.split('class="nimw-delete-deleted"')[1].split("</ul>")[0]
    assert "InferenceService llama-small" in deleted and "ServingRuntime llama-small" in deleted
    kept = report.split('class="nimw-delete-kept"')[1].split("</ul>")[0]
    assert "PersistentVolumeClaim llama-small-cache" in kept
    assert "kept by default: it holds the downloaded model (20Gi)" in kept
    assert isvc(api, name) is None
    assert api.try_get(
        api_version="v1", kind="PersistentVolumeClaim", name="llama-small-cache", namespace="demo"
    )
    assert view.rows == [] and "No NVIDIA NIM model deployments" in view.empty.value


def test_delete_with_storage_removes_the_unshared_model_cache(
    sandbox: Sandbox, api: Api, views: list[NimDeployments]
) -> None:
    name = nim_widget_deployment(api, sandbox)
    view = make_view(sandbox)
    views.append(view)
    panel = view.delete_panel
    view.slot_for(name).delete.click()  # type: ignore[union-attr]
    panel.storage.value = True
    deleting = panel.plan.value.split("Will be kept")[0]
    assert "PersistentVolumeClaim llama-small-cache" in deleting
    panel.confirm.value = name
    panel.delete.click()
    deleted = panel.report.value.split('class="nimw-delete-deleted"')[1].split("</ul>")[0]
    assert "PersistentVolumeClaim llama-small-cache" in deleted
    pvc = api.try_get(
        api_version="v1", kind="PersistentVolumeClaim", name="llama-small-cache", namespace="demo"
    )
    assert pvc is None or pvc["metadata"].get("deletionTimestamp")


def test_a_shared_model_cache_cannot_be_ticked_for_deletion(
    sandbox: Sandbox, api: Api, views: list[NimDeployments]
) -> None:
    dashboard_deployment(api, name="dash-a", display_name="Dash A")
    api.create(body=dash.wizard_runtime(name="dash-b", pvc="dash-a-cache"))
    api.create(body=dash.wizard_inference_service(name="dash-b", display_name="Dash B"))
    view = make_view(sandbox)
    views.append(view)
    view.slot_for("dash-a").delete.click()  # type: ignore[union-attr]
    panel = view.delete_panel
    assert panel.storage.disabled
    assert "also mounted by serving runtime dash-b" in panel.storage_help.value
    panel.storage.value = True  # even ticked by a script, the shared cache stays
    panel.confirm.value = "dash-a"
    panel.delete.click()
    kept = panel.report.value.split('class="nimw-delete-kept"')[1]
    assert "PersistentVolumeClaim dash-a-cache" in kept and "shared" in kept
    assert api.try_get(api_version="v1", kind="PersistentVolumeClaim", name="dash-a-cache", namespace="demo")


def test_access_shows_the_state_and_enables_route_and_tokens_on_request(
    sandbox: Sandbox, api: Api, views: list[NimDeployments]
) -> None:
    name = nim_widget_deployment(api, sandbox)
    view = make_view(sandbox)
    views.append(view)
    panel = view.access_panel
    sandbox.log.clear()
    view.slot_for(name).access.click()  # type: ignore[union-attr]
    assert sandbox.log.writes() == []  # looking is not enabling
    assert "Access to Llama small" in view.panel_title.value
    assert "External route</th><td>no" in panel.info.value
    assert panel.enable.layout.display is None
    panel.enable.click()
    assert "Created ServiceAccount llama-small-sa" in panel.message.value
    assert "External route</th><td>yes" in panel.info.value
    assert "Token authentication</th><td>required" in panel.info.value
    assert "Token not issued yet" in panel.token.value
    assert panel.enable.layout.display == "none"
    assert api.try_get(api_version="v1", kind="ServiceAccount", name="llama-small-sa", namespace="demo")
    live = isvc(api, name)
    assert live["metadata"]["labels"]["networking.kserve.io/visibility"] == "exposed"  # type: ignore[index]


def test_access_without_permission_says_who_may(
    sandbox: Sandbox, api: Api, views: list[NimDeployments]
) -> None:
    name = nim_widget_deployment(api, sandbox)
    view = make_view(sandbox)
    views.append(view)
    view.slot_for(name).access.click()  # type: ignore[union-attr]
    sandbox.access.set_rules(
        [
            Rule.of(verbs=("get", "list", "watch", "update", "patch", "delete")),
            Rule.of(verbs="create", resources=("selfsubjectaccessreviews",)),
        ]
    )
    view.access_panel.enable.click()
    assert "can only be changed by administrator users" in view.result.value
    assert (
        api.try_get(api_version="v1", kind="ServiceAccount", name="llama-small-sa", namespace="demo") is None
    )


def test_edit_opens_the_wizard_below_the_table(
    sandbox: Sandbox, api: Api, views: list[NimDeployments]
) -> None:
    dashboard_deployment(api, name="dash-made", display_name="From the dashboard")
    view = make_view(sandbox, ready_timeout=60)
    views.append(view)
    view.slot_for("dash-made").edit.click()  # type: ignore[union-attr]
    assert view.pages.selected_index == 1
    editor = view.editor()
    assert editor.edit_session is not None and editor.current_step == 2
    assert editor.deployment.resource_name.value == "dash-made" and editor.deployment.resource_name.disabled
    assert editor.deployment.display_name.value == "From the dashboard"
    assert editor.ready_timeout == 60
    editor.nav_deployments.click()  # back to this view, not a page of the wizard's own
    assert view.pages.selected_index == 0 and editor.deployments_view is None


def test_on_real_threads_the_clicks_return_at_once(
    sandbox: Sandbox, api: Api, views: list[NimDeployments]
) -> None:
    name = nim_widget_deployment(api, sandbox)
    view = make_view(sandbox, runner=thread_runner)
    views.append(view)
    assert view.join(10) and [r.name for r in view.rows] == [name]
    sandbox.faults.add(verb="patch", resource="inferenceservices", dry_run=False, latency=0.5)
    slot = view.slot_for(name)
    assert slot is not None
    slot.toggle.click()
    assert slot.toggle.disabled and view.refresh_button.disabled  # busy while the stop is on its way
    assert "Stopping llama-small" in view.result.value
    assert view.join(10)
    assert "llama-small stopped." in view.result.value
    assert not view.refresh_button.disabled
    assert view.slot_for(name).toggle.description == "Start"  # type: ignore[union-attr]
