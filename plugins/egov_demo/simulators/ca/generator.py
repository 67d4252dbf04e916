"""Deterministic certificates issued by the digital-signature CA to the province's 133 units and their officials.

Every holder is simulated as a chain of certificates: the first issued when the holder joins, each next one
issued as a renewal in the last month of the previous one's validity (or, now and then, a little after it
lapsed), until the holder leaves. Organisation certificates belong to a unit's offices (the unit's seal for
document signing, tax and social-insurance filings), person certificates to its officials.

Q1/2019 is pinned by construction to the province's Q1/2019 report: 479 certificates active at the end of
31 March 2019, 453 held by organisations and 26 by persons. Exactly that many holders are in office at that
instant, and two rules make each of them hold exactly one active certificate then: a renewal never leaves a gap
across the instant, and a replaced certificate whose overlap with its successor spans the instant is revoked
when the successor is issued. Holders who left before it end with a revocation or with certificates that
expired before it.

Timestamps are local (+07:00) with whole seconds, issued in office hours on working days. The holiday calendar
(egov_demo.simulators.workdays) starts in 2018, so 2016-2017 only have weekends off.
"""

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import cache

import numpy as np

from egov.core.periods import month_starts
from egov_demo.simulators.api import TransportFaults
from egov_demo.simulators.onestop.units import Unit, load_units
from egov_demo.simulators.people import person_names
from egov_demo.simulators.workdays import working_days

DEFAULT_SEED = 2019
LOCAL_TIME = timezone(timedelta(hours=7))
HORIZON = (date(2016, 1, 1), date(2019, 12, 31))
HORIZON_END = datetime.combine(HORIZON[1] + timedelta(days=1), time(), LOCAL_TIME)

# Q1/2019 report, section 2.2: certificates active at the end of the quarter, by holder type.
CALIBRATION_DAY = date(2019, 3, 31)
CALIBRATION_END = datetime.combine(CALIBRATION_DAY + timedelta(days=1), time(), LOCAL_TIME)
CALIBRATED_ACTIVE = {"organisation": 453, "person": 26}
HOLDER_TYPES = tuple(CALIBRATED_ACTIVE)

VALIDITY_YEARS = (1, 2, 3)
RENEWAL_WINDOW_DAYS = 30  # renewals are requested in the last month of validity
LATE_RENEWAL_DAYS = 45  # a holder who let the certificate lapse renews within six weeks
MIN_TENURE_DAYS = 60  # a holder who leaves held a certificate at least this long
UNIT_SIGMA = 0.4
# Most revocations are entered in the register the moment they happen; the others a few working days later.
LATE_REVOCATION_ENTRY_SHARE = 0.2
LATE_REVOCATION_ENTRY_MAX_WORKING_DAYS = 5
# Seconds after local midnight: mornings 07:30-11:30 and afternoons 13:30-17:00.
OFFICE_WINDOWS = ((27_000, 41_400, 0.6), (48_600, 61_200, 0.4))


@dataclass(frozen=True)
class HolderProfile:
    """How the holders of one type come, renew and go.

    growth: relative daily rate of new holders, interpolated between the anchor dates.
    tier_weight: holders per unit beyond `per_unit_minimum`, by the unit's level, before unit-level noise.
    validity_share: shares of certificates valid 1, 2 and 3 years.
    late_renewal_share: share of renewals that come after the certificate lapsed.
    replaced_revoked_share: share of certificates revoked when their successor is issued before they expire.
    annual_churn: share of holders leaving per year; `revoked_share_of_ends` of them have their
        certificate revoked (staff leaving, an office merged), the others just stop renewing.
    """

    growth: tuple[tuple[date, float], ...]
    tier_weight: dict[str, float]
    per_unit_minimum: int
    validity_share: tuple[float, float, float]
    late_renewal_share: float
    replaced_revoked_share: float
    annual_churn: float
    revoked_share_of_ends: float


# Organisations adopted signing from 2016 on and sped up in 2018-2019 with electronic document exchange; every
# unit holds at least its seal certificate, agencies and districts one per office. Personal certificates for
# leaders came later, mostly at provincial agencies and districts.
PROFILES = {
    "organisation": HolderProfile(
        growth=((date(2016, 1, 1), 1.0), (date(2017, 1, 1), 1.2), (date(2018, 1, 1), 1.9),
                (date(2019, 1, 1), 2.6), (date(2020, 1, 1), 2.8)),
        tier_weight={"province": 6.0, "district": 7.0, "commune": 1.4},
        per_unit_minimum=1,
        validity_share=(0.25, 0.35, 0.40),
        late_renewal_share=0.15,
        replaced_revoked_share=0.3,
        annual_churn=0.04,
        revoked_share_of_ends=0.5,
    ),
    "person": HolderProfile(
        growth=((date(2016, 1, 1), 0.05), (date(2017, 1, 1), 0.3), (date(2018, 1, 1), 1.0),
                (date(2019, 1, 1), 2.0), (date(2020, 1, 1), 2.4)),
        tier_weight={"province": 1.0, "district": 0.8, "commune": 0.05},
        per_unit_minimum=0,
        validity_share=(0.4, 0.4, 0.2),
        late_renewal_share=0.1,
        replaced_revoked_share=0.3,
        annual_churn=0.10,
        revoked_share_of_ends=0.9,
    ),
}


