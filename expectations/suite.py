"""What a suite module declares: the slice of one guarded table that a period's release depends on,
and the expectations on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from egov.core.periods import Period

LAYERS = ("raw", "staging", "marts", "reporting", "coverage")


@dataclass(frozen=True)
class Suite:
    #: Short name used for the GX suite, asset and validation definition, and in failure messages.
    name: str
    #: The guarded table or view, schema-qualified.
    table: str
    layer: str
    slice_query: Callable[[Period], str]
    expectations: Callable[[Period], list]

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ValueError(f"suite {self.name}: layer {self.layer!r} is not one of {', '.join(LAYERS)}")


def days_of(column: str, period: Period) -> str:
    """SQL condition: ``column`` (a date) lies in ``period``."""
    return f"{column} >= '{period.start}' and {column} < '{period.end}'"


def whole_table(table: str) -> Callable[[Period], str]:
    """The slice query of a snapshot: every period's figures rest on all of it."""
    return lambda period: f"select * from {table}"


def table_slice(table: str, date_column: str) -> Callable[[Period], str]:
    """The slice query of a table dated by ``date_column``: its rows in the period."""
    return lambda period: f"select * from {table} where {days_of(date_column, period)}"
