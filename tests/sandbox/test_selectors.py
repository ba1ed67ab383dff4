"""Label and field selectors on list (and, through the same code, on watch)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def labelled(core_v1: Any) -> None:
    for name, labels in {
        "a": {"tier": "web", "env": "prod"},
        "b": {"tier": "db", "env": "prod"},
        "c": {"tier": "web"},
        "d": {},
    }.items():
        core_v1.create_namespaced_config_map("demo", {"metadata": {"name": name, "labels": labels}})


def _names(core_v1: Any, **kw: Any) -> list[str]:
    return [
        c.metadata.name
        for c in core_v1.list_namespaced_config_map("demo", **kw).items
        if c.metadata.name in "abcd"
    ]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("tier=web", ["a", "c"]),
        ("tier==web", ["a", "c"]),
        ("tier!=web", ["b", "d"]),
        ("tier in (web,db)", ["a", "b", "c"]),
        ("tier notin (web)", ["b", "d"]),
        ("env", ["a", "b"]),
        ("!env", ["c", "d"]),
        ("tier=web,env=prod", ["a"]),
    ],
)
def test_label_selector_operators(core_v1: Any, labelled: None, selector: str, expected: list[str]) -> None:
    assert _names(core_v1, label_selector=selector) == expected


def test_field_selector_by_name(core_v1: Any, labelled: None) -> None:
    assert _names(core_v1, field_selector="metadata.name=b") == ["b"]
    assert _names(core_v1, field_selector="metadata.name!=b") == ["a", "c", "d"]


def test_field_selector_by_namespace(core_v1: Any) -> None:
    items = core_v1.list_config_map_for_all_namespaces(field_selector="metadata.namespace=demo").items
    assert items and {c.metadata.namespace for c in items} == {"demo"}


def test_unsupported_field_selector_on_a_core_kind_is_bad_request(raw: Any) -> None:
    resp = raw.get("/api/v1/namespaces/demo/configmaps?fieldSelector=spec.x%3D1")
    assert (resp.status, resp.json["reason"]) == (400, "BadRequest")
    assert resp.json["message"] == "field label not supported: spec.x"


def test_unsupported_field_selector_on_a_custom_kind_is_bad_request(raw: Any) -> None:
    resp = raw.get(
        "/apis/serving.kserve.io/v1beta1/namespaces/demo/inferenceservices?fieldSelector=spec.x%3D1"
    )
    assert (resp.status, resp.json["reason"]) == (400, "BadRequest")
    assert (
        resp.json["message"]
        == '"spec.x" is not a known field selector: only "metadata.name", "metadata.namespace"'
    )


def test_pod_field_selector_on_phase(core_v1: Any) -> None:
    core_v1.create_namespaced_pod(
        "demo", {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    )
    assert [
        p.metadata.name
        for p in core_v1.list_namespaced_pod("demo", field_selector="status.phase=Pending").items
    ] == ["p"]
