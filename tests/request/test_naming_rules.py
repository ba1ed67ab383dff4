"""Display name -> resource name, with the dashboard's translation and the wizard's messages."""

from __future__ import annotations

import pytest

from nim_widget import naming


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Llama 3.1 8B", "llama-31-8b"),
        ("  --My__Model--  ", "mymodel"),
        ("a  b\tc", "a-b-c"),
        ("3B model", "3b-model"),
        ("Ünïcode", "ncode"),
        ("", ""),
    ],
)
def test_translate_like_the_dashboard(text: str, expected: str) -> None:
    assert naming.translate_display_name(text=text) == expected


def test_translate_options() -> None:
    assert naming.translate_display_name(text="3B model", safe_prefix="nim-") == "nim-3b-model"
    assert naming.translate_display_name(text="Llama model", safe_prefix="nim-") == "llama-model"
    assert naming.translate_display_name(text="abc def ghi", max_length=4) == "abc"


def test_empty_translation_is_stable_not_random() -> None:
    first = naming.translate_display_name(text="日本語")
    assert first == naming.translate_display_name(text="日本語") == "gen-vhu9ph"
    assert naming.translate_display_name(text="日本語", safe_prefix="nim-") == "nim-vhu9ph"
    assert naming.translate_display_name(text="中文") != first
    assert naming.derive_resource_name(display_name="!!!") == naming.derive_resource_name(display_name="!!!")


@pytest.mark.parametrize(
    ("display", "project", "expected"),
    [
        ("Llama 3.1 8B", None, "llama-31-8b"),
        ("3B Mini model", None, "nim-3b-mini-model"),
        ("Llama 3.3 Nemotron Super 49B v1 - production", None, "llama-33-nemotron-super-49b-v1"),
        ("a" * 29 + " b", None, "a" * 29),
        ("Llama 3.1 8B Instruct", "p" * 50, "llama-31-8b"),
        ("日本語", None, "nim-vhu9ph"),
    ],
)
def test_derived_resource_names_are_valid(display: str, project: str | None, expected: str) -> None:
    name = naming.derive_resource_name(display_name=display, project=project)
    assert name == expected
    assert naming.resource_name_problems(name=name, project=project) == []


def test_wizard_messages_verbatim() -> None:
    assert naming.resource_name_problems(name="-Bad", project="p") == [
        "Must start with a lowercase letter and end with a lowercase letter or number. "
        "Valid characters include "
        "lowercase letters, numbers, and hyphens (-)."
    ]
    assert naming.resource_name_problems(name="a" * 31, project=None) == ["Cannot exceed 30 characters"]
    assert naming.resource_name_problems(name="a" * 30, project="p" * 33) == [
        "Resource name and project name combined cannot exceed 63 characters"
    ]
    assert naming.resource_name_problems(name="a" * 30, project="p" * 32) == []


def test_pvc_names() -> None:
    assert naming.pvc_resource_name(typed_name="Llama cache") == "llama-cache"
    assert naming.pvc_resource_name(typed_name="3B cache") == "3b-cache"
    assert naming.pvc_resource_name(typed_name="☃") == naming.pvc_resource_name(typed_name="☃")
    assert naming.pvc_resource_name(typed_name="☃").startswith("nim-pvc-")
    assert len(naming.pvc_resource_name(typed_name="c" * 300)) == 253
    assert naming.default_pvc_name(resource_name="llama-31-8b") == "llama-31-8b-cache"


def test_dns_helpers() -> None:
    assert (
        naming.is_dns_label("my-project")
        and not naming.is_dns_label("a.b")
        and not naming.is_dns_label("a" * 64)
    )
    assert naming.is_dns_subdomain("cache.v1") and not naming.is_dns_subdomain("Cache")
