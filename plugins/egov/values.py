"""Values as JSON carries them, one rule for the whole project (connectors, traces, packs, reports)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal


def json_value(value: object) -> object:
    """A database value as JSON carries it: timestamps and dates in ISO 8601, numerics as numbers (an integral
    numeric as an integer, so that 38751.000000 reads 38751)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
