"""Deterministic dossier history of the one-stop system, aggregated the way the system reports it.

Dossiers are simulated one by one (received date, unit, procedure, channel, resolution date), then aggregated
into daily counts per unit, procedure, channel and event, and into each unit's daily close. Q1/2019 is pinned by
construction to the figures of the province's Q1/2019 report. The holiday calendar covers 2018-2020, the
default horizon; later years would only have weekends off.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from egov_demo.simulators.api import TransportFaults
from egov_demo.simulators.onestop.catalog import REFERENCE_DATE, Procedure, load_catalogue, procedure_versions
from egov_demo.simulators.onestop.units import LEVELS, SYSTEM_LAUNCH_DATE, Unit, load_units
from egov_demo.simulators.workdays import day_range, is_holiday, weekday, working_days

SERVICE_LEVELS = (2, 3, 4)
# Code order equals alphabetical order, so sorting by code sorts the rows by name.
CHANNELS = ("in_person", "online", "postal")
EVENTS = ("received", "resolved_late", "resolved_on_time")
IN_PERSON, ONLINE, POSTAL = range(3)
RECEIVED, RESOLVED_LATE, RESOLVED_ON_TIME = range(3)

# Q1/2019 report (section 2.2): dossiers received and resolved, and level-3/4 dossiers by channel.
CALIBRATED_QUARTER = (date(2019, 1, 1), date(2019, 3, 31))
CALIBRATED_RECEIVED = 38_751
CALIBRATED_RESOLVED = 38_584
CALIBRATED_IN_PERSON = {3: 3_797, 4: 2_219}
CALIBRATED_ONLINE = {3: 124, 4: 494}
CALIBRATED_BY_LEVEL = {
    2: CALIBRATED_RECEIVED - sum(CALIBRATED_IN_PERSON.values()) - sum(CALIBRATED_ONLINE.values()),
    3: CALIBRATED_IN_PERSON[3] + CALIBRATED_ONLINE[3],
    4: CALIBRATED_IN_PERSON[4] + CALIBRATED_ONLINE[4],
}

# Monday..Sunday: one-stop desks open on Saturday mornings in some units; online submissions trickle in always.
WEEKDAY_FACTOR = np.array([1.15, 1.05, 1.0, 1.0, 0.95, 0.08, 0.004])
HOLIDAY_FACTOR = 0.004
MONTH_FACTOR = np.array([1.0, 0.97, 1.02, 0.98, 1.0, 1.02, 1.0, 1.0, 0.98, 1.02, 1.02, 1.04])
ANNUAL_GROWTH = 0.05  # more units' staff route their dossiers through the system each year
LAUNCH_RAMP_START, LAUNCH_RAMP_DAYS = 0.7, 90
QUARTER_NOISE_SIGMA = 0.03

TIER_DEMAND_SHARE = {"province": 0.42, "district": 0.38, "commune": 0.20}
AGENCY_DEMAND_WEIGHT = {
    "84.SNV": 3, "84.STP": 10, "84.SKHDT": 10, "84.STC": 2, "84.SCT": 6, "84.SNNPTNT": 7, "84.SGTVT": 16,
    "84.SXD": 5, "84.STNMT": 12, "84.STTTT": 1.5, "84.SLDTBXH": 9, "84.SVHTTDL": 3, "84.SKHCN": 1.5,
    "84.SGDDT": 6, "84.SYT": 7, "84.TTR": 0.5, "84.BDT": 0.4, "84.BQLKKT": 1.5,
}
DISTRICT_DEMAND_WEIGHT = {
    "842": 1.3, "844": 1.1, "845": 0.9, "846": 0.95, "847": 1.05, "848": 1.0, "849": 1.1, "850": 0.7, "851": 0.6,
}
COMMUNE_DEMAND_SIGMA = 0.5
PROCEDURE_DEMAND_SIGMA = 1.3
FIELD_DEMAND_BOOST = {
    "Chứng thực": 5.0, "Hộ tịch": 3.0, "Đất đai": 3.0, "Đường bộ": 3.0, "Lý lịch tư pháp": 2.0,
    "Thành lập và hoạt động doanh nghiệp": 2.0, "Thành lập và hoạt động hộ kinh doanh": 2.0,
    "Bảo trợ xã hội": 1.5, "Người có công": 1.5,
}

POSTAL_SHARE_OF_LEVEL2 = {"province": 0.02, "district": 0.006, "commune": 0.0}
ONLINE_ANNUAL_GROWTH = 0.6
ONLINE_TIER_FACTOR = {"province": 1.3, "district": 1.0, "commune": 0.5}
ON_TIME_SHARE = {"province": 0.965, "district": 0.93, "commune": 0.975}
LATE_EXTRA_DAYS_P = 0.2  # geometric: late dossiers overrun their deadline by 5 working days on average
CALENDAR_TAIL_DAYS = 400  # resolution dates of late dossiers can fall well after the horizon
CLOSE_TIME = "T23:30:00+07:00"






def _intensity(days: np.ndarray) -> np.ndarray:
    """Relative dossier inflow per day: weekday, holiday, month, growth and launch ramp."""
    daily = np.where(is_holiday(days), HOLIDAY_FACTOR, WEEKDAY_FACTOR[weekday(days)])
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    since_launch = (days - np.datetime64(SYSTEM_LAUNCH_DATE, "D")).astype(np.int64)
    ramp = np.clip(LAUNCH_RAMP_START + (1 - LAUNCH_RAMP_START) * since_launch / LAUNCH_RAMP_DAYS, LAUNCH_RAMP_START, 1)
    return daily * MONTH_FACTOR[month] * np.exp(ANNUAL_GROWTH * since_launch / 365.25) * ramp


def _draw(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """`size` indices drawn with replacement in proportion to `weights` (zero weights never drawn)."""
    cumulative = np.cumsum(weights)
    return np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")


def _multinomial(rng: np.random.Generator, total: int, weights: np.ndarray) -> np.ndarray:
    if total == 0:
        return np.zeros(len(weights), dtype=np.int64)
    if weights.sum() <= 0:
        raise ValueError(f"cannot place {total} dossiers where no procedure is in force")
    return rng.multinomial(total, weights / weights.sum())


class _Demand:
    """Who receives dossiers for which procedure on which day, and how much of the inflow each pair gets."""

    def __init__(self, rng: np.random.Generator, units: tuple[Unit, ...], procedures: tuple[Procedure, ...]):
        self.units, self.procedures = units, procedures
        agencies = [unit.code for unit in units if unit.level == "province"]
        self.district_handler, self.commune_handler = len(agencies), len(agencies) + 1
        handler_of_level = {"district": self.district_handler, "commune": self.commune_handler}
        self.unit_handler = np.array(
            [agencies.index(u.code) if u.level == "province" else handler_of_level[u.level] for u in units]
        )
        self.proc_handler = np.array(
            [agencies.index(p.agency_code) if p.agency_code else handler_of_level[p.tier] for p in procedures]
        )
        self.agency_unit = np.array([[u.code for u in units].index(code) for code in agencies])
        self.unit_tier = np.array([LEVELS.index(unit.level) for unit in units])
        self.deadline = np.array([p.deadline_working_days for p in procedures])

        raw_unit_weight = np.array(
            [
                AGENCY_DEMAND_WEIGHT[u.code] if u.level == "province"
                else DISTRICT_DEMAND_WEIGHT[u.code] if u.level == "district"
                else rng.lognormal(0.0, COMMUNE_DEMAND_SIGMA)
                for u in units
            ]
        )
        tier_totals = np.bincount(self.unit_tier, weights=raw_unit_weight)
        tier_share = np.array([TIER_DEMAND_SHARE[level] for level in LEVELS])
        self.unit_weight = raw_unit_weight / tier_totals[self.unit_tier] * tier_share[self.unit_tier]

        popularity = rng.lognormal(0.0, PROCEDURE_DEMAND_SIGMA, len(procedures)) * np.array(
            [FIELD_DEMAND_BOOST.get(p.field, 1.0) for p in procedures]
        )
        handler_totals = np.bincount(self.proc_handler, weights=popularity)
        self.proc_weight = popularity / handler_totals[self.proc_handler]

    def levels(self, days: np.ndarray) -> np.ndarray:
        """(day, procedure) service level in force, 0 when the procedure is not."""
        first = days[0].astype(date)
        levels = np.zeros((len(days), len(self.procedures)), dtype=np.int8)
        for index, procedure in enumerate(self.procedures):
            for version in procedure.versions:
                begin = max((version.valid_from - first).days, 0)
                finish = len(days) if version.valid_to is None else max((version.valid_to - first).days, 0)
                levels[begin:finish, index] = version.service_level
        return levels

    def onboarded(self, days: np.ndarray) -> np.ndarray:
        onboarded_on = np.array([np.datetime64(unit.onboarded_on, "D") for unit in self.units])
        return days[:, None] >= onboarded_on[None, :]

    def pair_mass(self, levels: np.ndarray, onboarded: np.ndarray) -> np.ndarray:
        """(day, procedure) share of the inflow, summed over the units that handle the procedure."""
        handler_mass = np.zeros((len(levels), self.commune_handler + 1))
        np.add.at(handler_mass.T, self.unit_handler, (onboarded * self.unit_weight).T)
        return self.proc_weight * (levels > 0) * handler_mass[:, self.proc_handler]

    def level_mass(self, levels: np.ndarray, mass: np.ndarray) -> np.ndarray:
        """(day, service level 2/3/4) share of the inflow."""
        return np.stack([np.where(levels == level, mass, 0.0).sum(axis=1) for level in SERVICE_LEVELS], axis=1)

    def calibrate_level_demand(self, quarter_days: np.ndarray) -> float:
        """Scale demand so Q1/2019 expects the report's mix of levels and total; returns dossiers per unit mass.

        Each procedure keeps one demand factor for life, taken from the level it had on the reference date, so
        moving a service up a level does not by itself change how many people need it.
        """
        levels = self.levels(quarter_days)
        onboarded = self.onboarded(quarter_days)
        intensity = _intensity(quarter_days)
        group = np.array(
            [
                (p.version_on(REFERENCE_DATE) or p.versions[0]).service_level
                for p in self.procedures
            ]
        )
        mass = intensity[:, None] * self.pair_mass(levels, onboarded)
        group_mass = np.array([mass[:, group == level].sum() for level in SERVICE_LEVELS])
        target = np.array([CALIBRATED_BY_LEVEL[level] for level in SERVICE_LEVELS]) / CALIBRATED_RECEIVED
        factor = target / (group_mass / group_mass.sum())
        self.proc_weight = self.proc_weight * factor[group - SERVICE_LEVELS[0]]
        return CALIBRATED_RECEIVED / (intensity[:, None] * self.pair_mass(levels, onboarded)).sum()


@dataclass
class Faults(TransportFaults):
    """Source misbehaviour the API can be told to show, for tests of the pipeline's defences.

    negative_count_on: on these dates the first dossier-count record carries count -5 (well-formed, wrong).
    malformed_on: on these dates the dossier counts carry one extra record without a channel and with count "abc".
    withheld_on: these dates' dossier counts are not served yet (delivered late); removing a date delivers it.
    restated_on: the first dossier-count record of each of these dates is served with this many more dossiers
        (the source revised a past day).
    unclosed: these (date, unit code) pairs have no daily close: the unit did not close its day.
    Plus the transport faults of :class:`TransportFaults`.
    """

    negative_count_on: set[date] = field(default_factory=set)
    malformed_on: set[date] = field(default_factory=set)
    withheld_on: set[date] = field(default_factory=set)
    restated_on: dict[date, int] = field(default_factory=dict)
    unclosed: set[tuple[date, str]] = field(default_factory=set)


class _DatedTable:
    """Rows sorted by day, with encoded columns decoded only for the slice a caller asks for."""

    def __init__(self, first_day: date, day: np.ndarray, columns: list[tuple[str, np.ndarray, np.ndarray | None]]):
        self.first_day = first_day
        self.day = day
        self.columns = columns

    def _bounds(self, date_from: date, date_to: date) -> tuple[int, int]:
        low = np.searchsorted(self.day, (date_from - self.first_day).days, side="left")
        high = np.searchsorted(self.day, (date_to - self.first_day).days, side="right")
        return int(low), int(max(high, low))

    def total(self, date_from: date, date_to: date) -> int:
        low, high = self._bounds(date_from, date_to)
        return high - low

    def rows(self, date_from: date, date_to: date, offset: int = 0, limit: int | None = None) -> list[dict]:
        low, high = self._bounds(date_from, date_to)
        begin = min(low + offset, high)
        end = high if limit is None else min(begin + limit, high)
        names = [name for name, _, _ in self.columns]
        values = [
            (codes[begin:end] if labels is None else labels[codes[begin:end]]).tolist()
            for _, codes, labels in self.columns
        ]
        return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


class OneStopDataset:
    """The simulated system's data between `start` and `end`: units, catalogue, dossier counts and daily closes."""

    def __init__(
        self,
        seed: int,
        start: date,
        end: date,
        units: tuple[Unit, ...],
        procedures: tuple[Procedure, ...],
        counts: _DatedTable,
        closes: _DatedTable,
    ):
        self.seed, self.start, self.end = seed, start, end
        self.units, self.procedures = units, procedures
        self._counts, self._closes = counts, closes

    def unit_rows(self) -> list[dict]:
        return [unit.as_row() for unit in self.units]

    def procedure_versions(self, as_of: date | None = None) -> list[dict]:
        return procedure_versions(as_of)

    def dossier_counts(self, date_from: date, date_to: date, offset: int = 0, limit: int | None = None) -> list[dict]:
        """Non-zero counts per (date, unit, procedure, channel, event), dates inclusive, sorted by those keys."""
        return self._counts.rows(date_from, date_to, offset, limit)

    def dossier_count_total(self, date_from: date, date_to: date) -> int:
        return self._counts.total(date_from, date_to)

    def daily_closes(self, date_from: date, date_to: date, offset: int = 0, limit: int | None = None) -> list[dict]:
        """Each onboarded unit's control totals for every day in the range, sorted by date and unit."""
        return self._closes.rows(date_from, date_to, offset, limit)

    def daily_close_total(self, date_from: date, date_to: date) -> int:
        return self._closes.total(date_from, date_to)


