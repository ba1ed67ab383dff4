"""Hostile text from people and from the cluster stays text; secrets never reach widget state."""

from __future__ import annotations

import json
from typing import Any, cast

import ipywidgets as widgets
from kubernetes import client
from wizard_driver import all_state_json, html_values, live_widgets, make_wizard, secret_values

from nim_widget.sandbox import Sandbox

HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
MARKERS = ("<img", "<script")


def _plant_hostile_objects(core: client.CoreV1Api, custom: client.CustomObjectsApi) -> None:
    """Cluster objects whose display texts are markup: a catalog entry, a profile, a PVC."""
    catalog: Any = core.read_namespaced_config_map(name="odh-nim-account-cm", namespace="demo")
    catalog.data["evil-model"] = json.dumps(
        {
            "name": "evil-model",
            "displayName": f"Evil {HOSTILE}",
            "shortDescription": f"Owns you {HOSTILE}",
            "namespace": "nim/evil",
            "tags": ["1.0.0"],
            "latestTag": "1.0.0",
            "updatedDate": "2025-01-01T00:00:00Z",
        }
    )
    core.replace_namespaced_config_map(name="odh-nim-account-cm", namespace="demo", body=catalog)
    custom.create_namespaced_custom_object(
        group="infrastructure.opendatahub.io",
        version="v1",
        namespace="demo",
        plural="hardwareprofiles",
        body={
            "apiVersion": "infrastructure.opendatahub.io/v1",
            "kind": "HardwareProfile",
            "metadata": {
                "name": "evil-profile",
                "namespace": "demo",
                "annotations": {
                    "opendatahub.io/display-name": f"Evil {HOSTILE}",
                    "opendatahub.io/description": f"Described {HOSTILE}",
                },
            },
            "spec": {
                "identifiers": [
                    {
                        "displayName": f"CPU {HOSTILE}",
                        "identifier": "cpu",
                        "minCount": "1",
                        "maxCount": "4",
                        "defaultCount": "2",
                        "resourceType": "CPU",
                    },
                ]
            },
        },
    )
    core.create_namespaced_persistent_volume_claim(
        namespace="demo",
        body=cast(
            Any,
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {
                    "name": "evil-cache",
                    "annotations": {
                        "openshift.io/display-name": f"Cache {HOSTILE}",
                        "dashboard.opendatahub.io/nim-pvc": "true",
                        "dashboard.opendatahub.io/nim-subpath": "models/evil",
                    },
                },
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "10Gi"}},
                    "storageClassName": "managed-csi",
                },
            },
        ),
    )


def _assert_no_live_markup() -> None:
    for value in html_values():
        if value.startswith("<style>"):
            continue
        for marker in MARKERS:
            assert marker not in value, value


def test_hostile_names_are_escaped_everywhere(
    sandbox: Sandbox, core_v1: client.CoreV1Api, custom_objects: client.CustomObjectsApi
) -> None:
    _plant_hostile_objects(core_v1, custom_objects)
    wizard = make_wizard(sandbox)
    wizard.picker.choose(key="evil-model")
    assert "Evil &lt;img src=x" in wizard.picker.details.value
    wizard.next.click()
    wizard.deployment.display_name.value = f"Model {HOSTILE}"
    wizard.deployment.profile.value = "demo/evil-profile"
    assert "Described &lt;img" in wizard.deployment.profile_details.value
    cpu = wizard.deployment.slot_for("cpu")
    assert cpu is not None and "CPU &lt;img" in cpu.field.label.value
    cpu.text.value = HOSTILE  # its message quotes the input
    assert cpu.field.message is not None and HOSTILE in cpu.field.message
    _assert_no_live_markup()
    cpu.text.value = "3"
    wizard.storage.select_existing("evil-cache")
    wizard.next.click()
    env = wizard.env.add_row(name=HOSTILE, value=HOSTILE)
    assert env.message is not None
    _assert_no_live_markup()
    env.name.value = "SAFE"
    wizard.next.click()
    assert wizard.current_step == 4
    assert "Model &lt;img src=x" in wizard.review.summary.value
    sandbox.faults.add(
        verb="create", resource="inferenceservices", dry_run=False, status=500, message=HOSTILE
    )
    wizard.deploy_button.click()
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in wizard.progress.outcome.value
    assert "Deploying Model &lt;img" in wizard.progress.heading.value
    _assert_no_live_markup()
    wizard.progress.back_to_form.click()
    wizard.deploy_button.click()
    assert "is deployed" in wizard.progress.outcome.value
    _assert_no_live_markup()


def test_no_secret_reaches_any_widget_state(sandbox: Sandbox, core_v1: client.CoreV1Api) -> None:
    secrets = secret_values(core_v1, namespace="demo", name="nvidia-nim-secrets")
    secrets += secret_values(core_v1, namespace="demo", name="odh-nim-account-pull")
    assert len(secrets) >= 4
    wizard = make_wizard(sandbox)
    wizard.picker.choose(key="llama-3.1-8b-instruct")
    wizard.next.click()
    wizard.deployment.display_name.value = "Secret keeper"
    wizard.next.click()
    wizard.next.click()
    assert "<redacted>" in wizard.review.yaml_text
    wizard.review.dry_run.click()
    wizard.deploy_button.click()
    assert "Secret keeper is deployed" in wizard.progress.outcome.value
    assert "Secret ngc-secret" in wizard.progress.manifests.titles  # created, shown redacted
    secrets += secret_values(core_v1, namespace="demo", name="ngc-secret")
    state = all_state_json()
    assert len(live_widgets()) > 100
    for value in set(secrets):
        assert value not in state
    assert "<redacted>" in state or "&lt;redacted&gt;" in state
    assert not any(isinstance(w, widgets.Password) for w in live_widgets())
