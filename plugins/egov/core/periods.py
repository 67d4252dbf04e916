"""Reporting periods: quarters ('2019Q1') and years ('2019') as half-open date ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_PERIOD = re.compile(r"^(?P<year>\d{4})(?:Q(?P<quarter>[1-4]))?$")


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date  # exclusive

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def days(self) -> list[date]:
        return days_between(self.start, self.end)

    def previous(self) -> Period:
        """The period of the same kind just before: the quarter before a quarter, the year before a year."""
        if "Q" in self.label:
            return quarter_of(self.start - timedelta(days=1))
        return parse_period(str(self.start.year - 1))


def parse_period(label: str) -> Period:
    match = _PERIOD.match(label.strip().upper())
    if not match:
        raise ValueError(f"period must look like 2019Q1 (a quarter) or 2019 (a year), got {label!r}")
    year = int(match["year"])
    if match["quarter"] is None:
        return Period(str(year), date(year, 1, 1), date(year + 1, 1, 1))
    quarter = int(match["quarter"])
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return Period(f"{year}Q{quarter}", start, end)


def days_between(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end``, end exclusive."""
    return [start + timedelta(days=n) for n in range((end - start).days)]


def month_starts(first: date, last: date) -> list[date]:
    """The first day of every month from ``first``'s to ``last``'s."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def quarter_of(day: date) -> Period:
    return parse_period(f"{day.year}Q{(day.month - 1) // 3 + 1}")
