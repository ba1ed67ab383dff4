"""The app in a real browser: `nim-widget app --demo`, Voila, the wizard, a deploy, and the cluster after it.

Each `page.goto` gets a fresh Voila kernel, but every kernel connects to the launcher's one demo
sandbox (through the kubeconfig the launcher exports), so the tests can check through the Kubernetes
API what the page did. Waiting is always on our stable ``nimw-*`` classes with web-first assertions.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from playwright.sync_api import Page, expect
from voila_app import SCREENSHOT_FOR_README, AppServer, ConsoleErrors

# pytest-playwright 0.10 still defines its base_url fixture the way pytest 10 will reject.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")

PROJECT = "demo"
MODEL_SEARCH = "llama 3.1 8b"
MODEL_LABEL = "Llama 3.1 8B Instruct"
MODEL_SEARCH_MATCHES = 2  # Llama 3.1 8B Instruct and Llama 3.1 Nemotron Nano 8B v1 in the demo catalog
LOAD_TIMEOUT = 60_000
DEPLOY_TIMEOUT = 60_000
STEPS = 12
SKIPPED_ON_CREATE = {9, 11}  # storage resize and restart only happen on updates
KSERVE = "serving.kserve.io"


@pytest.fixture
def kube(app_server: AppServer) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(app_server.kubeconfig))
    yield api
    api.close()


def _exists(read: Any, **kwargs: Any) -> bool:
    try:
        read(**kwargs)
    except client.ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def get_custom(api: client.ApiClient, *, version: str, plural: str, name: str) -> dict[str, Any]:
    found = client.CustomObjectsApi(api).get_namespaced_custom_object(
        group=KSERVE, version=version, namespace=PROJECT, plural=plural, name=name
    )
    assert isinstance(found, dict)
    return found


def open_app(page: Page, app_server: AppServer) -> None:
    page.goto(app_server.url)
    expect(page.locator(".nimw-root")).to_be_visible(timeout=LOAD_TIMEOUT)
    expect(page.get_by_text("There was an error when executing cell")).to_have_count(0)
    expect(page.locator(".nimw-crash")).to_have_text("")


def fill_wizard(page: Page, *, display_name: str) -> None:
    """Model -> Deployment -> Advanced -> Review, with the defaults the wizard proposes."""
    next_button = page.locator("button.nimw-next")
    page.locator(".nimw-picker-search input").fill(MODEL_SEARCH)
    listbox = page.locator(".nimw-picker-list select")
    # Wait for the kernel's filtered list: selecting in the full list would be undone when it arrives.
    expect(listbox.locator("option")).to_have_count(MODEL_SEARCH_MATCHES, timeout=LOAD_TIMEOUT)
    option = listbox.locator("option", has_text=MODEL_LABEL)
    listbox.select_option(option.get_attribute("value"))
    expect(page.locator(".nimw-picker-tag select")).to_have_value("1.8.6 (latest)")
    expect(next_button).to_be_enabled()
    next_button.click()

    expect(page.locator(".nimw-page-deployment")).to_be_visible()
    expect(next_button).to_be_disabled()  # the deployment name is required
    page.locator(".nimw-name input").fill(display_name)
    expect(next_button).to_be_enabled()
    next_button.click()

    expect(page.locator(".nimw-page-advanced")).to_be_visible()
    next_button.click()
    expect(page.locator(".nimw-page-review")).to_be_visible()
    expect(page.locator(".nimw-review-yaml")).to_contain_text("kind: InferenceService")
    expect(page.locator("button.nimw-deploy")).to_be_enabled()


def test_deploy_a_model_through_the_app(
    page: Page, console_errors: ConsoleErrors, app_server: AppServer, kube: client.ApiClient, output_dir: Path
) -> None:
    open_app(page, app_server)
    expect(page.locator(".nimw-banner-demo")).to_be_visible()
    expect(page.locator(".nimw-banner-demo")).to_contain_text("Demo cluster")
    expect(page.locator(".nimw-header-cluster")).to_contain_text("nim-sandbox")
    expect(page.locator(".nimw-header-account .nimw-pill-ready")).to_be_visible(timeout=LOAD_TIMEOUT)

    fill_wizard(page, display_name="Llama from the browser")
    review_yaml = page.locator(".nimw-review-yaml").inner_text()
    assert "<redacted>" in review_yaml or "kind: Secret" not in review_yaml  # never a key in the page

    page.locator("button.nimw-deploy").click()
    expect(page.locator(".nimw-outcome .nimw-result")).to_be_visible(timeout=DEPLOY_TIMEOUT)
    for step in range(1, STEPS + 1):
        expected = "skipped" if step in SKIPPED_ON_CREATE else "succeeded"
        expect(page.locator(f".nimw-step-row-{step} .nimw-step")).to_have_attribute("data-state", expected)
    expect(page.locator(".nimw-error")).to_have_count(0)
    expect(page.locator(".nimw-new-deployment")).to_be_visible()

    shot = output_dir / "app-deployed.png"
    page.screenshot(path=str(shot), full_page=True)
    if not SCREENSHOT_FOR_README.exists() or os.environ.get("NIM_WIDGET_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT_FOR_README.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT_FOR_README)

    name = "llama-from-the-browser"
    core = client.CoreV1Api(kube)
    isvc = get_custom(kube, version="v1beta1", plural="inferenceservices", name=name)
    assert isvc["metadata"]["annotations"]["openshift.io/display-name"] == "Llama from the browser"
    assert isvc["spec"]["predictor"]["model"]["runtime"] == name
    runtime = get_custom(kube, version="v1alpha1", plural="servingruntimes", name=name)
    images = [c["image"] for c in runtime["spec"]["containers"]]
    assert images == ["nvcr.io/nim/meta/llama-3.1-8b-instruct:1.8.6"]
    pvc = core.read_namespaced_persistent_volume_claim(name=f"{name}-cache", namespace=PROJECT)
    assert pvc.spec is not None and pvc.spec.resources is not None
    assert (pvc.spec.resources.requests or {}).get("storage") == "50Gi"
    assert _exists(core.read_namespaced_secret, name="ngc-secret", namespace=PROJECT)
    assert _exists(core.read_namespaced_secret, name="nvidia-nim-secrets", namespace=PROJECT)

    assert console_errors.messages == []


def test_a_name_taken_meanwhile_fails_with_the_dashboard_message_and_writes_nothing(
    page: Page, console_errors: ConsoleErrors, app_server: AppServer, kube: client.ApiClient
) -> None:
    open_app(page, app_server)
    fill_wizard(page, display_name="Taken meanwhile")

    # Someone else deploys the same name between the review and the click: the page's facts are stale,
    # and only the orchestrator's checks against the cluster can catch it.
    name = "taken-meanwhile"
    custom = client.CustomObjectsApi(kube)
    custom.create_namespaced_custom_object(
        group=KSERVE,
        version="v1beta1",
        namespace=PROJECT,
        plural="inferenceservices",
        body={
            "apiVersion": f"{KSERVE}/v1beta1",
            "kind": "InferenceService",
            "metadata": {"name": name, "namespace": PROJECT},
            "spec": {"predictor": {"model": {"modelFormat": {"name": "other"}, "runtime": "other"}}},
        },
    )

    page.locator("button.nimw-deploy").click()
    error = page.locator(".nimw-outcome .nimw-error")
    expect(error).to_be_visible(timeout=DEPLOY_TIMEOUT)
    expect(error).to_contain_text('A model deployment with the name "Taken meanwhile" already exists')
    expect(page.locator('.nimw-step[data-state="failed"]')).to_have_count(1)
    expect(page.locator(".nimw-outcome .nimw-result")).to_have_count(0)

    core = client.CoreV1Api(kube)
    assert not _exists(
        custom.get_namespaced_custom_object,
        group=KSERVE,
        version="v1alpha1",
        namespace=PROJECT,
        plural="servingruntimes",
        name=name,
    )
    assert not _exists(core.read_namespaced_persistent_volume_claim, name=f"{name}-cache", namespace=PROJECT)
    isvc = get_custom(kube, version="v1beta1", plural="inferenceservices", name=name)
    assert isvc["spec"]["predictor"]["model"]["runtime"] == "other"  # the other deployment is intact

    assert console_errors.messages == []
