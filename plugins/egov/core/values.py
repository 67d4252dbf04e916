"""Values as JSON carries them and as the command line prints them, one rule each for the whole project."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal


def json_value(value: object) -> object:
    """A database value as JSON carries it: timestamps and dates in ISO 8601, numerics as numbers (an integral
    numeric as an integer, so that 38751.000000 reads 38751). A numeric NaN or ±Infinity becomes the float of the
    same name, for the loader to refuse as it refuses one in JSON (int() of it raised OverflowError)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if not value.is_finite():
            return float(value)
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def plain_number(value: Decimal | int | float | str | None, missing: str = "unknown") -> str:
    """A number as the command line shows it: 38,751 and 0.937354 (``missing`` for none)."""
    if value is None:
        return missing
    number = Decimal(value)
    return f"{number:,.0f}" if number == number.to_integral_value() else f"{number.normalize():,}"
