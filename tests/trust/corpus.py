"""The bad-input corpus: one row per input a person could get wrong, and what they must be told.

Every row is a deployment spec that must be refused before anything is written, with the field the
message belongs to and a phrase the message must contain. The rows are data, so the three doors
(the library, the CLI, the wizard) run the same table; `widget` says whether the wizard's controls
can express the input at all (a dropdown cannot hold an unknown storage class, an integer box cannot
hold `abc`).

A row is either `changes` merged into `BASE` (mappings merge key by key, `DROP` removes a key) or a
raw spec file `text` (for files that are not YAML, not a mapping, too big, ...).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

import yaml

MODEL = "llama-3.1-8b-instruct"
BASE: Mapping[str, Any] = {
    "project": "demo",
    "displayName": "Corpus model",
    "model": MODEL,
    "hardwareProfile": "nvidia-gpu-1x",
    "storage": {"mode": "new", "size": "50Gi"},
    "replicas": 1,
}
BASE_TEXT = yaml.safe_dump(dict(BASE), sort_keys=False)
DROP = object()  # a `changes` value that removes the key from the base spec
MEGABYTE = 1_000_000


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    field: str  # the spec path the message is about; "" for the file as a whole
    phrase: str  # must appear in the message for that field
    changes: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    text: str | bytes | None = None  # a raw spec file instead of BASE + changes
    widget: bool = False  # the wizard's controls can express this input
    subprocess: bool = False  # also run as a real `nim-widget deploy` process

    def spec(self) -> dict[str, Any]:
        """BASE with the changes applied (only for rows without `text`)."""
        assert self.text is None, self.id
        return merge(dict(copy.deepcopy(BASE)), self.changes)

    def spec_text(self) -> str | bytes:
        if self.text is not None:
            return self.text
        return yaml.safe_dump(self.spec(), sort_keys=False, allow_unicode=True, width=10**9)


def merge(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in changes.items():
        if value is DROP:
            base.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(base.get(key), dict):
            base[key] = merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _nested_flow(depth: int) -> str:
    return BASE_TEXT + "description: " + "[" * depth + "]" * depth + "\n"


def _nested_block(depth: int) -> str:
    lines = [" " * (level + 1) + f"k{level}:" for level in range(depth)]
    return BASE_TEXT + "description:\n" + "\n".join(lines) + " end\n"


CORPUS: tuple[Case, ...] = (
    # ---- names: the resource name (typed), the display name it is derived from, the project
    Case("name-uppercase", "name", "Must start with a lowercase letter", {"name": "Llama-Big"}, widget=True),
    Case(
        "name-unicode",
        "name",
        "Valid characters include lowercase letters",
        {"name": "llamá-ünïcode"},
        widget=True,
        subprocess=True,
    ),
    Case("name-too-long", "name", "Cannot exceed 30 characters", {"name": "a" * 31}, widget=True),
    Case("name-leading-digit", "name", "Must start with a lowercase letter", {"name": "1llama"}, widget=True),
    Case(
        "name-only-symbols",
        "name",
        "Valid characters include lowercase letters",
        {"name": "-_-!"},
        widget=True,
    ),
    Case(
        "name-with-project-too-long",
        "name",
        "combined cannot exceed 63 characters",
        {"name": "a" * 30, "project": "p" * 33},
    ),
    Case(
        "display-name-empty",
        "displayName",
        "Model deployment name is required",
        {"displayName": "   "},
        widget=True,
    ),
    Case(
        "display-name-too-long",
        "displayName",
        "cannot exceed 256 characters",
        {"displayName": "x" * 257},
        widget=True,
    ),
    Case("display-name-missing", "displayName", "Model deployment name is required", {"displayName": DROP}),
    Case("display-name-a-list", "displayName", "must be text", {"displayName": ["a", "b"]}),
    Case("project-uppercase", "project", "is not a project name", {"project": "Demo"}),
    Case("project-unicode", "project", "is not a project name", {"project": "démo"}),
    Case("project-unknown", "project", "was not found", {"project": "nowhere"}, subprocess=True),
    Case(
        "description-too-long",
        "description",
        "cannot exceed 4096 characters",
        {"description": "d" * 4097},
        widget=True,
    ),
    # ---- storage sizes
    Case("size-zero", "storage.size", "at least 1 GiB", {"storage": {"size": "0Gi"}}, widget=True),
    Case("size-negative", "storage.size", "at least 1 GiB", {"storage": {"size": "-5Gi"}}, widget=True),
    Case("size-text", "storage.size", '"abc" is not a size', {"storage": {"size": "abc"}}),
    Case("size-bare-number", "storage.size", "Add a unit to the size", {"storage": {"size": 50}}),
    Case("size-bare-number-text", "storage.size", "Add a unit to the size", {"storage": {"size": "50"}}),
    Case("size-lowercase-unit", "storage.size", "units are case-sensitive", {"storage": {"size": "50gi"}}),
    Case(
        "size-over-the-limit",
        "storage.size",
        "must be less than 8Ei",
        {"storage": {"size": "9000000Ti"}},
        widget=True,
    ),
    Case("size-huge-exponent", "storage.size", "too large", {"storage": {"size": "1e99999999"}}),
    Case(
        "size-5000-digits", "storage.size", "is too long for a size", {"storage": {"size": "9" * 5000 + "Gi"}}
    ),
    # ---- replicas
    Case("replicas-zero", "replicas", "whole number from 1 to 99", {"replicas": 0}, widget=True),
    Case(
        "replicas-100",
        "replicas",
        "whole number from 1 to 99",
        {"replicas": 100},
        widget=True,
        subprocess=True,
    ),
    Case("replicas-negative", "replicas", "whole number from 1 to 99", {"replicas": -1}, widget=True),
    Case("replicas-text", "replicas", "whole number from 1 to 99", {"replicas": "abc"}),
    Case("replicas-fraction", "replicas", "whole number from 1 to 99", {"replicas": 1.5}),
    Case("replicas-5000-digits", "replicas", "whole number from 1 to 99", {"replicas": "9" * 5000}),
    # ---- environment variables
    Case(
        "env-name-invalid",
        "env[0].name",
        "must start with a letter or underscore",
        {"env": [{"name": "1BAD", "value": "x"}]},
        widget=True,
    ),
    Case(
        "env-name-dash",
        "env[0].name",
        "only letters, numbers, and underscores",
        {"env": [{"name": "MY-VAR", "value": "x"}]},
        widget=True,
    ),
    Case(
        "env-name-empty",
        "env[0].name",
        "Environment variable name is required",
        {"env": [{"name": "", "value": "orphan"}]},
        widget=True,
    ),
    Case(
        "env-name-missing",
        "env[0].name",
        "Environment variable name is required",
        {"env": [{"value": "orphan"}]},
    ),
    Case(
        "env-duplicate",
        "env",
        "is set more than once",
        {"env": [{"name": "NIM_MAX_MODEL_LEN", "value": "1"}, {"name": "NIM_MAX_MODEL_LEN", "value": "2"}]},
        widget=True,
    ),
    Case(
        "env-reserved-key",
        "env[0].name",
        "NGC_API_KEY is reserved",
        {"env": [{"name": "NGC_API_KEY", "value": "nvapi-mine"}]},
        widget=True,
        subprocess=True,
    ),
    Case(
        "env-reserved-cache-path",
        "env[0].name",
        "NIM_CACHE_PATH is reserved",
        {"env": [{"name": "NIM_CACHE_PATH", "value": "/tmp"}]},
        widget=True,
    ),
    Case(
        "env-value-1mb",
        "env[0].value",
        "The value is too long",
        {"env": [{"name": "BIG", "value": "v" * MEGABYTE}]},
        widget=True,
    ),
    Case("env-not-a-list", "env", "Must be a list", {"env": {"NAME": "value"}}),
    Case(
        "env-unknown-key",
        "env[0].valueFrom",
        'Unknown key "valueFrom"',
        {"env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]},
    ),
    # ---- subPath
    Case(
        "subpath-dotdot",
        "storage.subPath",
        "must not contain '..'",
        {"storage": {"subPath": "../x"}},
        widget=True,
    ),
    Case(
        "subpath-absolute-escape",
        "storage.subPath",
        "must not contain '..'",
        {"storage": {"subPath": "/abs/../../etc"}},
        widget=True,
    ),
    Case(
        "subpath-empty-segment",
        "storage.subPath",
        "must not contain empty segments",
        {"storage": {"subPath": "a//b"}},
        widget=True,
    ),
    Case("subpath-not-text", "storage.subPath", "must be text", {"storage": {"subPath": {"a": "b"}}}),
    # ---- hardware profile overrides outside the profile's bounds (nvidia-gpu-1x: cpu 1-8, memory
    # 4Gi-64Gi, one GPU), and custom resources without a profile
    Case(
        "cpu-over-profile-max",
        "resources.requests.cpu",
        "must be between 1 and 8",
        {"resources": {"requests": {"cpu": "9"}, "limits": {"cpu": "9"}}},
        widget=True,
    ),
    Case(
        "memory-under-profile-min",
        "resources.requests.memory",
        "must be between 4Gi and 64Gi",
        {"resources": {"requests": {"memory": "1Gi"}, "limits": {"memory": "1Gi"}}},
        widget=True,
    ),
    Case(
        "gpu-over-profile-max",
        "resources.requests.nvidia.com/gpu",
        "GPU must be 1 (",
        {"resources": {"requests": {"nvidia.com/gpu": "2"}, "limits": {"nvidia.com/gpu": "2"}}},
        widget=True,
    ),
    Case(
        "resource-not-in-profile",
        "resources.requests.ephemeral-storage",
        "has no resource",
        {"resources": {"requests": {"ephemeral-storage": "10Gi"}}},
    ),
    Case(
        "cpu-not-a-quantity",
        "resources.requests.cpu",
        '"lots" is not a quantity',
        {"resources": {"requests": {"cpu": "lots"}, "limits": {"cpu": "lots"}}},
        widget=True,
    ),
    Case(
        "cpu-negative",
        "resources.requests.cpu",
        "Must not be negative",
        {"resources": {"requests": {"cpu": "-1"}, "limits": {"cpu": "-1"}}},
        widget=True,
    ),
    Case(
        "cpu-huge-exponent",
        "resources.requests.cpu",
        "too large",
        {"resources": {"requests": {"cpu": "1e99999999"}, "limits": {"cpu": "1e99999999"}}},
        widget=True,
    ),
    Case(
        "custom-request-over-limit",
        "resources.requests.cpu",
        "cannot be more than its limit",
        {"hardwareProfile": None, "resources": {"requests": {"cpu": "4"}, "limits": {"cpu": "2"}}},
        widget=True,
    ),
    Case(
        "custom-gpu-without-limit",
        "resources.limits.nvidia.com/gpu",
        "Set the nvidia.com/gpu limit",
        {"hardwareProfile": None, "resources": {"requests": {"nvidia.com/gpu": "1"}}},
        widget=True,
    ),
    Case(
        "custom-fractional-gpu",
        "resources.limits.nvidia.com/gpu",
        "counts whole devices",
        {"hardwareProfile": None, "resources": {"limits": {"nvidia.com/gpu": "0.5"}}},
        widget=True,
    ),
    Case(
        "resource-name-invalid",
        "resources.requests.cpu cores",
        '"cpu cores" is not a resource name',
        {"resources": {"requests": {"cpu cores": "1"}}},
    ),
    # ---- names the cluster does not have
    Case("model-unknown", "model", "is not in the NIM catalog", {"model": "llama-9"}, subprocess=True),
    Case("model-with-spaces", "model", "no spaces", {"model": "llama 3.1"}),
    Case("model-missing", "model", "NIM image is required", {"model": DROP}),
    Case("tag-unknown", "tag", 'Tag "9.9.9" is not available', {"tag": "9.9.9"}),
    Case("tag-invalid", "tag", "A tag is up to 128", {"tag": ".hidden"}),
    Case("tag-bare-float", "tag", 'Tag "1.10" is not available', text=BASE_TEXT + "tag: 1.10\n"),
    Case("profile-unknown", "hardwareProfile", "was not found", {"hardwareProfile": "nvidia-gpu-9x"}),
    Case(
        "profile-not-for-serving",
        "hardwareProfile",
        "not available for model serving",
        {"hardwareProfile": "workbench-large"},
    ),
    Case(
        "profile-bad-reference",
        "hardwareProfile",
        "Use a hardware profile name",
        {"hardwareProfile": "a/b/c"},
    ),
    Case(
        "storage-class-unknown",
        "storage.storageClass",
        'Storage class "gold" was not found',
        {"storage": {"storageClass": "gold"}},
    ),
    Case(
        "storage-class-on-existing",
        "storage.storageClass",
        "applies only to new storage",
        {
            "storage": {
                "mode": "existing",
                "pvcName": "llama-3-1-8b-cache",
                "size": DROP,
                "storageClass": "managed-csi",
            }
        },
    ),
    Case(
        "storage-existing-unknown",
        "storage.pvcName",
        'Cluster storage "ghost" was not found',
        {"storage": {"mode": "existing", "pvcName": "ghost", "size": DROP}},
    ),
    Case(
        "storage-new-name-taken",
        "storage.pvcName",
        "already exists",
        {"storage": {"pvcName": "llama-3-1-8b-cache"}},
        widget=True,
    ),
    Case(
        "storage-mode-unknown",
        "storage.mode",
        'Storage mode must be "new" or "existing"',
        {"storage": {"mode": "shared"}},
    ),
    # ---- spec files
    Case("file-not-yaml", "", "is not valid YAML", text="project: [demo\ndisplayName: x\n"),
    Case("file-tab-indent", "", "is not valid YAML", text="project: demo\n\tmodel: x\n"),
    Case("file-unknown-key", "gpus", 'Unknown key "gpus"', text=BASE_TEXT + "gpus: 2\n", subprocess=True),
    Case("file-unknown-nested-key", "storage.sizee", 'did you mean "size"', {"storage": {"sizee": "10Gi"}}),
    Case("file-huge", "", "larger than 1 MiB", text=BASE_TEXT + "description: " + "x" * (1024 * 1024) + "\n"),
    Case("file-deeply-nested-flow", "", "nested too deeply", text=_nested_flow(50_000), subprocess=True),
    Case("file-deeply-nested-block", "", "nested too deeply", text=_nested_block(1_200)),
    Case("file-a-list", "", "must be a mapping", text="- project: demo\n"),
    Case("file-a-scalar", "", "must be a mapping", text="just words\n"),
    Case("file-empty", "", "The spec file is empty", text=""),
    Case("file-two-documents", "", "exactly one YAML document", text=BASE_TEXT + "---\n" + BASE_TEXT),
    Case("file-duplicate-key", "", 'the key "model" appears more than once', text=BASE_TEXT + "model: x\n"),
    Case("file-aliases", "", "anchors and aliases", text="a: &a [x, x]\nb: [*a, *a]\n" + BASE_TEXT),
    Case("file-not-utf8", "", "not UTF-8", text=BASE_TEXT.encode() + b"description: \xff\xfe\n"),
    Case("file-null-key", "", "keys must be text", text=BASE_TEXT + "~: nothing\n"),
)
