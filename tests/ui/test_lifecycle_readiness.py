"""Step 13 "Wait until ready" in the wizard: each stage live as the sandbox's clock moves, ready with its
URL and how to call it, failures with what to do, and Stop waiting leaving the deployment alone."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterator

import ipywidgets as widgets
import pytest
from lifecycle_driver import (
    FOUR_GPUS,
    advance,
    advance_until,
    deploy_through,
    lifecycle_wizard,
    open_api,
    settle,
)
from wizard_driver import all_state_json, html_values

from nim_widget.cluster.api import Api
from nim_widget.lifecycle.access import MASK, enable_model_access
from nim_widget.lifecycle.stages import STAGE_TITLES, Progress, Stage
from nim_widget.sandbox import Sandbox
from nim_widget.ui import NimWizard

TOKEN = "eyJhbGciOi.widget-test-token.sig"


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[Api]:
    yield from open_api(sandbox)


@pytest.fixture
def wizards() -> Iterator[list[NimWizard]]:
    made: list[NimWizard] = []
    yield made
    for wizard in made:
        wizard.close()  # stops any follower still watching


def row_state(wizard: NimWizard) -> str:
    value = str(wizard.readiness.row.value)
    marker = 'data-state="'
    start = value.index(marker) + len(marker)
    return value[start : value.index('"', start)]


def test_step_13_shows_every_stage_live_until_ready_with_the_url(
    sandbox: Sandbox, api: Api, wizards: list[NimWizard]
) -> None:
    wizard = lifecycle_wizard(sandbox)
    wizards.append(wizard)
    name = deploy_through(wizard, display_name="Waiting llama")
    assert "Waiting llama is deployed" in wizard.progress.outcome.value
    assert "13. Wait until ready" in wizard.readiness.row.value

    shown: list[Stage] = []

    def check_shown(progress: Progress) -> None:
        # What the person sees right now is this stage, its message (escaped) and an elapsed time.
        stage = str(wizard.readiness.stage.value)
        assert f'data-stage="{progress.stage.value}"' in stage
        assert html.escape(progress.message, quote=True) in stage
        assert "nimw-wait-elapsed" in stage
        if not progress.terminal:
            assert row_state(wizard) == "running"
            assert STAGE_TITLES[progress.stage] in wizard.readiness.row.value
        if not shown or shown[-1] is not progress.stage:
            shown.append(progress.stage)

    final = advance_until(wizard, sandbox, api, name, lambda p: p.terminal, on_each=check_shown)
    assert final.stage is Stage.READY
    for stage in (Stage.PULLING, Stage.DOWNLOADING, Stage.LOADING, Stage.READY):
        assert stage in shown, shown
    assert shown.index(Stage.PULLING) < shown.index(Stage.DOWNLOADING) < shown.index(Stage.LOADING)
    assert wizard.join_ready(10)
    assert row_state(wizard) == "succeeded"
    url = "http://waiting-llama-predictor.demo.svc.cluster.local"
    assert f"Ready at {url}" in wizard.readiness.row.value
    outcome = wizard.readiness.outcome.value
    assert "nimw-ready" in outcome and url in outcome
    assert wizard.readiness.cancel_button.layout.display == "none"
    # how to call it: a private deployment, so no token, and a curl for the internal endpoint
    assert wizard.readiness.access.box.layout.display is None
    curl = wizard.readiness.access.curl.value
    assert '<pre class="nimw-curl">' in curl and "curl -sS" in curl
    assert "Token authentication is off" in wizard.readiness.access.token.value
    assert wizard.progress.view_deployments.layout.display is None


def test_an_unschedulable_gpu_request_shows_its_text_then_the_timeout(
    sandbox: Sandbox, api: Api, wizards: list[NimWizard]
) -> None:
    wizard = lifecycle_wizard(sandbox, ready_timeout=60)
    wizards.append(wizard)
    name = deploy_through(wizard, display_name="Too big", profile=FOUR_GPUS)
    progress = advance_until(
        wizard, sandbox, api, name, lambda p: p.stage is Stage.SCHEDULING and "Insufficient" in p.message
    )
    stage = wizard.readiness.stage.value
    assert "not enough free nvidia.com/gpu on any node" in stage
    assert html.escape(progress.message, quote=True) in stage
    advance(sandbox, 61)
    assert wizard.join_ready(10)
    assert row_state(wizard) == "failed"
    outcome = wizard.readiness.outcome.value
    assert "Not ready after 1m 0" in outcome
    assert "last stage: Scheduling: no node can run the model server yet" in outcome
    assert "nimw-what-to-do" in outcome and "may still become ready" in outcome


def test_a_rejected_pull_secret_fails_with_what_to_do(
    sandbox: Sandbox, api: Api, wizards: list[NimWizard]
) -> None:
    wizard = lifecycle_wizard(sandbox)
    wizards.append(wizard)
    name = deploy_through(wizard, display_name="Bad key")
    # someone replaced the copied pull secret with a key nvcr.io refuses, before the image pull
    secret = api.get(api_version="v1", kind="Secret", name="ngc-secret", namespace="demo")
    config = '{"auths": {"nvcr.io": {"username": "$oauthtoken", "password": "nvapi-invalid-key"}}}'
    secret["data"] = {".dockerconfigjson": base64.b64encode(config.encode()).decode()}
    api.replace(body=secret)
    final = advance_until(wizard, sandbox, api, name, lambda p: p.terminal)
    assert final.stage is Stage.FAILED and final.failed_stage is Stage.PULLING
    assert wizard.join_ready(10)
    assert row_state(wizard) == "failed"
    outcome = wizard.readiness.outcome.value
    assert "nimw-wait-failure" in outcome
    assert "nvcr.io refused the credentials" in outcome
    assert "Check the model tag and the NGC API key" in outcome  # what to do, for a pull failure
    assert "nvapi-invalid-key" not in all_state_json()


def test_stop_waiting_leaves_the_deployment_alone(
    sandbox: Sandbox, api: Api, wizards: list[NimWizard]
) -> None:
    wizard = lifecycle_wizard(sandbox)
    wizards.append(wizard)
    name = deploy_through(wizard, display_name="Patience")
    settle(wizard, api, name)
    assert wizard.readiness.following and wizard.readiness.cancel_button.layout.display is None
    sandbox.log.clear()
    wizard.readiness.cancel_button.click()
    assert wizard.join_ready(10)
    assert row_state(wizard) == "skipped"
    assert "Stopped waiting" in wizard.readiness.outcome.value
    assert "was not touched" in wizard.readiness.outcome.value
    assert sandbox.log.writes() == []
    assert api.try_get(
        api_version="serving.kserve.io/v1beta1", kind="InferenceService", name=name, namespace="demo"
    )


def test_the_token_stays_masked_until_shown_and_is_masked_again_on_rerender(
    sandbox: Sandbox, api: Api, wizards: list[NimWizard]
) -> None:
    wizard = lifecycle_wizard(sandbox)
    wizards.append(wizard)
    name = deploy_through(wizard, display_name="Guarded <b>llama</b>")
    enable_model_access(api=api, namespace="demo", name=name)
    # the token controller of a real cluster fills the token Secret; the sandbox has none, so we do
    secret = api.get(api_version="v1", kind="Secret", name=f"default-token-{name}-sa", namespace="demo")
    secret["data"] = {"token": base64.b64encode(TOKEN.encode()).decode()}
    api.replace(body=secret)
    assert advance_until(wizard, sandbox, api, name, lambda p: p.terminal).stage is Stage.READY
    assert wizard.join_ready(10)

    panel = wizard.readiness.access
    assert f"https://{name}-demo.apps.sandbox.local" in panel.info.value
    assert MASK in panel.token.value and TOKEN not in panel.token.value
    assert '"Authorization: Bearer $TOKEN"' in html.unescape(panel.curl.value)
    assert TOKEN not in all_state_json()  # nothing a saved notebook could keep

    panel.show_token.click()
    assert TOKEN in panel.token.value and panel.show_token.description == "Hide"
    assert f"Authorization: Bearer {TOKEN}" in html.unescape(panel.curl.value)
    assert "<pre" in panel.curl.value and "&#x27;" in panel.curl.value  # shell quotes escaped

    panel.show_token.click()
    assert TOKEN not in all_state_json()
    panel.show_token.click()
    assert TOKEN in all_state_json()
    assert panel.access is not None
    panel.render(panel.access)  # any re-render starts masked again
    assert TOKEN not in all_state_json() and not panel.revealed
    assert not [v for v in html_values() if "<b>llama</b>" in v]  # escaped in every HTML widget


def test_closing_the_widgets_stops_following(sandbox: Sandbox, api: Api, wizards: list[NimWizard]) -> None:
    """A cleared cell closes the widgets without calling `close()`: step 13 notices and stops watching."""
    wizard = lifecycle_wizard(sandbox)
    wizards.append(wizard)
    name = deploy_through(wizard, display_name="Forgotten")
    settle(wizard, api, name)
    assert wizard.readiness.following
    widgets.Widget.close_all()
    assert wizard.join_ready(10)  # the ticker sees the closed view within a tick
    assert wizard.readiness.result is not None and wizard.readiness.result.cancelled
