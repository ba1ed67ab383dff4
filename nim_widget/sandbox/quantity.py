"""Kubernetes ``resource.Quantity``: parsing, comparison and the canonical form a server stores.

Values are exact fractions, so ``1Gi`` vs ``1073741824`` and ``500m`` vs ``0.5`` compare equal,
and canonicalisation follows apimachinery (``1000m`` -> ``1``, ``1e3`` -> ``1e3``, ``2048Mi`` -> ``2Gi``),
because a client reading back what it wrote sees the canonical form on a real server too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

FORMAT_REGEX = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT = f"quantities must match the regular expression '{FORMAT_REGEX}'"
ERR_SUFFIX = "unable to parse quantity's suffix"
ERR_NUMERIC = "unable to parse numeric part of quantity"

_SPLIT = re.compile(FORMAT_REGEX)
_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_EXPONENT = re.compile(r"^[eE]([-+]?[0-9]+)$")

_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_BY_EXP = {v: k for k, v in _DECIMAL.items()}
_BINARY_BY_EXP = {v: k for k, v in _BINARY.items()}

BINARY_SI = "BinarySI"
DECIMAL_SI = "DecimalSI"
DECIMAL_EXPONENT = "DecimalExponent"

_NANO = Fraction(1, 10**9)


class QuantityError(ValueError):
    """Raised with apimachinery's own messages, which servers put in 400/422 bodies."""


@dataclass(frozen=True)
class Quantity:
    value: Fraction
    format: str

    def __str__(self) -> str:
        return canonical(self)


def parse_quantity(text: str) -> Quantity:
    if not isinstance(text, str) or not text:
        raise QuantityError(ERR_FORMAT)
    match = _SPLIT.fullmatch(text)
    if match is None:
        raise QuantityError(ERR_FORMAT)
    number, suffix = match.group(1), match.group(2)
    if not _NUMBER.fullmatch(number):
        raise QuantityError(ERR_NUMERIC)
    value = Fraction(number)
    if suffix in _BINARY:
        value *= 2 ** _BINARY[suffix]
        fmt = BINARY_SI
    elif suffix in _DECIMAL:
        value *= Fraction(10) ** _DECIMAL[suffix]
        fmt = DECIMAL_SI
    else:
        exp = _EXPONENT.fullmatch(suffix)
        if exp is None:
            raise QuantityError(ERR_SUFFIX)
        value *= Fraction(10) ** int(exp.group(1))
        fmt = DECIMAL_EXPONENT
    # Quantities keep nano precision at most, rounding away from zero.
    if value.denominator != 1 and (value / _NANO).denominator != 1:
        scaled = value / _NANO
        rounded = math.ceil(scaled) if value > 0 else math.floor(scaled)
        value = rounded * _NANO
    return Quantity(value, fmt)


def quantity_value(value: str | int | float) -> Fraction:
    """The exact value of a quantity given as a string or a JSON number."""
    if isinstance(value, bool):
        raise QuantityError(ERR_FORMAT)
    if isinstance(value, int | float):
        return Fraction(value)
    return parse_quantity(value).value


def compare(a: str | int | float, b: str | int | float) -> int:
    va, vb = quantity_value(a), quantity_value(b)
    return (va > vb) - (va < vb)


def is_valid(text: str) -> bool:
    try:
        parse_quantity(text)
    except QuantityError:
        return False
    return True


def canonical(q: Quantity) -> str:
    value, fmt = q.value, q.format
    if value == 0:
        return "0"
    if fmt == BINARY_SI and (abs(value) < 1024 or value.denominator != 1):
        fmt = DECIMAL_SI
    if fmt == BINARY_SI:
        mantissa, exp = int(value), 0
        while exp < 60 and mantissa % 1024 == 0:
            mantissa //= 1024
            exp += 10
        return f"{mantissa}{_BINARY_BY_EXP.get(exp, '')}"
    # Decimal: mantissa * 10^exp with exp a multiple of 3 and the mantissa an integer.
    exp = 0
    while value.denominator != 1:
        value *= 1000
        exp -= 3
    mantissa = int(value)
    while mantissa % 1000 == 0 and exp < 18:
        mantissa //= 1000
        exp += 3
    if fmt == DECIMAL_EXPONENT:
        return f"{mantissa}" if exp == 0 else f"{mantissa}e{exp}"
    return f"{mantissa}{_DECIMAL_BY_EXP[exp]}"


def canonicalize(value: str | int | float) -> str:
    """The string a server stores for a quantity field of a built-in kind."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return canonical(Quantity(Fraction(value), DECIMAL_SI))
    return canonical(parse_quantity(str(value)))
