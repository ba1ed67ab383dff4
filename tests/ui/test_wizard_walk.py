"""The whole wizard, driven through its widgets against the sandbox over HTTP (jobs run inline)."""

from __future__ import annotations

import base64
import re
from typing import Any

from kubernetes import client
from wizard_driver import make_wizard, step_state

from nim_widget import naming
from nim_widget.deploy.steps import STEP_TITLES, StepState
from nim_widget.request import MSG_ENV_NAME, load_spec
from nim_widget.sandbox import Sandbox
from nim_widget.ui.picker import no_results_text
from nim_widget.ui.wizard import NimWizard

MODEL = "llama-3.1-8b-instruct"


def _href(markup: str, cls: str) -> str:
    match = re.search(
        rf'class="[^"]*{cls}[^"]*" href="data:application/yaml;charset=utf-8;base64,([^"]+)"', markup
    )
    assert match is not None, markup
    return base64.b64decode(match.group(1)).decode("utf-8")


def _pick_model(wizard: NimWizard) -> None:
    picker = wizard.picker
    picker.search.value = "llama 8b"
    rows = picker.visible_rows()
    assert rows and all("llama" in label.lower() and "8b" in label.lower() for label, _ in rows)
    picker.list.value = MODEL
    assert [value for _, value in picker.tag.options][:3] == ["1.8.6", "1.8", "1.3.3"]
    assert picker.tag.options[0][0] == "1.8.6 (latest)"
    assert picker.selected_tag == "1.8.6"
    picker.tag.value = "1.3.3"
    # Narrowing the search to nothing keeps the choice and says so.
    picker.search.value = "zzz-no-such-model"
    assert picker.visible_rows() == []
    assert no_results_text("zzz-no-such-model").replace('"', "&quot;") in picker.count.value
    assert picker.model_key == MODEL and picker.selected_tag == "1.3.3"
    picker.search.value = ""


def _fill_deployment(wizard: NimWizard) -> None:
    section = wizard.deployment
    # Next is blocked: clicking it anyway stays put and reveals why.
    assert section.name_field.message is None
    wizard.next.click()
    assert wizard.current_step == 2
    assert section.name_field.message == "Model deployment name is required"
    section.display_name.value = "x"
    section.display_name.value = "   "
    assert section.name_field.message == "Model deployment name is required"
    assert wizard.next.disabled
    section.display_name.value = "Llama 3.1 8B demo"
    assert section.name_field.message is None
    assert "llama-31-8b-demo" in section.resource_preview.value

    section.edit_resource.click()
    assert section.resource_name.value == "llama-31-8b-demo"
    section.resource_name.value = "Bad_Name"
    assert section.resource_field.message == naming.MSG_NAME_PATTERN
    section.resource_name.value = "a" * 31
    assert section.resource_field.message == naming.MSG_NAME_TOO_LONG
    section.resource_name.value = "llama-demo"
    assert section.resource_field.message is None
    assert wizard.storage.pvc_name.value == "llama-demo-cache"

    section.description.value = "A model for the walk-through test"
    section.replicas.value = 0
    assert section.replicas_field.message == "Replicas must be a whole number from 1 to 99"
    section.replicas.value = 100
    assert section.replicas_field.message == "Replicas must be a whole number from 1 to 99"
    section.replicas.value = 2
    assert section.replicas_field.message is None

    labels = [label for label, _ in section.profile.options]
    assert labels[-1] == "No hardware profile (custom resources)"
    assert any("project demo" in label for label in labels)
    section.profile.value = "opendatahub/nvidia-gpu-1x"
    cpu = section.slot_for("cpu")
    memory = section.slot_for("memory")
    assert cpu is not None and memory is not None and section.slot_for("nvidia.com/gpu") is not None
    assert cpu.text.value == "4" and memory.text.value == "16Gi"
    assert cpu.field.help.value.count("Between 1 and 8 (default 4).") == 1
    cpu.text.value = "lots"
    assert cpu.field.message == '"lots" is not a quantity (examples: 4, 500m, 16Gi)'
    cpu.text.value = "9"
    assert cpu.field.message == 'CPU must be between 1 and 8 (hardware profile "NVIDIA GPU (1x)")'
    cpu.text.value = "6"
    assert cpu.field.message is None


