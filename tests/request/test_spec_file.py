"""The spec file: loading, every kind of broken file, and the round trip used by Export spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from nim_widget.request import (
    SPEC_MAX_BYTES,
    DeploymentRequest,
    EnvVar,
    ResourceOverrides,
    SpecError,
    StorageRequest,
    dump_spec,
    load_spec,
    load_spec_file,
)

ISSUE_EXAMPLE = """\
project: demo
displayName: Llama 3.1 8B
name: llama-31-8b               # optional, derived from displayName
model: llama-3.1-8b-instruct    # catalog key
tag: "1.2.2"                    # optional, latest by default
description: optional text
storage: {mode: new, pvcName: llama-cache, size: 50Gi, storageClass: standard, subPath: llama}
hardwareProfile: nvidia-gpu-small   # optional; "namespace/name" also accepted
resources: {requests: {cpu: "4"}}   # optional overrides inside the profile's bounds
replicas: 1
env: [{name: NIM_MAX_MODEL_LEN, value: "8192"}]
"""

CANONICAL = """\
project: demo
displayName: Llama 3.1 8B
name: llama-31-8b
model: llama-3.1-8b-instruct
tag: 1.2.2
description: optional text
storage:
  mode: new
  pvcName: llama-cache
  size: 50Gi
  storageClass: standard
  subPath: llama
hardwareProfile: nvidia-gpu-small
resources:
  requests:
    cpu: '4'
replicas: 1
env:
- name: NIM_MAX_MODEL_LEN
  value: '8192'
