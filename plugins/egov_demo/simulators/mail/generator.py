"""Deterministic daily account counts of the official e-mail system, per unit.

An account belongs to one of the 133 units of the one-stop system. For every day of 2018-2019 each unit has the
accounts created, the accounts closed and its accounts in total at the end of the day. Q1/2019 is pinned by
construction to the province's Q1/2019 report: 27 accounts created and none closed during the quarter, 6,339
accounts at its end (hence 6,312 at the end of 2018).
"""

from dataclasses import dataclass
from datetime import date

import numpy as np

from egov_demo.simulators.onestop.units import Unit, load_units
from egov_demo.simulators.workdays import day_range, is_holiday, is_working_day, weekday

DEFAULT_SEED = 2019
HORIZON = (date(2018, 1, 1), date(2019, 12, 31))

# Q1/2019 report (section 2.2): "Quý 1/2019 đã thiết lập và cấp 27 tài khoản ... nâng tổng số ... là 6.339".
CALIBRATED_QUARTER = (date(2019, 1, 1), date(2019, 3, 31))
CALIBRATED_CREATED = 27
CALIBRATED_TOTAL = 6_339
TOTAL_BEFORE_QUARTER = CALIBRATED_TOTAL - CALIBRATED_CREATED  # the report mentions no closure

# Accounts per unit at the end of 2018: at least the floor, the rest shared in proportion to a typical size.
# Province agencies include their subordinate bodies (hospitals, schools), hence the spread.
ACCOUNTS_FLOOR = {"province": 40, "district": 120, "commune": 8}
ACCOUNTS_TYPICAL = {"province": 140, "district": 250, "commune": 15}
ACCOUNTS_SIGMA = 0.5

# Expected accounts per working day. Commune staff were still being given mailboxes in 2018; from 2019 on
# accounts are opened mainly for newcomers. Closures follow staff leaving and are done on working days only.
CREATED_PER_WORKING_DAY = {2018: 1.1, 2019: 0.6}
CLOSED_PER_WORKING_DAY = 0.15
# An administrator sometimes opens an urgent account at the weekend; never on a public holiday.
WEEKEND_FACTOR = 0.03
# Recruitment results and the new school year bring newcomers from August to October; Tết empties February.
MONTH_FACTOR = np.array([0.9, 0.6, 0.9, 1.0, 1.0, 1.0, 1.1, 1.3, 1.4, 1.2, 1.0, 0.9])


@dataclass(frozen=True)
class MailDataset:
    """Daily counts per (day, unit): rows follow `days`, columns follow `units` (sorted by code)."""

    seed: int
    units: tuple[Unit, ...]
    days: np.ndarray  # datetime64[D], every day of HORIZON
    created: np.ndarray
    closed: np.ndarray
    total: np.ndarray  # accounts at the end of the day

    def counts_on(self, day: date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Created, closed and end-of-day total of every unit on `day`."""
        index = int((np.datetime64(day, "D") - self.days[0]).astype(np.int64))
        if not 0 <= index < len(self.days):
            raise ValueError(f"{day} is outside the simulated horizon {HORIZON[0]}..{HORIZON[1]}")
        return self.created[index], self.closed[index], self.total[index]


def _accounts_end_of_2018(rng: np.random.Generator, units: tuple[Unit, ...]) -> np.ndarray:
    floor = np.array([ACCOUNTS_FLOOR[unit.level] for unit in units])
    typical = np.array([ACCOUNTS_TYPICAL[unit.level] for unit in units]) * rng.lognormal(0, ACCOUNTS_SIGMA, len(units))
    return floor + rng.multinomial(TOTAL_BEFORE_QUARTER - floor.sum(), typical / typical.sum())


def _daily_counts(rng: np.random.Generator, rate: np.ndarray, quarter: np.ndarray, calibrated: int) -> np.ndarray:
    """Events per day drawn around `rate`, exactly `calibrated` of them spread over the calibrated quarter."""
    counts = rng.poisson(rate)
    counts[quarter] = rng.multinomial(calibrated, rate[quarter] / rate[quarter].sum())
    return counts


def _per_unit(event_day: np.ndarray, event_unit: np.ndarray, day_count: int, unit_count: int) -> np.ndarray:
    cells = np.bincount(event_day * unit_count + event_unit, minlength=day_count * unit_count)
    return cells.reshape(day_count, unit_count)


def build_dataset(seed: int = DEFAULT_SEED) -> MailDataset:
    """Every unit's daily account counts over 2018-2019, never negative, with the Q1/2019 report exact.

    The units' totals are fixed at the end of 2018 and the year's creations are drawn among those accounts, so
    the opening balance of 2018 is what remains; 2019's closures are drawn among the same accounts. Either way
    no unit loses more accounts than it holds.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    units = load_units()
    days = day_range(*HORIZON)
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = days.astype("datetime64[M]").astype(np.int64) % 12
    working = is_working_day(days)
    open_factor = np.where(working, 1.0, np.where(is_holiday(days) | (weekday(days) < 5), 0.0, WEEKEND_FACTOR))
    quarter = (days >= np.datetime64(CALIBRATED_QUARTER[0])) & (days <= np.datetime64(CALIBRATED_QUARTER[1]))
    in_2018 = years == 2018

    created_rate = np.array([CREATED_PER_WORKING_DAY[y] for y in years]) * open_factor * MONTH_FACTOR[months]
    created_per_day = _daily_counts(rng, created_rate, quarter, CALIBRATED_CREATED)
    closed_per_day = _daily_counts(rng, CLOSED_PER_WORKING_DAY * working, quarter, 0)

    end_of_2018 = _accounts_end_of_2018(rng, units)
    account_unit = np.repeat(np.arange(len(units)), end_of_2018)
    weights = end_of_2018 / end_of_2018.sum()
    created_2018, closed_2019 = int(created_per_day[in_2018].sum()), int(closed_per_day[~in_2018].sum())
    created_unit = np.concatenate([
        account_unit[rng.choice(len(account_unit), created_2018, replace=False)],
        rng.choice(len(units), int(created_per_day[~in_2018].sum()), p=weights),
    ])
    closed_unit = np.concatenate([
        rng.choice(len(units), int(closed_per_day[in_2018].sum()), p=weights),
        account_unit[rng.choice(len(account_unit), closed_2019, replace=False)],
    ])
    created = _per_unit(np.repeat(np.arange(len(days)), created_per_day), created_unit, len(days), len(units))
    closed = _per_unit(np.repeat(np.arange(len(days)), closed_per_day), closed_unit, len(days), len(units))

    opening = end_of_2018 - created[in_2018].sum(axis=0) + closed[in_2018].sum(axis=0)
    total = opening + np.cumsum(created - closed, axis=0)
    return MailDataset(seed, units, days, created, closed, total)