def _reserved_dossiers(
    rng: np.random.Generator, demand: _Demand, quarter: np.ndarray, intensity: np.ndarray,
    levels: np.ndarray, onboarded: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One level-2 dossier for each unit working in the quarter, so no unit has an empty quarter."""
    level2_weight = demand.proc_weight * (levels[quarter] == 2)
    handler_level2 = np.zeros((len(quarter), demand.commune_handler + 1))
    np.add.at(handler_level2.T, demand.proc_handler, level2_weight.T)
    unit_weight = demand.unit_weight * onboarded[quarter] * handler_level2[:, demand.unit_handler]
    days, units, procs = [], [], []
    for unit in np.flatnonzero(unit_weight.sum(axis=0) > 0).tolist():
        day = quarter[_draw(rng, intensity[quarter] * unit_weight[:, unit], 1)[0]]
        own = demand.proc_handler == demand.unit_handler[unit]
        procs.append(_draw(rng, demand.proc_weight * own * (levels[day] == 2), 1)[0])
        days.append(day)
        units.append(unit)
    return np.array(days, dtype=np.int64), np.array(units, dtype=np.int64), np.array(procs, dtype=np.int64)


def _assign_procedures_and_units(
    rng: np.random.Generator, demand: _Demand, day: np.ndarray, level: np.ndarray,
    levels: np.ndarray, onboarded: np.ndarray, mass: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a procedure of the given level in force that day, then a unit that handles it.

    Days with the same catalogue and the same onboarded units share one distribution, so the draws run once
    per such stretch of days and level, not per day.
    """
    changed = np.any(levels[1:] != levels[:-1], axis=1) | np.any(onboarded[1:] != onboarded[:-1], axis=1)
    stretch_of_day = np.concatenate([[0], np.cumsum(changed)])
    stretch_first_day = np.flatnonzero(np.concatenate([[True], changed]))
    procs = np.empty(len(day), dtype=np.int64)
    units = np.empty(len(day), dtype=np.int64)
    stretch = stretch_of_day[day]
    order = np.lexsort((level, stretch))
    group_key = stretch[order] * 8 + level[order]
    groups = np.split(order, np.flatnonzero(np.diff(group_key)) + 1) if len(order) else []
    for group in groups:
        first = stretch_first_day[stretch[group[0]]]
        procs[group] = _draw(rng, np.where(levels[first] == level[group[0]], mass[first], 0.0), len(group))
        handler = demand.proc_handler[procs[group]]
        for local_handler in (demand.district_handler, demand.commune_handler):
            members = group[handler == local_handler]
            if len(members):
                weights = demand.unit_weight * onboarded[first] * (demand.unit_handler == local_handler)
                units[members] = _draw(rng, weights, len(members))
        agency = handler < demand.district_handler
        units[group[agency]] = demand.agency_unit[handler[agency]]
    return procs, units


def _online_probability(received: np.ndarray, level: np.ndarray, tier: np.ndarray) -> np.ndarray:
    """Chance that a level-3/4 dossier comes in online: the Q1/2019 shares, growing as citizens adopt the portal."""
    q1_share = np.array([0.0, 0.0, 0.0] + [CALIBRATED_ONLINE[lvl] / CALIBRATED_BY_LEVEL[lvl] for lvl in (3, 4)])
    years = (received - np.datetime64(REFERENCE_DATE, "D")).astype(np.int64) / 365.25
    tier_factor = np.array([ONLINE_TIER_FACTOR[level_name] for level_name in LEVELS])
    return np.minimum(q1_share[level] * np.exp(ONLINE_ANNUAL_GROWTH * years) * tier_factor[tier], 0.9)


def _assign_channels(
    rng: np.random.Generator, received: np.ndarray, level: np.ndarray, tier: np.ndarray, calibrated: np.ndarray
) -> np.ndarray:
    """Online only for level 3/4, postal only for level 2; exact online counts in the calibrated quarter."""
    online_probability = _online_probability(received, level, tier)
    postal_probability = np.array([POSTAL_SHARE_OF_LEVEL2[name] for name in LEVELS])[tier]
    draw = rng.random(len(level))
    channel = np.full(len(level), IN_PERSON, dtype=np.int64)
    channel[(level == 2) & (draw < postal_probability)] = POSTAL
    channel[(level > 2) & (draw < online_probability) & ~calibrated] = ONLINE
    for service_level, online_count in CALIBRATED_ONLINE.items():
        pool = np.flatnonzero(calibrated & (level == service_level))
        if len(pool):
            weights = online_probability[pool]
            channel[rng.choice(pool, size=online_count, replace=False, p=weights / weights.sum())] = ONLINE
    return channel


def _processing_working_days(rng: np.random.Generator, deadline: np.ndarray, tier: np.ndarray) -> np.ndarray:
    on_time = rng.random(len(deadline)) < np.array([ON_TIME_SHARE[name] for name in LEVELS])[tier]
    # Offices tend to use most of the legal deadline rather than finish early.
    within = np.minimum(deadline, np.floor(rng.random(len(deadline)) ** 0.7 * (deadline + 1))).astype(np.int64)
    overrun = deadline + rng.geometric(LATE_EXTRA_DAYS_P, len(deadline))
    return np.where(on_time, within, overrun)


def _pin_calibrated_resolutions(
    rng: np.random.Generator, received: np.ndarray, resolved: np.ndarray, start: date, working_days: np.ndarray
) -> np.ndarray:
    """Move the fewest resolutions across the 31 March / 1 April 2019 boundary to match the reported total."""
    first, last = ((day - start).days for day in CALIBRATED_QUARTER)
    working_index = (working_days - np.datetime64(start, "D")).astype(np.int64)
    last_working = working_index[working_index <= last][-1]
    first_working_after = working_index[working_index > last][0]
    inside = (resolved >= first) & (resolved <= last)
    missing = CALIBRATED_RESOLVED - int(inside.sum())
    if missing > 0:
        candidates = np.flatnonzero((resolved > last) & (received <= last_working))
        distance, new_day = resolved[candidates] - last, last_working
    else:
        candidates = np.flatnonzero(inside)
        distance, new_day = last - resolved[candidates], first_working_after
    if len(candidates) < abs(missing):
        raise ValueError(f"cannot move {abs(missing)} resolutions across the end of Q1/2019")
    nearest = candidates[np.lexsort((rng.random(len(candidates)), distance))[: abs(missing)]]
    pinned = resolved.copy()
    pinned[nearest] = new_day
    return pinned


def build_dataset(seed: int = 2019, start: date = date(2018, 1, 1), end: date = date(2020, 12, 31)) -> OneStopDataset:
    """Simulate every dossier between `start` and `end` and aggregate them; the same seed gives the same data."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    rng = np.random.default_rng(seed)
    units, procedures = load_units(), load_catalogue()
    demand = _Demand(rng, units, procedures)
    scale = demand.calibrate_level_demand(day_range(*CALIBRATED_QUARTER))

    days = day_range(start, end)
    levels, onboarded = demand.levels(days), demand.onboarded(days)
    intensity = _intensity(days)
    mass = demand.pair_mass(levels, onboarded)
    expected = scale * intensity[:, None] * demand.level_mass(levels, mass)
    calibrated_in_horizon = start <= CALIBRATED_QUARTER[0] and CALIBRATED_QUARTER[1] <= end

    quarter_of_day = days.astype("datetime64[M]").astype(np.int64) // 3
    calibrated_quarter = np.datetime64(CALIBRATED_QUARTER[0], "M").astype(np.int64) // 3
    day_parts, level_parts, reserved_parts = [], [], []
    for quarter_key in np.unique(quarter_of_day).tolist():
        quarter = np.flatnonzero(quarter_of_day == quarter_key)
        if calibrated_in_horizon and quarter_key == calibrated_quarter:
            by_level = np.array([CALIBRATED_BY_LEVEL[level] for level in SERVICE_LEVELS])
        else:
            total = round(expected[quarter].sum() * np.exp(rng.normal(0.0, QUARTER_NOISE_SIGMA)))
            by_level = _multinomial(rng, total, expected[quarter].sum(axis=0))
        reserved = _reserved_dossiers(rng, demand, quarter, intensity, levels, onboarded)
        reserved_parts.append(reserved)
        by_level[0] = max(by_level[0] - len(reserved[0]), 0)
        for level_index, count in enumerate(by_level.tolist()):
            per_day = _multinomial(rng, count, expected[quarter, level_index])
            day_parts.append(np.repeat(quarter, per_day))
            level_parts.append(np.full(count, SERVICE_LEVELS[level_index]))

    drawn_day = np.concatenate(day_parts)
    drawn_level = np.concatenate(level_parts)
    drawn_procs, drawn_units = _assign_procedures_and_units(
        rng, demand, drawn_day, drawn_level, levels, onboarded, mass
    )
    received = np.concatenate([drawn_day, *(part[0] for part in reserved_parts)])
    unit = np.concatenate([drawn_units, *(part[1] for part in reserved_parts)])
    proc = np.concatenate([drawn_procs, *(part[2] for part in reserved_parts)])
    level = levels[received, proc].astype(np.int64)
    tier = demand.unit_tier[unit]
    calibrated = calibrated_in_horizon & (days[received] >= np.datetime64(CALIBRATED_QUARTER[0], "D")) & (
        days[received] <= np.datetime64(CALIBRATED_QUARTER[1], "D")
    )
    channel = _assign_channels(rng, days[received], level, tier, calibrated)

    open_days = working_days(start, end + timedelta(days=CALENDAR_TAIL_DAYS))
    received_position = np.searchsorted(open_days, days[received])
    deadline = demand.deadline[proc]
    resolved_on = open_days[received_position + _processing_working_days(rng, deadline, tier)]
    resolved = (resolved_on - np.datetime64(start, "D")).astype(np.int64)
    if calibrated_in_horizon:
        resolved = _pin_calibrated_resolutions(rng, received, resolved, start, open_days)
    on_time = np.searchsorted(open_days, days[0] + resolved) - received_position <= deadline

    labels = np.array([day.isoformat() for day in days.astype(date)], dtype=object)
    counts = _aggregate_counts(start, labels, units, procedures, received, resolved, unit, proc, channel, on_time)
    closes = _daily_closes(start, labels, [u.code for u in units], received, resolved, unit, onboarded)
    return OneStopDataset(seed, start, end, units, procedures, counts, closes)


def _aggregate_counts(
    start: date, day_labels: np.ndarray, units: tuple[Unit, ...], procedures: tuple[Procedure, ...],
    received: np.ndarray, resolved: np.ndarray, unit: np.ndarray, proc: np.ndarray, channel: np.ndarray,
    on_time: np.ndarray,
) -> _DatedTable:
    in_horizon = resolved < len(day_labels)
    event_day = np.concatenate([received, resolved[in_horizon]])
    event = np.concatenate(
        [np.full(len(received), RECEIVED), np.where(on_time[in_horizon], RESOLVED_ON_TIME, RESOLVED_LATE)]
    )
    dims = (len(day_labels), len(units), len(procedures), len(CHANNELS), len(EVENTS))
    keys = np.ravel_multi_index(
        (event_day, np.concatenate([unit, unit[in_horizon]]), np.concatenate([proc, proc[in_horizon]]),
         np.concatenate([channel, channel[in_horizon]]), event),
        dims,
    )
    unique_keys, count = np.unique(keys, return_counts=True)
    day, unit_index, proc_index, channel_index, event_index = np.unravel_index(unique_keys, dims)
    return _DatedTable(
        start,
        day,
        [
            ("date", day, day_labels),
            ("unit_code", unit_index, np.array([u.code for u in units], dtype=object)),
            ("procedure_code", proc_index, np.array([p.code for p in procedures], dtype=object)),
            ("channel", channel_index, np.array(CHANNELS, dtype=object)),
            ("event", event_index, np.array(EVENTS, dtype=object)),
            ("count", count, None),
        ],
    )


def _daily_closes(
    start: date, day_labels: np.ndarray, unit_codes: list[str],
    received: np.ndarray, resolved: np.ndarray, unit: np.ndarray, onboarded: np.ndarray,
) -> _DatedTable:
    unit_count = len(unit_codes)
    cells = len(day_labels) * unit_count
    in_horizon = resolved < len(day_labels)
    received_cells = np.bincount(received * unit_count + unit, minlength=cells).reshape(-1, unit_count)
    resolved_cells = np.bincount(
        resolved[in_horizon] * unit_count + unit[in_horizon], minlength=cells
    ).reshape(-1, unit_count)
    pending = np.cumsum(received_cells - resolved_cells, axis=0)
    day, unit_index = np.nonzero(onboarded)
    closed_at = np.array([label + CLOSE_TIME for label in day_labels], dtype=object)
    return _DatedTable(
        start,
        day,
        [
            ("date", day, day_labels),
            ("unit_code", unit_index, np.array(unit_codes, dtype=object)),
            ("received", received_cells[day, unit_index], None),
            ("resolved", resolved_cells[day, unit_index], None),
            ("pending_end_of_day", pending[day, unit_index], None),
            ("closed_at", day, closed_at),
        ],
    )
