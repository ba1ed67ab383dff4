"""Kubernetes resource quantities (`50Gi`, `500m`, `4`, `1e3`) as exact numbers.

Hardware-profile bounds, resource overrides and PVC sizes are compared across units (`1024Mi` equals
`1Gi`), so they are parsed into exact fractions; the original text is kept because manifests must carry
what the user or the profile wrote, not a re-formatted number.
"""

from __future__ import annotations

import functools
import re
from fractions import Fraction

_QUANTITY_RE = re.compile(
    r"^(?P<sign>[+-]?)(?P<number>\d+(?:\.\d*)?|\.\d+)"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$"
)

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}


class QuantityError(ValueError):
    """The text is not a Kubernetes quantity."""


@functools.total_ordering
class Quantity:
    """An exact Kubernetes quantity; equal and ordered by value, printed as written."""

    __slots__ = ("_text", "_unit", "_value")

    def __init__(self, text: str, value: Fraction, unit: str) -> None:
        self._text = text
        self._value = value
        self._unit = unit

    @classmethod
    def parse(cls, raw: object) -> Quantity:
        """Parse a quantity; YAML/JSON numbers (`4`, `0.5`) are accepted as their decimal text."""
        if isinstance(raw, Quantity):
            return raw
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise QuantityError(f"{raw!r} is not a quantity")
        text = (repr(raw) if isinstance(raw, float) else str(raw)).strip()
        match = _QUANTITY_RE.match(text)
        if match is None:
            raise QuantityError(f'"{text}" is not a quantity (examples: 4, 500m, 16Gi)')
        value = Fraction(match["number"])
        if match["sign"] == "-":
            value = -value
        suffix = match["suffix"] or ""
        if suffix in _BINARY:
            value *= _BINARY[suffix]
        elif suffix in _DECIMAL:
            value *= _DECIMAL[suffix]
        elif suffix:
            value *= Fraction(10) ** int(suffix[1:])
        return cls(text, value, suffix)

    @property
    def text(self) -> str:
        return self._text

    @property
    def value(self) -> Fraction:
        return self._value

    @property
    def unit(self) -> str:
        """The suffix as written (`Gi`, `m`, `e3`), or `""` for a bare number."""
        return self._unit

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._value == other._value

    def __lt__(self, other: Quantity) -> bool:
        return self._value < other._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Quantity({self._text!r})"


def is_quantity(raw: object) -> bool:
    try:
        Quantity.parse(raw)
    except QuantityError:
        return False
    return True


GIBIBYTE = Quantity.parse("1Gi")
