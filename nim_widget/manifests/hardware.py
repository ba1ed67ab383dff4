"""Applying a hardware profile to the InferenceService (B.4, plus scheduling).

The dashboard writes the three `opendatahub.io/hardware-profile-*` annotations and the container
resources, and leaves tolerations and nodeSelector to an OpenShift AI admission webhook. Plain KServe
clusters have no such webhook, so we also write the profile's tolerations and nodeSelector on the
predictor (issue 3): the same values the webhook would inject, so both kinds of cluster schedule alike.

Without a profile (B.4: the three annotations are deleted) a person may still type custom resources;
they are written as given, with no annotations, tolerations or nodeSelector.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from nim_widget.facts import HardwareProfile

PROFILE_NAME = "opendatahub.io/hardware-profile-name"
PROFILE_NAMESPACE = "opendatahub.io/hardware-profile-namespace"
PROFILE_RESOURCE_VERSION = "opendatahub.io/hardware-profile-resource-version"
PROFILE_ANNOTATIONS = (PROFILE_NAME, PROFILE_NAMESPACE, PROFILE_RESOURCE_VERSION)


def profile_annotations(*, profile: HardwareProfile) -> dict[str, str]:
    return {
        PROFILE_NAME: profile.name,
        PROFILE_NAMESPACE: profile.namespace,
        PROFILE_RESOURCE_VERSION: profile.resource_version,
    }


def container_resources(
    *, profile: HardwareProfile, requests: Mapping[str, str], limits: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """Defaults in both requests and limits, overrides on top (bounds checked by validation)."""
    return profile.resources(requests=requests, limits=limits)


def custom_resources(*, requests: Mapping[str, str], limits: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Without a profile: exactly what was typed, and only the halves that were (an empty `limits`
    would say nothing but still show up in every diff and review)."""
    result: dict[str, dict[str, str]] = {}
    if requests:
        result["requests"] = dict(requests)
    if limits:
        result["limits"] = dict(limits)
    return result


def scheduling(*, profile: HardwareProfile) -> dict[str, Any]:
    """`tolerations`/`nodeSelector` for the predictor; only the keys the profile actually sets."""
    result: dict[str, Any] = {}
    if profile.tolerations:
        result["tolerations"] = [copy.deepcopy(dict(t)) for t in profile.tolerations]
    if profile.node_selector:
        result["nodeSelector"] = dict(profile.node_selector)
    return result
