"""After the deploy, in a real browser: step 13 until ready, then edit and delete from the Deployments page.

The app is `nim-widget app --demo` (the session's `app_server`), whose sandbox runs its controllers on
a real clock, so "ready" takes the demo's simulated image pull and model download (about 40 s). Every
change made through the page is checked through the Kubernetes API afterwards. Waiting is on the
stable ``nimw-*`` classes with Playwright's web-first assertions.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from playwright.sync_api import Page, expect
from voila_app import AppServer, ConsoleErrors

PROJECT = "demo"
DISPLAY_NAME = "Lifecycle in the browser"
NAME = "lifecycle-in-the-browser"
MODEL_SEARCH = "llama 3.1 8b"
MODEL_LABEL = "Llama 3.1 8B Instruct"
LOAD_TIMEOUT = 60_000
DEPLOY_TIMEOUT = 60_000
READY_TIMEOUT = 120_000  # the demo's simulated pull and download take about 40 s of real time
KSERVE = "serving.kserve.io"


@pytest.fixture
def kube(app_server: AppServer) -> Iterator[client.ApiClient]:
    loader: Any = config.new_client_from_config  # the kubernetes package ships these untyped
    api: Any = loader(config_file=str(app_server.kubeconfig))
    yield api
    api.close()


def _custom(api: client.ApiClient, *, version: str, plural: str, name: str) -> dict[str, Any] | None:
    try:
        found = client.CustomObjectsApi(api).get_namespaced_custom_object(
            group=KSERVE, version=version, namespace=PROJECT, plural=plural, name=name
        )
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    assert isinstance(found, dict)
    return found


def _pvc_exists(api: client.ApiClient, name: str) -> bool:
    try:
        client.CoreV1Api(api).read_namespaced_persistent_volume_claim(name=name, namespace=PROJECT)
    except client.ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def _row(page: Page, name: str) -> Any:
    return page.locator(".nimw-dep-row").filter(has=page.locator(f'.nimw-dep-cells[data-name="{name}"]'))


def test_deploy_wait_until_ready_edit_and_delete(
    page: Page,
    console_errors: ConsoleErrors,
    app_server: AppServer,
    kube: client.ApiClient,
    output_dir: Path,
) -> None:
    page.goto(app_server.url)
    expect(page.locator(".nimw-root")).to_be_visible(timeout=LOAD_TIMEOUT)
    expect(page.locator(".nimw-header-account .nimw-pill-ready")).to_be_visible(timeout=LOAD_TIMEOUT)
    next_button = page.locator("button.nimw-next")

    # Deploy (steps 1 to 4 with the proposed defaults).
    page.locator(".nimw-picker-search input").fill(MODEL_SEARCH)
    # the filtered list is final once the count says how many match; a pick before that is undone
    expect(page.locator(".nimw-picker-count")).to_contain_text("models match", timeout=LOAD_TIMEOUT)
    listbox = page.locator(".nimw-picker-list select")
    option = listbox.locator("option", has_text=MODEL_LABEL)
    expect(option).to_have_count(1, timeout=LOAD_TIMEOUT)
    listbox.select_option(option.get_attribute("value"))
    expect(page.locator(".nimw-picker-tag select")).to_have_value("1.8.6 (latest)")
    expect(next_button).to_be_enabled()
    next_button.click()
    page.locator(".nimw-name input").fill(DISPLAY_NAME)
    expect(next_button).to_be_enabled()
    next_button.click()
    next_button.click()
    expect(page.locator("button.nimw-deploy")).to_be_enabled()
    page.locator("button.nimw-deploy").click()
    expect(page.locator(".nimw-outcome .nimw-result")).to_be_visible(timeout=DEPLOY_TIMEOUT)

    # Step 13 follows the deployment live, then shows where it serves.
    step13 = page.locator(".nimw-step-row-13 .nimw-step")
    expect(step13).to_have_attribute("data-state", "running")
    expect(page.locator(".nimw-wait-stage .nimw-wait")).to_be_visible()
    expect(page.locator("button.nimw-wait-cancel")).to_be_visible()
    expect(step13).to_have_attribute("data-state", "succeeded", timeout=READY_TIMEOUT)
    expect(page.locator(".nimw-wait-outcome .nimw-ready")).to_contain_text(
        f"http://{NAME}-predictor.{PROJECT}.svc.cluster.local"
    )
    expect(page.locator(".nimw-access-curl pre.nimw-curl")).to_contain_text("curl -sS")
    page.screenshot(path=str(output_dir / "lifecycle-ready.png"), full_page=True)

    # Edit from the Deployments page: replicas 1 -> 2, the exact change shown before applying.
    page.locator("button.nimw-view-deployments").click()
    row = _row(page, NAME)
    expect(row.locator(".nimw-dep-cells")).to_have_attribute("data-state", "ready", timeout=LOAD_TIMEOUT)
    page.screenshot(path=str(output_dir / "lifecycle-deployments.png"), full_page=True)
    row.locator("button.nimw-dep-edit").click()
    expect(page.locator(".nimw-page-deployment")).to_be_visible()
    expect(page.locator(".nimw-edit-banner")).to_contain_text("Editing a deployment")
    expect(page.locator(".nimw-resource-name input")).to_have_value(NAME, timeout=LOAD_TIMEOUT)
    expect(page.locator(".nimw-resource-name input")).to_be_disabled()
    replicas = page.locator(".nimw-replicas input")
    replicas.fill("2")
    replicas.press("Enter")
    expect(next_button).to_be_enabled()
    next_button.click()
    expect(page.locator(".nimw-page-advanced")).to_be_visible()
    next_button.click()
    changes = page.locator(".nimw-review-changes")
    expect(changes).to_contain_text("~ /spec/predictor/minReplicas: 1 -> 2", timeout=LOAD_TIMEOUT)
    apply_button = page.locator("button.nimw-deploy")
    expect(apply_button).to_have_text("Apply changes")
    expect(apply_button).to_be_enabled()
    apply_button.click()
    expect(page.locator(".nimw-outcome .nimw-result")).to_contain_text(
        f"{DISPLAY_NAME} is updated", timeout=DEPLOY_TIMEOUT
    )
    isvc = _custom(kube, version="v1beta1", plural="inferenceservices", name=NAME)
    assert isvc is not None
    assert (isvc["spec"]["predictor"]["minReplicas"], isvc["spec"]["predictor"]["maxReplicas"]) == (2, 2)

    # Delete with the typed name; the model cache is kept by default and the report says why.
    page.locator("button.nimw-nav-deployments").click()
    row = _row(page, NAME)
    expect(row).to_be_visible(timeout=LOAD_TIMEOUT)
    row.locator("button.nimw-dep-delete").click()
    expect(page.locator(".nimw-delete-plan")).to_contain_text(
        f"InferenceService {NAME}", timeout=LOAD_TIMEOUT
    )
    delete_button = page.locator("button.nimw-delete-button")
    expect(delete_button).to_be_disabled()
    page.locator(".nimw-delete-confirm input").fill(NAME)
    expect(delete_button).to_be_enabled()
    delete_button.click()
    report = page.locator(".nimw-delete-report")
    expect(report).to_contain_text(f"{DISPLAY_NAME} was deleted", timeout=DEPLOY_TIMEOUT)
    expect(report.locator(".nimw-delete-kept")).to_contain_text(f"PersistentVolumeClaim {NAME}-cache")
    expect(_row(page, NAME)).to_have_count(0, timeout=LOAD_TIMEOUT)
    page.screenshot(path=str(output_dir / "lifecycle-deleted.png"), full_page=True)

    assert _custom(kube, version="v1beta1", plural="inferenceservices", name=NAME) is None
    assert _custom(kube, version="v1alpha1", plural="servingruntimes", name=NAME) is None
    assert _pvc_exists(kube, f"{NAME}-cache")
    assert console_errors.messages == []
