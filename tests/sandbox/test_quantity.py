"""Kubernetes quantities: the parsing and comparison the PVC rules and schemas rely on."""

from __future__ import annotations

import pytest

from nim_widget.sandbox.quantity import (
    ERR_FORMAT,
    ERR_NUMERIC,
    ERR_SUFFIX,
    QuantityError,
    canonicalize,
    compare,
)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1Gi", "1073741824", 0),
        ("500m", "0.5", 0),
        ("1e3", "1k", 0),
        ("2.5G", "2500M", 0),
        ("50Gi", "50G", 1),
        ("100Mi", "1Gi", -1),
    ],
)
def test_compare(a: str, b: str, expected: int) -> None:
    assert compare(a, b) == expected


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("2048Mi", "2Gi"),
        ("1000m", "1"),
        ("0.5", "500m"),
        ("1e3", "1e3"),
        ("2.5G", "2500M"),
        ("1536Mi", "1536Mi"),
        ("100", "100"),
        ("0.1n", "1n"),
        ("0", "0"),
    ],
)
def test_canonical_form(text: str, canonical: str) -> None:
    assert canonicalize(text) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", ERR_FORMAT),
        ("1.2.3", ERR_NUMERIC),
        ("12e", ERR_SUFFIX),
        ("", ERR_FORMAT),
        ("5 Gi", ERR_FORMAT),
    ],
)
def test_parse_errors_use_the_apimachinery_messages(text: str, message: str) -> None:
    with pytest.raises(QuantityError) as err:
        canonicalize(text)
    assert str(err.value) == message
