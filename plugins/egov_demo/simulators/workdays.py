"""The working calendar of the simulated agencies: weekends and Vietnamese public holidays.

Named workdays, not calendar: Airflow imports plugin files with their folder on sys.path, where a
`calendar.py` would shadow the standard library module.
Shared by every simulator so that all agency systems are quiet on the same days.
"""

from datetime import date

import numpy as np

# Days off for state agencies (Labour Code 2012, art. 115); Tết and Hùng Kings' day follow the lunar calendar.
PUBLIC_HOLIDAYS = (
    (date(2018, 1, 1), date(2018, 1, 1)),
    (date(2018, 2, 15), date(2018, 2, 20)),
    (date(2018, 4, 25), date(2018, 4, 25)),
    (date(2018, 4, 30), date(2018, 5, 1)),
    (date(2018, 9, 2), date(2018, 9, 3)),  # 3 September makes up for the 2nd falling on a Sunday
    (date(2019, 1, 1), date(2019, 1, 1)),
    (date(2019, 2, 4), date(2019, 2, 8)),
    (date(2019, 4, 15), date(2019, 4, 15)),
    (date(2019, 4, 30), date(2019, 5, 1)),
    (date(2019, 9, 2), date(2019, 9, 2)),
    (date(2020, 1, 1), date(2020, 1, 1)),
    (date(2020, 1, 23), date(2020, 1, 29)),
    (date(2020, 4, 2), date(2020, 4, 2)),
    (date(2020, 4, 30), date(2020, 5, 1)),
    (date(2020, 9, 2), date(2020, 9, 2)),
)


def day_range(first: date, last: date) -> np.ndarray:
    """Every day from ``first`` to ``last`` inclusive, as numpy days."""
    return np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)


def weekday(days: np.ndarray) -> np.ndarray:
    """0 for Monday to 6 for Sunday."""
    return (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday


def is_holiday(days: np.ndarray) -> np.ndarray:
    return np.isin(days, np.concatenate([day_range(first, last) for first, last in PUBLIC_HOLIDAYS]))


def is_working_day(days: np.ndarray) -> np.ndarray:
    return (weekday(days) < 5) & ~is_holiday(days)


def working_days(first: date, last: date) -> np.ndarray:
    days = day_range(first, last)
    return days[is_working_day(days)]