def _fill_storage(wizard: NimWizard) -> None:
    storage = wizard.storage
    assert [value for _, value in storage.mode.options] == ["new", "existing"]
    assert storage.storage_class.value == "managed-csi"
    assert storage.size.value == 50 and storage.unit.value == "Gi"
    storage.size.value = 0
    assert storage.size_field.message == "Storage size must be at least 1 GiB"
    storage.size.value = 100
    assert storage.size_field.message is None
    storage.sub_path.value = "models/../etc"
    assert storage.sub_path_field.message == "Subpath must not contain '..'"
    storage.sub_path.value = "models//llama"
    assert storage.sub_path_field.message == "Subpath must not contain empty segments (//)"
    storage.sub_path.value = "/models/llama"
    assert storage.sub_path_field.message is None
    storage.pvc_name.value = "llama-3-1-8b-cache"
    assert storage.pvc_name_field.message is not None and "already exists" in storage.pvc_name_field.message

    storage.mode.value = "existing"
    assert storage.sub_path.value == ""
    assert storage.existing.value == ""
    assert storage.existing_field.message == "Cluster storage name is required"
    storage.existing.value = "llama-3-1-8b-cache"
    assert storage.sub_path.value == "llama-3.1-8b-instruct"  # from the PVC's nim-subpath annotation
    assert storage.existing_field.message is None
    assert "50Gi" in dict((v, k) for k, v in storage.existing.options)["llama-3-1-8b-cache"]

    storage.mode.value = "new"
    assert storage.pvc_name.value == "llama-demo-cache"  # switching back restores the suggestion
    storage.pvc_name.value = "walk-cache"
    storage.storage_class.value = "local-nvme"
    storage.size.value = 100
    storage.sub_path.value = "/models/llama"


def _fill_env(wizard: NimWizard) -> None:
    env = wizard.env
    first = env.add_row()
    first.name.value = "1BAD"
    assert first.message == MSG_ENV_NAME
    first.name.value = "NGC_API_KEY"
    assert first.message is not None and first.message.startswith("NGC_API_KEY is reserved")
    first.name.value = ""
    first.value.value = "orphan"
    assert first.message == "Environment variable name is required"
    first.name.value = "NIM_MAX_MODEL_LEN"
    first.value.value = "8192"
    second = env.add_row(name="NIM_MAX_MODEL_LEN", value="4096")
    assert first.message is None
    assert second.message == 'Environment variable "NIM_MAX_MODEL_LEN" is set more than once'
    assert wizard.next.disabled
    second.remove.click()
    assert env.rows == [first] and first.message is None
    env.add_row(name="NIM_LOG_LEVEL", value="INFO")
    assert not wizard.next.disabled


