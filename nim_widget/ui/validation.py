"""Turn the form into a `DeploymentRequest` and every rule it breaks into per-field messages.

The rules themselves are the engine's: the request model's field validators and
`validate_against_facts`. What this module adds is only what a form needs and a spec file does not:
while a person is on step 1, later steps are naturally incomplete, yet step 1's own fields must
still be judged against the cluster. So fields the model rejected are replaced by neutral stand-ins
for a second pass, and cluster findings about stand-in fields are dropped; every message shown
therefore comes from the engine, about something the person actually entered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from nim_widget.facts import ClusterFacts
from nim_widget.request import DeploymentRequest, errors_by_field, validate_against_facts

# Which request fields each wizard step owns (spec-file paths, matched as prefixes).
STEP_FIELDS: Mapping[int, tuple[str, ...]] = {
    1: ("account", "template", "model", "tag"),
    2: (
        "project",
        "displayName",
        "name",
        "description",
        "storage",
        "hardwareProfile",
        "resources",
        "replicas",
    ),
    3: ("env",),
}

# Top-level form keys (snake_case, as `DeploymentRequest` accepts them by name) and their paths.
_TOP_LEVEL_PATHS: Mapping[str, str] = {
    "project": "project",
    "display_name": "displayName",
    "name": "name",
    "model": "model",
    "tag": "tag",
    "description": "description",
    "storage": "storage",
    "hardware_profile": "hardwareProfile",
    "resources": "resources",
    "replicas": "replicas",
    "env": "env",
}
_STAND_INS: Mapping[str, Any] = {
    "display_name": "Stand-in",
    "name": "",
    "tag": None,
    "description": "",
    "storage": {"mode": "new"},
    "hardware_profile": None,
    "resources": {},
    "replicas": 1,
    "env": [],
}


def belongs(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((f"{prefix}.", f"{prefix}["))


def step_of(path: str) -> int | None:
    for step, prefixes in STEP_FIELDS.items():
        if any(belongs(path, prefix) for prefix in prefixes):
            return step
    return None


@dataclass(frozen=True)
class FormCheck:
    """The request when the form is complete and acceptable, and the messages by field path."""

    request: DeploymentRequest | None
    errors: Mapping[str, str] = field(default_factory=dict)

    def for_step(self, step: int) -> dict[str, str]:
        return {path: message for path, message in self.errors.items() if step_of(path) == step}

    def step_valid(self, step: int) -> bool:
        return not self.for_step(step)

    @property
    def valid(self) -> bool:
        return self.request is not None and not self.errors


def _owner(path: str) -> str | None:
    for key, top in _TOP_LEVEL_PATHS.items():
        if belongs(path, top):
            return key
    return None


def check_form(*, data: Mapping[str, Any], facts: ClusterFacts | None, update: bool = False) -> FormCheck:
    """Validate the form data (snake_case keys) with the request model, then against the cluster.

    ``update``: the form edits an existing deployment (its name is taken by itself, its PVC may grow).
    """
    errors: dict[str, str] = {}
    try:
        request = DeploymentRequest.model_validate(dict(data))
    except ValidationError as exc:
        errors.update(errors_by_field(exc))
        request = None
    if facts is None:
        return FormCheck(request=request, errors=errors)
    probe = request
    replaced: set[str] = set()
    if probe is None:
        stand_in = dict(data)
        for path in errors:
            key = _owner(path)
            if key is None or key == "project":
                continue
            replaced.add(key)
            if key == "model":
                stand_in["model"] = facts.models[0].key if facts.models else "stand-in"
                stand_in["tag"] = None
                replaced.add("tag")
            else:
                stand_in[key] = _STAND_INS[key]
            if key == "display_name":
                stand_in["name"] = ""
                replaced.add("name")
        try:
            probe = DeploymentRequest.model_validate(stand_in)
        except ValidationError:
            return FormCheck(request=None, errors=errors)
    skip = {_TOP_LEVEL_PATHS[key] for key in replaced}
    for problem in validate_against_facts(request=probe, facts=facts, update=update):
        if any(belongs(problem.field, top) for top in skip) or problem.field in errors:
            continue
        errors[problem.field] = problem.message
    return FormCheck(request=request if not errors else None, errors=errors)


# What a person calls each request field (the review lists problems by these names).
FIELD_LABELS: Mapping[str, str] = {
    "account": "NVIDIA NIM account",
    "template": "NIM runtime template",
    "model": "NVIDIA NIM",
    "tag": "Tag",
    "project": "Project",
    "displayName": "Model deployment name",
    "name": "Resource name",
    "description": "Description",
    "storage": "Model cache storage",
    "hardwareProfile": "Hardware profile",
    "resources": "Resources",
    "replicas": "Replicas",
    "env": "Environment variables",
}


def label_for(path: str) -> str:
    for prefix, label in FIELD_LABELS.items():
        if belongs(path, prefix):
            return label
    return path