"""


def spec_errors(text: str | bytes) -> dict[str, str]:
    with pytest.raises(SpecError) as caught:
        load_spec(text=text)
    return caught.value.errors


def test_the_issue_example_loads() -> None:
    request = load_spec(text=ISSUE_EXAMPLE)
    assert request == DeploymentRequest(
        project="demo",
        display_name="Llama 3.1 8B",
        name="llama-31-8b",
        model="llama-3.1-8b-instruct",
        tag="1.2.2",
        description="optional text",
        storage=StorageRequest(
            mode="new", pvc_name="llama-cache", size="50Gi", storage_class="standard", sub_path="llama"
        ),
        hardware_profile="nvidia-gpu-small",
        resources=ResourceOverrides(requests={"cpu": "4"}),
        replicas=1,
        env=(EnvVar(name="NIM_MAX_MODEL_LEN", value="8192"),),
    )


def test_dump_is_canonical_and_round_trips() -> None:
    request = load_spec(text=ISSUE_EXAMPLE)
    assert dump_spec(request=request) == CANONICAL
    assert load_spec(text=CANONICAL) == request
    assert dump_spec(request=load_spec(text=CANONICAL)) == CANONICAL


@pytest.mark.parametrize(
    "text",
    [
        "project: demo\ndisplayName: Tiny\nmodel: m\n",
        "project: demo\ndisplayName: '3B: model, \"quoted\"'\n"
        "model: m\nstorage: {mode: existing, pvcName: c.v1}\n",
        "project: demo\ndisplayName: Ünïcode 模型\nmodel: m\ntag: '010'\nhardwareProfile: demo/gpu\n"
        "resources: {limits: {nvidia.com/gpu: 2}}\nenv: [{name: A, value: 'yes'}, {name: B, value: ''}]\n",
        # no hardware profile, custom resources
        "project: demo\ndisplayName: Custom\nmodel: m\n"
        "resources: {requests: {cpu: 500m, memory: 8Gi}, limits: {memory: 16Gi, nvidia.com/gpu: 1}}\n",
    ],
)
def test_round_trip_of_varied_requests(text: str) -> None:
    request = load_spec(text=text)
    dumped = dump_spec(request=request)
    assert load_spec(text=dumped) == request
    assert dump_spec(request=load_spec(text=dumped)) == dumped


def test_minimal_dump_leaves_out_what_was_not_set() -> None:
    dumped = dump_spec(request=load_spec(text="project: demo\ndisplayName: Tiny\nmodel: m\n"))
    assert dumped == (
        "project: demo\ndisplayName: Tiny\nname: tiny\n"
        "model: m\nstorage:\n  mode: new\n  pvcName: tiny-cache\n"
        "  size: 50Gi\nreplicas: 1\n"
    )


def test_yaml_scalars_stay_text() -> None:
    request = load_spec(
        text="project: demo\ndisplayName: 2024-01-01\nmodel: m\ntag: 1.10\n"
        "env: [{name: A, value: yes}, {name: B, value: 0x1F}, {name: C, value: ~}]\n"
    )
    assert request.display_name == "2024-01-01" and request.tag == "1.10"
    assert [e.value for e in request.env] == ["yes", "0x1F", ""]


def test_unknown_keys_are_named_at_every_level() -> None:
    found = spec_errors(
        "project: demo\ndisplayName: x\nmodel: m\ncolour: blue\n"
        "storage: {mode: new, sizee: 5Gi}\nresources: {requests: {cpu: '1'}, limit: {}}\n"
        "hardwareProfile: p\nenv: [{name: A, valeu: '1'}]\n"
    )
    assert set(found) == {"colour", "storage.sizee", "resources.limit", "env[0].valeu"}
    assert found["storage.sizee"].startswith('Unknown key "sizee" (did you mean "size"?)')
    assert found["colour"].startswith('Unknown key "colour". Allowed keys: project, displayName')


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The spec file is empty"),
        ("# only a comment\n", "The spec file is empty"),
        (
            "- project: demo\n",
            "The spec file must be a mapping of keys (project, displayName, model, ...), not a list",
        ),
        (
            "just text\n",
            "The spec file must be a mapping of keys (project, displayName, model, ...), not a single value",
        ),
        ("project: demo\n---\nproject: other\n", "The spec file must contain exactly one YAML document"),
        (
            "project: [demo\n",
            "The spec file is not valid YAML: line 2, column 1: expected ',' or ']', but got '<stream end>'",
        ),
        (
            "project: demo\n  displayName: x\n",
            "The spec file is not valid YAML: line 2, column 14: mapping values are not allowed here",
        ),
        (
            "project: demo\nproject: other\n",
            'The spec file is not valid YAML: line 2, column 1: the key "project" appears more than once',
        ),
        ("~: demo\n", "The spec file is not valid YAML: line 1, column 1: keys must be text, found None"),
        (
            "base: &b {mode: new}\nstorage: *b\n",
            "YAML anchors and aliases (&a, *a) are not supported in spec files",
        ),
        (
            "project: !!python/object:os.system demo\n",
            "The spec file is not valid YAML: line 1, column 10: could not "
            "determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object:os.system'",
        ),
        (b"project: \xff\xfe\n", "The spec file is not UTF-8 text"),
    ],
)
def test_broken_files(text: str | bytes, message: str) -> None:
    assert spec_errors(text) == {"": message}


def test_field_errors_come_with_their_paths() -> None:
    found = spec_errors("project: Demo\ndisplayName: x\nmodel: m\nstorage: {size: 50}\nreplicas: 0\n")
    assert found == {
        "project": '"Demo" is not a project name: lowercase letters, numbers and "-", '
        "starting and ending with a "
        "letter or number, at most 63 characters",
        "storage.size": "Add a unit to the size, e.g. 50Gi",
        "replicas": "Replicas must be a whole number from 1 to 99",
    }
    with pytest.raises(SpecError) as caught:
        load_spec(text="project: demo\n")
    assert str(caught.value) == "displayName: Model deployment name is required\nmodel: NIM image is required"


def test_huge_files_are_refused_before_parsing() -> None:
    huge = "project: demo\ndescription: '" + "x" * SPEC_MAX_BYTES + "'\n"
    assert spec_errors(huge) == {"": "The spec file is larger than 1 MiB"}
    assert spec_errors(huge.encode()) == {"": "The spec file is larger than 1 MiB"}
    multibyte = "project: demo\ndescription: '" + "é" * (SPEC_MAX_BYTES // 2 + 1) + "'\n"
    assert spec_errors(multibyte) == {"": "The spec file is larger than 1 MiB"}


def test_spec_files_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(ISSUE_EXAMPLE, encoding="utf-8")
    assert load_spec_file(path=path) == load_spec(text=ISSUE_EXAMPLE)
    big = tmp_path / "big.yaml"
    with open(big, "wb") as handle:
        handle.write(b"#" * (SPEC_MAX_BYTES + 10))
    with pytest.raises(SpecError, match="larger than 1 MiB"):
        load_spec_file(path=big)
    with pytest.raises(SpecError) as caught:
        load_spec_file(path=tmp_path / "missing.yaml")
    assert caught.value.errors == {
        "": f"Cannot read the spec file {tmp_path / 'missing.yaml'}: No such file or directory"
    }


def test_custom_resource_problems_name_their_paths() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(
            text="project: demo\ndisplayName: Custom\nmodel: m\n"
            "resources: {requests: {cpu: '8', nvidia.com/gpu: 1}, limits: {cpu: '4'}}\n"
        )
    assert caught.value.errors == {
        "resources.requests.cpu": "The cpu request (8) cannot be more than its limit (4)",
        "resources.limits.nvidia.com/gpu": "Set the nvidia.com/gpu limit to the request (1) as well: "
        "Kubernetes does not overcommit accelerators",
    }
