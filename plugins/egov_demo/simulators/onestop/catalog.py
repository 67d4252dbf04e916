"""The catalogue of administrative procedures served by the one-stop system, with each one's level history.

Calibrated to the Q1/2019 report of the province's Department of Information and Communications: on
31 March 2019 the system listed 1,931 procedures, 306 of them offered online at service level 3 and 210 at
level 4. Around that date the catalogue changes as it did in practice: procedures are published during 2018,
a few are abolished, and after Q1/2019 services move up a level (2 -> 3, 3 -> 4) through new versions.

The words the procedures are made of (fields, actions and objects, which agency handles which field) are in
the package data file `data/onestop_catalogue_vocabulary.json`; this module holds the calibration and the logic.
"""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources

import numpy as np

from egov_demo.simulators.onestop.units import PROVINCE_AGENCIES, SYSTEM_LAUNCH_DATE

TIERS = ("province", "district", "commune")
REFERENCE_DATE = date(2019, 3, 31)
CATALOGUE_END = date(2020, 12, 31)
# The catalogue is one published fact, the same whichever seed the dossier generator uses.
CATALOGUE_SEED = 841_931


@dataclass(frozen=True)
class TierPlan:
    """How many procedures of one tier exist, and at which level, around the reference date."""

    in_force_on_reference: int
    level3_on_reference: int
    level4_on_reference: int
    abolished_before_reference: int
    published_after_reference: int
    # Service levels 2, 3 and 4 of procedures first published after the reference date.
    new_procedure_level_shares: tuple[float, float, float]
    deadline_working_days: tuple[int, ...]


# The tier figures are ours; only their sums (1,931 / 306 / 210) come from the report.
TIER_PLANS = {
    "province": TierPlan(1530, 246, 183, 34, 72, (0.6, 0.3, 0.1), (3, 5, 7, 10, 15, 20, 30)),
    "district": TierPlan(290, 48, 27, 8, 16, (0.7, 0.25, 0.05), (1, 3, 5, 7, 10, 15, 20, 30)),
    "commune": TierPlan(111, 12, 0, 5, 6, (0.85, 0.15, 0.0), (1, 2, 3, 5, 7)),
}
LATE_PUBLICATION_SHARE = 0.12
LATER_ABOLITION_SHARE = 0.04
EARLIER_LOWER_LEVEL_SHARE = 0.25
# (level before, level after, share of the procedures at the lower level on the reference date, window).
UPGRADES_AFTER_REFERENCE = (
    (3, 4, 0.35, date(2019, 4, 1), date(2019, 12, 31)),
    (3, 4, 0.15, date(2020, 1, 1), date(2020, 12, 31)),
    (2, 3, 0.06, date(2019, 4, 1), date(2019, 12, 31)),
    (2, 3, 0.08, date(2020, 1, 1), date(2020, 12, 31)),
)

VOCABULARY_RESOURCE = "onestop_catalogue_vocabulary.json"


def _vocabulary() -> dict:
    resource = resources.files("egov_demo").joinpath("data", VOCABULARY_RESOURCE)
    with resource.open(encoding="utf-8") as handle:
        return json.load(handle)


_VOCABULARY = _vocabulary()
_SHARED_ACTIONS = {name: tuple(actions) for name, actions in _VOCABULARY["shared_actions"].items()}
LICENCE_ACTIONS = _SHARED_ACTIONS["licence"]
REVIEW_ACTIONS = _SHARED_ACTIONS["review"]
ENTITY_ACTIONS = _SHARED_ACTIONS["entity"]

# Procedure names are "<action> <object>" from these lists; the catalogue needs no more than the
# product of the two for one handler and field.
FIELD_WORDING: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    field: (
        _SHARED_ACTIONS[wording["shared_actions"]] if "shared_actions" in wording else tuple(wording["actions"]),
        tuple(wording["objects"]),
    )
    for field, wording in _VOCABULARY["fields"].items()
}

# Relative number of procedures of each provincial agency (driving-licence, business and health agencies publish
# the most) and the fields they handle.
AGENCY_CATALOGUES: dict[str, tuple[int, tuple[str, ...]]] = {
    code: (agency["weight"], tuple(agency["fields"])) for code, agency in _VOCABULARY["province_agencies"].items()
}
LOCAL_TIER_FIELDS: dict[str, tuple[str, ...]] = {
    tier: tuple(fields) for tier, fields in _VOCABULARY["local_tier_fields"].items()
}
# Services the province put online first: business registration, criminal records, licences with many
# applicants. Complaint handling stays in person.
FIELD_ONLINE_PROPENSITY: dict[str, float] = dict(_VOCABULARY["online_propensity"])


