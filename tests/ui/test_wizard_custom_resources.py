"""The "No hardware profile (custom resources)" choice, driven through the widgets against the sandbox."""

from __future__ import annotations

from typing import Any

import yaml
from kubernetes import client
from wizard_driver import make_wizard

from nim_widget.request import load_spec
from nim_widget.sandbox import Sandbox
from nim_widget.ui.deployment import NO_PROFILE, NO_PROFILE_LABEL, TEXT_NO_PROFILES_AVAILABLE
from nim_widget.ui.html import esc
from nim_widget.ui.wizard import NimWizard

MODEL = "llama-3.1-8b-instruct"
PROFILE_GROUP, PROFILE_VERSION, PROFILE_PLURAL = "infrastructure.opendatahub.io", "v1", "hardwareprofiles"
PROFILE_PREFIX = "opendatahub.io/hardware-profile-"


def _remove_all_profiles(custom: client.CustomObjectsApi) -> None:
    """A cluster without hardware profiles (plain KServe), made over the API like any other change."""
    listed: Any = custom.list_cluster_custom_object(
        group=PROFILE_GROUP, version=PROFILE_VERSION, plural=PROFILE_PLURAL
    )
    assert listed["items"], "the demo world is expected to have profiles to remove"
    for item in listed["items"]:
        custom.delete_namespaced_custom_object(
            group=PROFILE_GROUP,
            version=PROFILE_VERSION,
            plural=PROFILE_PLURAL,
            namespace=item["metadata"]["namespace"],
            name=item["metadata"]["name"],
        )


def _service_document(wizard: NimWizard) -> dict[str, Any]:
    documents = [d for d in yaml.safe_load_all(wizard.review.yaml_text) if d]
    return next(d for d in documents if d["kind"] == "InferenceService")


def test_cluster_without_profiles_deploys_with_typed_resources(
    sandbox: Sandbox, custom_objects: client.CustomObjectsApi
) -> None:
    _remove_all_profiles(custom_objects)
    wizard = make_wizard(sandbox)
    wizard.picker.choose(key=MODEL)
    wizard.next.click()
    section = wizard.deployment
    custom = section.custom
    assert list(section.profile.options) == [(NO_PROFILE_LABEL, NO_PROFILE)]
    assert esc(TEXT_NO_PROFILES_AVAILABLE) in section.profile_details.value
    assert custom.box.layout.display is None  # shown: the only choice there is
    assert all(slot.identifier is None for slot in section.resources)
    section.display_name.value = "Llama custom"

    def text(kind: str, resource: str) -> Any:
        return custom.text(kind=kind, resource=resource)

    def message(kind: str, resource: str) -> str | None:
        return custom.fields[(kind, resource)].message

    # Every message comes from the request model, under the field it is about.
    text("requests", "cpu").value = "4"
    text("limits", "cpu").value = "2"
    assert message("requests", "cpu") == "The cpu request (4) cannot be more than its limit (2)"
    assert wizard.next.disabled
    text("limits", "cpu").value = "8"
    assert message("requests", "cpu") is None
    text("requests", "memory").value = "24 GB"
    assert message("requests", "memory") == '"24 GB" is not a quantity (examples: 4, 500m, 16Gi)'
    text("requests", "memory").value = "24Gi"
    text("limits", "memory").value = "32Gi"
    assert message("requests", "memory") is None
    text("requests", "nvidia.com/gpu").value = "1"
    assert message("limits", "nvidia.com/gpu") == (
        "Set the nvidia.com/gpu limit to the request (1) as well: Kubernetes does not overcommit accelerators"
    )
    text("limits", "nvidia.com/gpu").value = "2"
    assert message("requests", "nvidia.com/gpu") == (
        "The nvidia.com/gpu request (1) must equal its limit (2): Kubernetes does not overcommit accelerators"
    )
    assert message("limits", "nvidia.com/gpu") is None
    text("limits", "nvidia.com/gpu").value = "1"
    assert all(field.message is None for field in custom.fields.values())
    assert not wizard.next.disabled

    wizard.next.click()
    wizard.next.click()
    assert wizard.current_step == 4
    wanted = {
        "requests": {"cpu": "4", "memory": "24Gi", "nvidia.com/gpu": "1"},
        "limits": {"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": "1"},
    }
    service = _service_document(wizard)
    assert service["spec"]["predictor"]["model"]["resources"] == wanted
    assert not any(k.startswith(PROFILE_PREFIX) for k in service["metadata"]["annotations"])
    assert "tolerations" not in service["spec"]["predictor"]
    assert "nodeSelector" not in service["spec"]["predictor"]
    assert "None, custom resources (requests cpu: 4, memory: 24Gi, nvidia.com/gpu: 1; " in (
        wizard.review.summary.value
    )
    assert wizard.check.request is not None
    exported = load_spec(text=wizard.review.spec_text)
    assert exported == wizard.check.request and exported.hardware_profile is None

    wizard.deploy_button.click()
    assert wizard.last_result is not None
    live: Any = custom_objects.get_namespaced_custom_object(
        group="serving.kserve.io",
        version="v1beta1",
        namespace="demo",
        plural="inferenceservices",
        name=wizard.check.request.name,
    )
    assert live["spec"]["predictor"]["model"]["resources"] == wanted
    assert not any(k.startswith(PROFILE_PREFIX) for k in live["metadata"]["annotations"])


def test_custom_fields_belong_to_the_no_profile_choice_only(sandbox: Sandbox) -> None:
    wizard = make_wizard(sandbox)
    wizard.picker.choose(key=MODEL)
    wizard.next.click()
    section = wizard.deployment
    custom = section.custom
    section.display_name.value = "Llama switch"
    assert section.selected_profile() is not None and custom.box.layout.display == "none"

    section.profile.value = NO_PROFILE
    assert custom.box.layout.display is None
    assert wizard.check.request is not None and wizard.check.request.resources.is_empty  # cluster defaults
    custom.text(kind="limits", resource="nvidia.com/gpu").value = "1.5"
    assert custom.fields[("limits", "nvidia.com/gpu")].message == (
        "nvidia.com/gpu counts whole devices: use a whole number such as 1 or 2"
    )
    assert wizard.next.disabled

    # A profile takes over: the typed values are neither sent nor judged, and come back with no profile.
    profile = next(value for _, value in section.profile.options if value != NO_PROFILE)
    section.profile.value = profile
    assert custom.box.layout.display == "none"
    assert custom.fields[("limits", "nvidia.com/gpu")].message is None
    assert wizard.check.request is not None and wizard.check.request.hardware_profile == profile
    assert not wizard.next.disabled
    section.profile.value = NO_PROFILE
    assert custom.fields[("limits", "nvidia.com/gpu")].message is not None
    custom.text(kind="limits", resource="nvidia.com/gpu").value = "1"
    assert wizard.check.request is not None
    assert dict(wizard.check.request.resources.limits) == {"nvidia.com/gpu": "1"}

    wizard.progress.new_deployment.click()
    assert custom.values() == {}