@dataclass(frozen=True)
class Certificate:
    """One certificate as the CA's register holds it now; `revocation_entered_at` is when the revocation was
    entered, the same as or a few days after `revoked_at`."""

    serial: str
    holder_type: str
    holder_name: str
    agency_code: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revocation_entered_at: datetime | None

    def is_active(self, moment: datetime) -> bool:
        return self.issued_at <= moment < self.expires_at and (self.revoked_at is None or self.revoked_at > moment)


@dataclass(frozen=True)
class CertificateVersion:
    """A change the feed serves: the certificate's state after the change, stamped with when it was entered."""

    certificate: Certificate
    revoked_at: datetime | None
    updated_at: datetime

    @property
    def key(self) -> tuple[datetime, str]:
        return self.updated_at, self.certificate.serial

    def record(self) -> dict:
        cert = self.certificate
        return {
            "serial": cert.serial,
            "holder_type": cert.holder_type,
            "holder_name": cert.holder_name,
            "agency_code": cert.agency_code,
            "issued_at": cert.issued_at.isoformat(),
            "expires_at": cert.expires_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class CaDataset:
    """The CA's certificates for the province, sorted by issue time and serial."""

    seed: int
    units: tuple[Unit, ...]
    certificates: tuple[Certificate, ...]

    def versions(self) -> list[CertificateVersion]:
        """Every change in the order the feed serves them, (updated_at, serial): one version per issuance and
        one per revocation."""
        versions = [CertificateVersion(cert, None, cert.issued_at) for cert in self.certificates]
        versions += [
            CertificateVersion(cert, cert.revoked_at, cert.revocation_entered_at)
            for cert in self.certificates
            if cert.revoked_at is not None
        ]
        return sorted(versions, key=lambda version: version.key)

    def certificate(self, serial: str) -> Certificate:
        try:
            return next(cert for cert in self.certificates if cert.serial == serial)
        except StopIteration:
            raise KeyError(f"no certificate with serial {serial}") from None

    def active_counts(self, moment: datetime) -> dict[str, int]:
        """Certificates active at `moment`, by holder type."""
        return {
            holder_type: sum(cert.is_active(moment) and cert.holder_type == holder_type for cert in self.certificates)
            for holder_type in HOLDER_TYPES
        }


@dataclass
class Faults(TransportFaults):
    """Source misbehaviour the API can be told to show, for tests of the pipeline's defences.

    late_entry_on: certificates issued on these dates were entered in the register 3 days late: their issuance
        version is served with updated_at = issued_at + 3 days (issued_at unchanged), so a feed read for the
        issue day misses them.
    backdated_revocations: serial -> revoked_at. The certificate is revoked with this earlier date, entered
        10 days after it: one extra version with that revoked_at and updated_at = revoked_at + 10 days, which
        lands in a window the pipeline may already have read.
    malformed_on: on these dates the feed carries one extra garbled version (holder_type "unknown", issued_at
        "not a date", a serial that is no hex), stamped at noon.
    Plus the transport faults of :class:`TransportFaults`; the app documents how `repeat_page` applies to cursors.
    """

    late_entry_on: set[date] = field(default_factory=set)
    backdated_revocations: dict[str, datetime] = field(default_factory=dict)
    malformed_on: set[date] = field(default_factory=set)


# --- calendar ----------------------------------------------------------------------------------------------


@cache
def _workdays() -> np.ndarray:
    """Working days of the horizon and of the tail where late renewals and late entries can fall."""
    return working_days(HORIZON[0], HORIZON[1] + timedelta(days=LATE_RENEWAL_DAYS + RENEWAL_WINDOW_DAYS))


def _workdays_between(first: date, last: date) -> np.ndarray:
    days = _workdays()
    low, high = np.searchsorted(days, [np.datetime64(first, "D"), np.datetime64(last, "D") + 1])
    return days[low:high]


def _office_moment(rng: np.random.Generator, day: np.datetime64) -> datetime:
    window = OFFICE_WINDOWS[0] if rng.random() < OFFICE_WINDOWS[0][2] else OFFICE_WINDOWS[1]
    seconds = int(rng.integers(window[0], window[1]))
    return datetime.combine(day.astype(date), time(), LOCAL_TIME) + timedelta(seconds=seconds)


def _growth(profile: HolderProfile, days: np.ndarray) -> np.ndarray:
    anchors = np.array([np.datetime64(day, "D") for day, _ in profile.growth]).astype(np.int64)
    return np.interp(days.astype(np.int64), anchors, [rate for _, rate in profile.growth])


def _growth_mass(profile: HolderProfile, first: date, last: date) -> float:
    return float(_growth(profile, _workdays_between(first, last)).sum())


def _moment_between(rng: np.random.Generator, first: date, last: date, joining: HolderProfile | None = None,
                    ) -> datetime:
    """An office-hours moment on a working day from `first` to `last`; with `joining`, when a new holder of that
    profile gets a first certificate, more likely as adoption grows."""
    days = _workdays_between(first, last)
    weights = None if joining is None else _growth(joining, days)
    return _office_moment(rng, days[rng.choice(len(days), p=None if weights is None else weights / weights.sum())])


def _add_years(moment: datetime, years: int) -> datetime:
    """The same clock time `years` later; a certificate issued on 29 February expires on 28 February."""
    day = moment.date()
    day = day.replace(day=28) if (day.month, day.day) == (2, 29) else day
    return datetime.combine(day.replace(year=day.year + years), moment.timetz())


# --- holders and their certificate chains -------------------------------------------------------------------


@dataclass(frozen=True)
class _Holder:
    """One organisation office or official: in office from `start`, leaving at `end` (None: beyond the horizon)."""

    holder_type: str
    unit: Unit
    start: datetime
    end: datetime | None
    end_revokes: bool


def _holders_per_unit(rng: np.random.Generator, profile: HolderProfile, units: tuple[Unit, ...], total: int,
                      ) -> np.ndarray:
    """Holders per unit at the calibration instant: each unit's minimum plus the rest by tier and unit noise."""
    tier_weight = np.array([profile.tier_weight[unit.level] for unit in units])
    weight = tier_weight * rng.lognormal(0.0, UNIT_SIGMA, len(units))
    beyond_minimum = total - profile.per_unit_minimum * len(units)
    return profile.per_unit_minimum + rng.multinomial(beyond_minimum, weight / weight.sum())


def _holders(rng: np.random.Generator, holder_type: str, units: tuple[Unit, ...]) -> list[_Holder]:
    """Holders in office at the calibration instant (exactly the report's count), those who left before it and
    those who joined after it; the latter two in proportion to the adoption curve."""
    profile = PROFILES[holder_type]
    calibrated = CALIBRATED_ACTIVE[holder_type]
    in_office = _holders_per_unit(rng, profile, units, calibrated)
    unit_share = (in_office + 0.5) / (in_office + 0.5).sum()
    calibration_mass = _growth_mass(profile, HORIZON[0], CALIBRATION_DAY)
    after_calibration = (CALIBRATION_DAY + timedelta(days=1), HORIZON[1])

    def holder(unit: Unit, start: datetime, end: datetime | None) -> _Holder:
        return _Holder(holder_type, unit, start, end, bool(rng.random() < profile.revoked_share_of_ends))

    holders = []
    leaving_after = 1 - np.exp(-profile.annual_churn * ((HORIZON[1] - CALIBRATION_DAY).days / 365.25))
    for unit_index in np.repeat(np.arange(len(units)), in_office).tolist():
        start = _moment_between(rng, HORIZON[0], CALIBRATION_DAY, profile)
        end = _moment_between(rng, *after_calibration) if rng.random() < leaving_after else None
        holders.append(holder(units[unit_index], start, end))
    # Leavers before the calibration instant, a steady share of the holders in office at the time.
    for month in month_starts(HORIZON[0] + timedelta(days=MIN_TENURE_DAYS), CALIBRATION_DAY):
        in_office_then = calibrated * _growth_mass(profile, HORIZON[0], month) / calibration_mass
        for _ in range(rng.poisson(profile.annual_churn / 12 * in_office_then)):
            end = _moment_between(rng, month, (month + timedelta(days=32)).replace(day=1) - timedelta(days=1))
            start = _moment_between(rng, HORIZON[0], end.date() - timedelta(days=MIN_TENURE_DAYS), profile)
            holders.append(holder(units[rng.choice(len(units), p=unit_share)], start, end))
    joining = rng.poisson(calibrated * _growth_mass(profile, *after_calibration) / calibration_mass)
    for _ in range(joining):
        start = _moment_between(rng, *after_calibration, profile)
        holders.append(holder(units[rng.choice(len(units), p=unit_share)], start, None))
    return holders


def _renewal(rng: np.random.Generator, profile: HolderProfile, expires: datetime) -> datetime:
    """When the successor of a certificate expiring at `expires` is issued.

    Usually in the last month of validity, more likely near its end; now and then up to six weeks after the
    lapse, unless that gap would cover the calibration instant.
    """
    expiry_day = expires.date()
    if rng.random() < profile.late_renewal_share:
        late = _moment_between(rng, expiry_day + timedelta(days=1), expiry_day + timedelta(days=LATE_RENEWAL_DAYS))
        if not expires < CALIBRATION_END <= late:
            return late
    days = _workdays_between(expiry_day - timedelta(days=RENEWAL_WINDOW_DAYS), expiry_day - timedelta(days=1))
    return _office_moment(rng, days[int(len(days) * rng.random() ** 0.5)])


def _revocation_entry(rng: np.random.Generator, revoked_at: datetime) -> datetime:
    if rng.random() >= LATE_REVOCATION_ENTRY_SHARE:
        return revoked_at
    later = _workdays_between(revoked_at.date() + timedelta(days=1), HORIZON[1] + timedelta(days=RENEWAL_WINDOW_DAYS))
    return _office_moment(rng, later[rng.integers(LATE_REVOCATION_ENTRY_MAX_WORKING_DAYS)])


def _chain(rng: np.random.Generator, holder: _Holder) -> list[tuple[datetime, datetime, datetime | None]]:
    """(issued_at, expires_at, revoked_at) of the holder's certificates: renewed until the holder leaves or the
    horizon ends."""
    profile = PROFILES[holder.holder_type]
    stop = holder.end or HORIZON_END
    issued, chain = holder.start, []
    while issued < stop:
        expires = _add_years(issued, VALIDITY_YEARS[rng.choice(len(VALIDITY_YEARS), p=profile.validity_share)])
        chain.append([issued, expires, None])
        if expires - timedelta(days=RENEWAL_WINDOW_DAYS) >= stop:
            break  # no renewal can come before the stop
        issued = _renewal(rng, profile, expires)
    for previous, successor in itertools.pairwise(chain):
        replaced_before_expiry = successor[0] < previous[1]
        overlap_spans_calibration = successor[0] < CALIBRATION_END <= previous[1]
        if replaced_before_expiry and (overlap_spans_calibration or rng.random() < profile.replaced_revoked_share):
            previous[2] = successor[0]
    if holder.end is not None:
        # A holder who stopped renewing before the calibration instant must not still hold a valid certificate.
        lapsed_across_calibration = holder.end < CALIBRATION_END <= max(expires for _, expires, _ in chain)
        if holder.end_revokes or lapsed_across_calibration:
            for cert in chain:
                if cert[2] is None and cert[0] < holder.end < cert[1]:
                    cert[2] = holder.end
    return [(issued, expires, revoked) for issued, expires, revoked in chain]


def _serials(rng: np.random.Generator, size: int) -> list[str]:
    """Distinct random 64-bit serials as 16 uppercase hex digits."""
    serials: dict[str, None] = {}
    while len(serials) < size:
        serials.setdefault(rng.bytes(8).hex().upper())
    return list(serials)


def build_dataset(seed: int = DEFAULT_SEED) -> CaDataset:
    """Every certificate issued to the province's units and officials from 2016 to 2019; the same seed gives the
    same data."""
    rng = np.random.default_rng(seed)
    units = load_units()
    holders = [holder for holder_type in HOLDER_TYPES for holder in _holders(rng, holder_type, units)]
    names = iter(" ".join(parts) for parts in person_names(rng, sum(h.holder_type == "person" for h in holders)))
    issued = []
    for holder in holders:
        name = holder.unit.name if holder.holder_type == "organisation" else next(names)
        for issued_at, expires_at, revoked_at in _chain(rng, holder):
            entered_at = None if revoked_at is None else _revocation_entry(rng, revoked_at)
            issued.append((issued_at, holder.unit.code, holder.holder_type, name, expires_at, revoked_at, entered_at))
    issued.sort(key=lambda row: row[:4])
    certificates = tuple(
        Certificate(serial, holder_type, name, agency_code, issued_at, expires_at, revoked_at, entered_at)
        for serial, (issued_at, agency_code, holder_type, name, expires_at, revoked_at, entered_at)
        in zip(_serials(rng, len(issued)), issued, strict=True)
    )
    dataset = CaDataset(seed, units, certificates)
    active = dataset.active_counts(CALIBRATION_END - timedelta(microseconds=1))
    if active != CALIBRATED_ACTIVE:
        raise RuntimeError(f"certificates active at the end of {CALIBRATION_DAY}: {active}, not {CALIBRATED_ACTIVE}")
    return dataset