@dataclass(frozen=True)
class ProcedureVersion:
    service_level: int
    valid_from: date
    valid_to: date | None  # exclusive; None while the version is still in force

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    field: str
    tier: str
    agency_code: str | None  # the handling agency for province-tier procedures; every unit of the tier otherwise
    deadline_working_days: int
    versions: tuple[ProcedureVersion, ...]

    def version_on(self, day: date) -> ProcedureVersion | None:
        return next((version for version in self.versions if version.in_force_on(day)), None)

    def version_rows(self) -> list[dict]:
        return [
            {
                "code": self.code,
                "name": self.name,
                "field": self.field,
                "tier": self.tier,
                "agency_code": self.agency_code,
                "service_level": version.service_level,
                "valid_from": version.valid_from.isoformat(),
                "valid_to": version.valid_to.isoformat() if version.valid_to else None,
                "deadline_working_days": self.deadline_working_days,
            }
            for version in self.versions
        ]


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split `total` in proportion to `weights` (largest remainder), so the parts add up exactly."""
    exact = total * weights / weights.sum()
    parts = np.floor(exact).astype(int)
    shortfall = total - parts.sum()
    parts[np.argsort(parts - exact, kind="stable")[:shortfall]] += 1
    return parts


def _random_days(rng: np.random.Generator, first: date, last: date, size: int) -> np.ndarray:
    """Uniform ordinals of days in [first, last]."""
    return rng.integers(first.toordinal(), last.toordinal() + 1, size=size)


def _handler_blocks(tier: str, total: int) -> list[tuple[str | None, int]]:
    """(agency code or None, number of procedures) for each handler of the tier."""
    if tier != "province":
        return [(None, total)]
    agencies = [code for code, _ in PROVINCE_AGENCIES]
    sizes = _allocate(total, np.array([AGENCY_CATALOGUES[code][0] for code in agencies], dtype=float))
    return list(zip(agencies, sizes.tolist(), strict=True))


def _named_fields(rng: np.random.Generator, fields: tuple[str, ...], size: int) -> list[tuple[str, str]]:
    """(field, name) for `size` procedures of one handler, with names unique within the handler."""
    capacities = np.array([len(FIELD_WORDING[f][0]) * len(FIELD_WORDING[f][1]) for f in fields], dtype=float)
    named: list[tuple[str, str]] = []
    for field, count in zip(fields, _allocate(size, capacities).tolist(), strict=True):
        actions, objects = FIELD_WORDING[field]
        if count > len(actions) * len(objects):
            raise ValueError(f"field {field!r} has too few name combinations for {count} procedures")
        names = [f"{action} {obj}" for action in actions for obj in objects]
        named.extend((field, names[i]) for i in rng.permutation(len(names))[:count])
    return [named[i] for i in rng.permutation(len(named))]


def _versions(
    valid_from: int, valid_to: int | None, first_level: int, changes: list[tuple[int, int]]
) -> tuple[ProcedureVersion, ...]:
    """Cut the life [valid_from, valid_to) of a procedure at each (day ordinal, new level) change."""
    ordered = sorted(changes)
    starts = [valid_from, *(day for day, _ in ordered)]
    levels = [first_level, *(level for _, level in ordered)]
    ends = [*starts[1:], valid_to]
    return tuple(
        ProcedureVersion(level, date.fromordinal(start), date.fromordinal(end) if end else None)
        for level, start, end in zip(levels, starts, ends, strict=True)
    )


def _tier_procedures(rng: np.random.Generator, tier: str, codes: list[str]) -> list[Procedure]:
    plan = TIER_PLANS[tier]
    handlers: list[str | None] = []
    named: list[tuple[str, str]] = []
    anchors: list[int] = []
    for agency_code, size in _handler_blocks(tier, len(codes)):
        fields = AGENCY_CATALOGUES[agency_code][1] if agency_code else LOCAL_TIER_FIELDS[tier]
        # Each handler keeps one level-2 procedure in force throughout, so every unit always has work.
        anchors.append(len(handlers))
        handlers.extend([agency_code] * size)
        named.extend(_named_fields(rng, fields, size))
    count = len(codes)
    propensity = np.array([FIELD_ONLINE_PROPENSITY.get(field, 1.0) for field, _ in named])

    movable = np.setdiff1d(np.arange(count), anchors)
    shuffled = rng.permutation(movable)
    abolished_early = shuffled[: plan.abolished_before_reference]
    published_late = shuffled[
        plan.abolished_before_reference : plan.abolished_before_reference + plan.published_after_reference
    ]
    in_force = np.setdiff1d(np.arange(count), np.concatenate([abolished_early, published_late]))

    def pick(candidates: np.ndarray, size: int) -> np.ndarray:
        weights = propensity[candidates]
        return rng.choice(candidates, size=size, replace=False, p=weights / weights.sum())

    level = np.full(count, 2)
    online_candidates = np.setdiff1d(in_force, anchors)
    level4 = pick(online_candidates, plan.level4_on_reference)
    level[level4] = 4
    level3 = pick(np.setdiff1d(online_candidates, level4), plan.level3_on_reference)
    level[level3] = 3
    first_level = level.copy()

    launch, reference = SYSTEM_LAUNCH_DATE.toordinal(), REFERENCE_DATE.toordinal()
    valid_from = np.full(count, launch)
    valid_to = np.zeros(count, dtype=int)  # 0: never abolished
    first_level[published_late] = rng.choice([2, 3, 4], size=len(published_late), p=plan.new_procedure_level_shares)
    valid_from[published_late] = _random_days(
        rng, REFERENCE_DATE + timedelta(days=1), CATALOGUE_END - timedelta(days=30), len(published_late)
    )
    valid_to[abolished_early] = _random_days(rng, date(2018, 3, 1), REFERENCE_DATE, len(abolished_early))

    movable_in_force = np.setdiff1d(in_force, anchors)
    late = rng.choice(movable_in_force, size=round(LATE_PUBLICATION_SHARE * len(in_force)), replace=False)
    valid_from[late] = _random_days(rng, SYSTEM_LAUNCH_DATE + timedelta(days=1), REFERENCE_DATE, len(late))
    ending = rng.choice(movable_in_force, size=round(LATER_ABOLITION_SHARE * len(in_force)), replace=False)
    valid_to[ending] = _random_days(rng, REFERENCE_DATE + timedelta(days=1), CATALOGUE_END, len(ending))

    changes: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    # Some services reached their reference-date level during 2018 or Q1/2019, one level lower before.
    for upgraded_level in (3, 4):
        at_level = np.intersect1d(in_force, np.flatnonzero(level == upgraded_level))
        earlier = rng.choice(at_level, size=round(EARLIER_LOWER_LEVEL_SHARE * len(at_level)), replace=False)
        for index in earlier[valid_from[earlier] < reference].tolist():
            changes[index].append((int(rng.integers(valid_from[index] + 1, reference + 1)), upgraded_level))
            first_level[index] = upgraded_level - 1
    for lower, upper, share, window_start, window_end in UPGRADES_AFTER_REFERENCE:
        at_lower = np.intersect1d(movable_in_force, np.flatnonzero(level == lower)).tolist()
        # A service moves up once after the reference date: skip those an earlier window already upgraded.
        candidates = np.array([i for i in at_lower if all(lvl < upper for _, lvl in changes[i])], dtype=int)
        chosen = rng.choice(candidates, size=round(share * len(candidates)), replace=False)
        days = _random_days(rng, window_start, window_end, len(chosen))
        for index, day in zip(chosen.tolist(), days.tolist(), strict=True):
            if valid_to[index] == 0 or day < valid_to[index]:
                changes[index].append((day, upper))

    return [
        Procedure(
            code=codes[i],
            name=named[i][1],
            field=named[i][0],
            tier=tier,
            agency_code=handlers[i],
            deadline_working_days=int(rng.choice(plan.deadline_working_days)),
            versions=_versions(int(valid_from[i]), int(valid_to[i]) or None, int(first_level[i]), changes[i]),
        )
        for i in range(count)
    ]


@cache
def load_catalogue() -> tuple[Procedure, ...]:
    """Every procedure the system ever listed (2018-2020), sorted by code."""
    rng = np.random.default_rng(CATALOGUE_SEED)
    sizes = [
        plan.in_force_on_reference + plan.abolished_before_reference + plan.published_after_reference
        for plan in (TIER_PLANS[tier] for tier in TIERS)
    ]
    numbers = rng.choice(np.arange(100, 3100), size=sum(sizes), replace=False).tolist()
    codes = [f"1.{number:06d}" for number in numbers]
    procedures: list[Procedure] = []
    for tier, offset, size in zip(TIERS, np.cumsum([0, *sizes[:-1]]).tolist(), sizes, strict=True):
        procedures.extend(_tier_procedures(rng, tier, codes[offset : offset + size]))
    return tuple(sorted(procedures, key=lambda procedure: procedure.code))


def procedure_versions(as_of: date | None = None) -> list[dict]:
    """One row per procedure version; with `as_of`, only the versions in force that day (from <= day < to)."""
    return [
        row
        for procedure in load_catalogue()
        for version, row in zip(procedure.versions, procedure.version_rows(), strict=True)
        if as_of is None or version.in_force_on(as_of)
    ]