def test_walk_the_whole_wizard_and_deploy(
    sandbox: Sandbox, core_v1: client.CoreV1Api, custom_objects: client.CustomObjectsApi
) -> None:
    wizard = make_wizard(sandbox)
    # Header and step 1 as loaded.
    assert wizard.header.banner.layout.display is None and "Demo cluster" in wizard.header.banner.value
    assert sandbox.url.removeprefix("http://") in wizard.header.line.value
    assert "nimw-pill-ready" in wizard.header.line.value
    assert wizard.current_step == 1 and wizard.next.disabled and wizard.back.disabled
    assert "NIM image is required" in wizard.status.value
    assert len(wizard.picker.visible_rows()) == len(wizard.facts.models) >= 15 if wizard.facts else False

    _pick_model(wizard)
    assert not wizard.next.disabled
    wizard.next.click()
    assert wizard.current_step == 2 and wizard.pages.selected_index == 1
    assert 'data-step="1"' in wizard.stepper.value and "is-done" in wizard.stepper.value
    assert wizard.next.disabled and "Model deployment name is required" in wizard.status.value

    _fill_deployment(wizard)
    _fill_storage(wizard)
    assert not wizard.next.disabled
    wizard.next.click()
    assert wizard.current_step == 3

    _fill_env(wizard)
    wizard.back.click()
    assert wizard.current_step == 2
    wizard.next.click()
    wizard.next.click()
    assert wizard.current_step == 4 and not wizard.deploy_button.disabled

    review = wizard.review
    summary = review.summary.value
    for text in (
        "Llama 3.1 8B demo",
        "llama-demo",
        "nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3",
        "NVIDIA GPU (1x) (cpu: 6, memory: 16Gi, nvidia.com/gpu: 1)",
        "walk-cache",
        "local-nvme",
        "100 GiB",
        "models/llama",
        "NIM_MAX_MODEL_LEN=8192, NIM_LOG_LEVEL=INFO",
    ):
        assert text in summary, text
    assert "kind: InferenceService" in review.yaml_text and "kind: ServingRuntime" in review.yaml_text
    assert "<redacted>" in review.yaml_text
    assert "<span" in review.yaml.value  # highlighted
    assert _href(review.links.value, "nimw-download-yaml") == review.yaml_text
    exported = load_spec(text=_href(review.links.value, "nimw-export-spec"))
    assert exported == wizard.check.request
    assert exported.resources.requests == {"cpu": "6"} and exported.replicas == 2

    # Dry run: every write checked with dryRun=All, nothing stored.
    sandbox.log.clear()
    review.dry_run.click()
    assert "Dry run passed" in review.dry_run_result.value
    writes = [e for e in sandbox.log.entries if e.method in ("POST", "PUT", "PATCH", "DELETE")]
    assert writes and all(e.dry_run for e in writes)

    wizard.deploy_button.click()
    assert wizard.current_step == 5 and wizard.pages.selected_index == 4
    events_seen = wizard.progress.events
    assert [e.step for e in events_seen[:12]] == list(range(1, 13))
    assert all(e.state is StepState.PENDING for e in events_seen[:12])
    order = [(e.step, e.state) for e in events_seen[12:]]
    assert order[0] == (1, StepState.RUNNING) and order[-1] == (12, StepState.SUCCEEDED)
    finished = [step for step, state in order if state in (StepState.SUCCEEDED, StepState.SKIPPED)]
    # Steps 1-6 in order; step 10 runs 7-9 concurrently and finishes after them; then 11 and 12.
    assert finished[:6] == [1, 2, 3, 4, 5, 6]
    assert sorted(finished[6:9]) == [7, 8, 9] and finished[9:] == [10, 11, 12]
    assert order.index((10, StepState.RUNNING)) < order.index((7, StepState.RUNNING))
    for step in range(1, 13):
        assert step_state(wizard, step) in ("succeeded", "skipped"), step
        assert STEP_TITLES[step] in wizard.progress.rows[step - 1].value
    assert step_state(wizard, 9) == "skipped"
    assert "Llama 3.1 8B demo is deployed" in wizard.progress.outcome.value
    assert "llama-demo" in wizard.progress.outcome.value
    titles = wizard.progress.manifests.titles
    assert "ServingRuntime llama-demo" in titles and "InferenceService llama-demo" in titles
    assert "PersistentVolumeClaim walk-cache" in titles
    assert wizard.progress.new_deployment.layout.display is None

    # The objects exist, with what was chosen.
    isvc: Any = custom_objects.get_namespaced_custom_object(
        group="serving.kserve.io",
        version="v1beta1",
        namespace="demo",
        plural="inferenceservices",
        name="llama-demo",
    )
    model = isvc["spec"]["predictor"]["model"]
    assert model["resources"]["requests"]["cpu"] == "6"
    assert {"name": "NIM_MAX_MODEL_LEN", "value": "8192"} in model["env"]
    assert isvc["spec"]["predictor"]["minReplicas"] == 2
    pvc: Any = core_v1.read_namespaced_persistent_volume_claim(name="walk-cache", namespace="demo")
    assert pvc.spec.storage_class_name == "local-nvme" and pvc.spec.resources.requests["storage"] == "100Gi"

    # A new deployment starts clean; the name just used is now taken.
    wizard.progress.new_deployment.click()
    assert wizard.current_step == 1 and wizard.picker.model_key is None and wizard.next.disabled
    wizard.picker.choose(key=MODEL)
    assert wizard.deployment.display_name.value == "" and wizard.env.rows == []
    wizard.next.click()
    wizard.deployment.display_name.value = "Llama demo"
    assert wizard.deployment.name_field.message == (
        'A model deployment with the name "Llama demo" already exists. '
        "Please choose a different model deployment name."
    )
    assert wizard.next.disabled


def test_existing_storage_and_no_profile_render_in_review(sandbox: Sandbox) -> None:
    wizard = make_wizard(sandbox)
    wizard.picker.choose(key="phi-3-mini-4k-instruct")
    wizard.next.click()
    wizard.deployment.display_name.value = "Phi mini"
    wizard.deployment.profile.value = ""
    assert all(slot.identifier is None for slot in wizard.deployment.resources)
    assert "cluster&#x27;s defaults" in wizard.deployment.profile_details.value
    wizard.storage.select_existing("llama-3-1-8b-cache")
    wizard.next.click()
    wizard.next.click()
    assert wizard.current_step == 4
    summary = wizard.review.summary.value
    assert "Existing storage" in summary and "None (cluster defaults)" in summary
    assert "llama-3-1-8b-cache" in summary and "Storage size" not in summary
    assert "opendatahub.io/hardware-profile-name" not in wizard.review.yaml_text
    assert "claimName: llama-3-1-8b-cache" in wizard.review.yaml_text
    assert "subPath: llama-3.1-8b-instruct" in wizard.review.yaml_text
