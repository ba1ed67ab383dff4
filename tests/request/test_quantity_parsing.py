"""Kubernetes quantities: exact values across units, original text kept."""

from __future__ import annotations

from fractions import Fraction

import pytest

from nim_widget.quantity import Quantity, QuantityError, is_quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1Gi", 2**30),
        ("1024Mi", 2**30),
        ("500m", Fraction(1, 2)),
        ("4", 4),
        ("1.5Ti", 3 * 2**39),
        ("1e3", 1000),
        ("2k", 2000),
        ("100G", 10**11),
        (".5", Fraction(1, 2)),
        ("-1Gi", -(2**30)),
        (4, 4),
        (0.25, Fraction(1, 4)),
    ],
)
def test_values(text: str | int | float, value: int | Fraction) -> None:
    assert Quantity.parse(text).value == value


@pytest.mark.parametrize("text", ["abc", "1 Gi", "1gi", "Gi", "", "1.2.3", "1Kb", True, None, [1]])
def test_not_quantities(text: object) -> None:
    with pytest.raises(QuantityError):
        Quantity.parse(text)
    assert not is_quantity(text)


def test_comparison_and_text() -> None:
    assert Quantity.parse("1Gi") == Quantity.parse("1024Mi")
    assert hash(Quantity.parse("1Gi")) == hash(Quantity.parse("1024Mi"))
    assert Quantity.parse("1G") < Quantity.parse("1Gi") <= Quantity.parse("1Gi")
    quantity = Quantity.parse(" 16Gi ")
    assert (quantity.text, quantity.unit, str(quantity), repr(quantity)) == (
        "16Gi",
        "Gi",
        "16Gi",
        "Quantity('16Gi')",
    )
    assert Quantity.parse(quantity) is quantity
    assert Quantity.parse("1Gi") != "1Gi"
