"""Deterministic accounts and inter-agency documents of the document-management system.

Users are the accounts of the 133 units' staff, created from the 2017 roll-out on; documents are those the
units send each other from 2018 to 2020, electronically or on paper. Q1/2019 is pinned by construction to the
province's Q1/2019 report: 7,848 active accounts at the end of the quarter and 28,474 documents sent
electronically during it. Timestamps are local (+07:00) and fall between 07:00 and 22:00, so a timestamp's
local date is also its UTC date and no boundary depends on the reader's time zone.
"""

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta, timezone

import numpy as np
import pandas as pd

from egov.core.periods import month_end, month_starts
from egov_demo.simulators.onestop.units import Unit, load_units
from egov_demo.simulators.people import draw, person_names
from egov_demo.simulators.workdays import day_range, is_holiday, is_working_day, weekday

DEFAULT_SEED = 2019
LOCAL_TIME = timezone(timedelta(hours=7))
HORIZON = (date(2018, 1, 1), date(2020, 12, 31))
ACCOUNTS_FROM = date(2017, 1, 1)

# Q1/2019 report: accounts in use at the end of the quarter and documents exchanged electronically during it.
CALIBRATED_QUARTER = (date(2019, 1, 1), date(2019, 3, 31))
CALIBRATED_ACTIVE_USERS = 7_848
CALIBRATED_ELECTRONIC_DOCUMENTS = 28_474

# Active accounts per unit at the calibration date; the bounds come from the units' staff sizes.
ACCOUNTS_PER_UNIT_BOUNDS = {"province": (40, 250), "district": (80, 200), "commune": (15, 40)}
ACCOUNTS_PER_UNIT_TYPICAL = {"province": 190, "district": 170, "commune": 28}
ACCOUNTS_PER_UNIT_SIGMA = 0.35
# Staff leave and join all the time: a few accounts are locked, and a few opened for newcomers, every month.
MONTHLY_DISABLED = 9
MONTHLY_CREATED_AFTER_CALIBRATION = 14
# Most accounts were opened during the 2017 roll-out; the weights are per year, spread evenly over its months.
ROLLOUT_YEAR_WEIGHT = {2017: 0.70, 2018: 0.25, 2019: 0.05}

MEDIA = ("electronic", "paper")
ELECTRONIC, PAPER = range(2)
DOCUMENT_TYPES = ("công văn", "quyết định", "báo cáo", "kế hoạch", "tờ trình", "thông báo", "giấy mời")
DOCUMENT_TYPE_SHARE = np.array([0.46, 0.07, 0.12, 0.07, 0.05, 0.11, 0.12])
# Number symbols (Decree 30/2020 style): official letters carry only the issuer's abbreviation.
DOCUMENT_TYPE_SYMBOL = {
    "công văn": "", "quyết định": "QĐ", "báo cáo": "BC", "kế hoạch": "KH", "tờ trình": "TTr",
    "thông báo": "TB", "giấy mời": "GM",
}
# Senders' share of the traffic; communes lag behind in going paperless, so they send most of the paper.
TIER_SENDER_SHARE = {
    ELECTRONIC: {"province": 0.52, "district": 0.30, "commune": 0.18},
    PAPER: {"province": 0.25, "district": 0.25, "commune": 0.50},
}
SENDER_SIGMA = 0.6

# Monday..Sunday: a weekend document is someone finishing urgent work from home.
WEEKDAY_FACTOR = np.array([1.1, 1.05, 1.0, 1.0, 0.95, 0.02, 0.004])
HOLIDAY_FACTOR = 0.004
# Year-end reports and plans make December the busiest month, the weeks around Tết the quietest.
MONTH_FACTOR = np.array([1.0, 0.85, 1.0, 0.98, 1.0, 1.02, 1.0, 0.98, 1.0, 1.03, 1.05, 1.15])
ANNUAL_GROWTH = 0.06
DAILY_NOISE_SIGMA = 0.08
# Electronic share: about 80% when the horizon opens, above 90% from 2019 on, tending to 97%.
ELECTRONIC_SHARE_LIMIT, ELECTRONIC_SHARE_GAP, ELECTRONIC_SHARE_YEARS = 0.97, 0.17, 0.7
# Seconds after local midnight: mornings 07:30-11:30 and afternoons 13:30-17:00, a few evenings until 22:00.
SENDING_WINDOWS = ((27_000, 41_400, 0.55), (48_600, 61_200, 0.42), (61_200, 79_200, 0.03))
ACCOUNT_WINDOW = (27_000, 61_200)



@dataclass(frozen=True)
class DocMgmtDataset:
    """The system's accounts and documents; timestamps are tz-aware in local time (+07:00)."""

    seed: int
    units: tuple[Unit, ...]
    users: pd.DataFrame  # user_id, agency_code, username, full_name, created_at, disabled_at
    documents: pd.DataFrame  # document_id, document_number, sender_agency_code, sent_at, medium, document_type

    def content_hash(self) -> str:
        """A digest of every row, so a copy loaded elsewhere can be recognised without comparing the rows."""
        digest = hashlib.sha256()
        for frame in (self.users, self.documents):
            digest.update(",".join(frame.columns).encode())
            digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        return digest.hexdigest()






def _local_timestamps(days: np.ndarray, seconds: np.ndarray) -> pd.Series:
    moments = days.astype("datetime64[s]") + seconds.astype("timedelta64[s]") - np.timedelta64(7, "h")
    return pd.Series(pd.to_datetime(moments).tz_localize("UTC").tz_convert(LOCAL_TIME))


def _working_moments(rng: np.random.Generator, first: date, last: date, size: int) -> pd.Series:
    """`size` sorted office-hours moments on working days between `first` and `last`."""
    days = day_range(first, last)
    days = days[is_working_day(days)]
    picked = np.sort(days[rng.integers(0, len(days), size)])
    return _local_timestamps(picked, rng.integers(*ACCOUNT_WINDOW, size))


# --- users -------------------------------------------------------------------------------------------------


def _active_accounts_per_unit(rng: np.random.Generator, units: tuple[Unit, ...]) -> np.ndarray:
    """Accounts in use per unit at the calibration date: within each tier's bounds, summing to the report's."""
    low = np.array([ACCOUNTS_PER_UNIT_BOUNDS[u.level][0] for u in units])
    high = np.array([ACCOUNTS_PER_UNIT_BOUNDS[u.level][1] for u in units])
    typical = np.array([ACCOUNTS_PER_UNIT_TYPICAL[u.level] for u in units])
    counts = np.clip(np.rint(typical * rng.lognormal(0.0, ACCOUNTS_PER_UNIT_SIGMA, len(units))), low, high)
    counts = counts.astype(np.int64)
    # Hand out (or take back) the difference one account at a time among units that still have room.
    while (gap := CALIBRATED_ACTIVE_USERS - counts.sum()) != 0:
        room = (counts < high) if gap > 0 else (counts > low)
        if not room.any():
            raise ValueError("the calibrated number of accounts does not fit the per-unit bounds")
        chosen = rng.choice(np.flatnonzero(room), size=min(abs(gap), room.sum()), replace=False)
        counts[chosen] += np.sign(gap)
    return counts


def _rollout_creations(rng: np.random.Generator, size: int, before: date) -> pd.Series:
    """Creation moments of accounts opened before `before`, weighted by the roll-out year."""
    months = month_starts(ACCOUNTS_FROM, before - timedelta(days=1))
    weights = np.array([ROLLOUT_YEAR_WEIGHT[m.year] / sum(x.year == m.year for x in months) for m in months])
    month_index = np.sort(draw(rng, weights, size))
    parts = [
        _working_moments(rng, months[i], month_end(months[i]), int(n))
        for i, n in enumerate(np.bincount(month_index, minlength=len(months)))
        if n
    ]
    return pd.concat(parts, ignore_index=True)


def _build_accounts(rng: np.random.Generator, units: tuple[Unit, ...]) -> pd.DataFrame:
    """Accounts with their unit, creation and lock moments; the calibration holds by construction."""
    calibration_day = CALIBRATED_QUARTER[1] + timedelta(days=1)
    unit_codes = np.array([u.code for u in units], dtype=object)
    active = _active_accounts_per_unit(rng, units)
    unit_weight = active / active.sum()

    # Accounts in use at the calibration date; some are locked later.
    frames = [pd.DataFrame({
        "agency_code": np.repeat(unit_codes, active),
        "created_at": _rollout_creations(rng, int(active.sum()), calibration_day).sample(
            frac=1.0, random_state=rng).to_numpy(),
    })]
    # Accounts already locked at the calibration date: opened during the roll-out, locked a few each month.
    for month in month_starts(date(2017, 3, 1), CALIBRATED_QUARTER[1]):
        locked = int(rng.poisson(MONTHLY_DISABLED))
        disabled_at = _working_moments(rng, month, month_end(month), locked)
        created_at = _rollout_creations(rng, locked, month)
        frames.append(pd.DataFrame({
            "agency_code": unit_codes[draw(rng, unit_weight, locked)],
            "created_at": created_at.to_numpy(),
            "disabled_at": disabled_at.to_numpy(),
        }))
    # Newcomers after the calibration date.
    joined = int(rng.poisson(MONTHLY_CREATED_AFTER_CALIBRATION * len(month_starts(calibration_day, HORIZON[1]))))
    frames.append(pd.DataFrame({
        "agency_code": unit_codes[draw(rng, unit_weight, joined)],
        "created_at": _working_moments(rng, calibration_day, HORIZON[1], joined).to_numpy(),
    }))
    accounts = pd.concat(frames, ignore_index=True)
    accounts["disabled_at"] = accounts["disabled_at"].astype(accounts["created_at"].dtype)

    # Locks after the calibration date fall on accounts open at least a month before the lock.
    for month in month_starts(calibration_day, HORIZON[1]):
        disabled_at = _working_moments(rng, month, month_end(month), int(rng.poisson(MONTHLY_DISABLED)))
        eligible = np.flatnonzero(
            accounts["disabled_at"].isna().to_numpy()
            & (accounts["created_at"] < pd.Timestamp(month - timedelta(days=31), tz=LOCAL_TIME)).to_numpy()
        )
        chosen = rng.choice(eligible, size=len(disabled_at), replace=False)
        accounts.loc[chosen, "disabled_at"] = disabled_at.to_numpy()
    return accounts.sort_values(["created_at", "agency_code"], kind="stable", ignore_index=True)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()


def _usernames(names: list[tuple[str, str, str]], agency_codes: np.ndarray) -> list[str]:
    """The usual scheme: given name, initials of the other names, unit; a number when the name is taken."""
    taken: dict[str, int] = {}
    usernames = []
    for (family, middle, given), agency in zip(names, agency_codes.tolist(), strict=True):
        initials = "".join(part[0] for part in _ascii(f"{family} {middle}").split())
        base = f"{_ascii(given)}{initials}.{_ascii(agency.removeprefix('84.'))}"
        taken[base] = taken.get(base, 0) + 1
        usernames.append(base if taken[base] == 1 else f"{base}{taken[base]}")
    return usernames


def _build_users(rng: np.random.Generator, units: tuple[Unit, ...]) -> pd.DataFrame:
    accounts = _build_accounts(rng, units)
    names = person_names(rng, len(accounts))
    return pd.DataFrame({
        "user_id": np.arange(1, len(accounts) + 1, dtype=np.int64),
        "agency_code": accounts["agency_code"].astype(object),
        "username": _usernames(names, accounts["agency_code"].to_numpy()),
        "full_name": [" ".join(parts) for parts in names],
        "created_at": accounts["created_at"],
        "disabled_at": accounts["disabled_at"],
    })


# --- documents ---------------------------------------------------------------------------------------------


def _electronic_share(days: np.ndarray) -> np.ndarray:
    """Expected share of documents sent electronically on each day."""
    years = (days - np.datetime64(HORIZON[0], "D")).astype(np.int64) / 365.25
    return ELECTRONIC_SHARE_LIMIT - ELECTRONIC_SHARE_GAP * np.exp(-years / ELECTRONIC_SHARE_YEARS)


def _intensity(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """Relative number of documents sent per day."""
    daily = np.where(is_holiday(days), HOLIDAY_FACTOR, WEEKDAY_FACTOR[weekday(days)])
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    years = (days - np.datetime64(HORIZON[0], "D")).astype(np.int64) / 365.25
    noise = rng.lognormal(0.0, DAILY_NOISE_SIGMA, len(days))
    return daily * MONTH_FACTOR[month] * np.exp(ANNUAL_GROWTH * years) * noise


def _daily_counts(rng: np.random.Generator, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Electronic and paper documents per day, the calibrated quarter's electronic total exact."""
    intensity = _intensity(rng, days)
    share = _electronic_share(days)
    quarter = (days >= np.datetime64(CALIBRATED_QUARTER[0], "D")) & (days <= np.datetime64(CALIBRATED_QUARTER[1], "D"))
    electronic_mass = intensity * share
    documents_per_mass = CALIBRATED_ELECTRONIC_DOCUMENTS / electronic_mass[quarter].sum()
    electronic = rng.poisson(documents_per_mass * electronic_mass)
    electronic[quarter] = rng.multinomial(CALIBRATED_ELECTRONIC_DOCUMENTS, electronic_mass[quarter] /
                                          electronic_mass[quarter].sum())
    paper = rng.poisson(documents_per_mass * intensity * (1 - share))
    return electronic, paper


def _sender_weights(rng: np.random.Generator, units: tuple[Unit, ...]) -> dict[int, np.ndarray]:
    """Each unit's share of the electronic and of the paper traffic; a busy unit is busy in both."""
    activity = rng.lognormal(0.0, SENDER_SIGMA, len(units))
    levels = np.array([u.level for u in units])
    weights = {}
    for medium, tier_share in TIER_SENDER_SHARE.items():
        tier_total = {level: activity[levels == level].sum() for level in tier_share}
        weights[medium] = np.array([activity[i] / tier_total[u.level] * tier_share[u.level]
                                    for i, u in enumerate(units)])
    return weights


def _seconds_of_day(rng: np.random.Generator, size: int) -> np.ndarray:
    window = draw(rng, np.array([share for _, _, share in SENDING_WINDOWS]), size)
    starts = np.array([start for start, _, _ in SENDING_WINDOWS])[window]
    ends = np.array([end for _, end, _ in SENDING_WINDOWS])[window]
    return starts + np.floor(rng.random(size) * (ends - starts)).astype(np.int64)


def _issuer_symbol(unit: Unit) -> str:
    return unit.code.removeprefix("84.") if unit.level == "province" else "UBND"


def _build_documents(rng: np.random.Generator, units: tuple[Unit, ...]) -> pd.DataFrame:
    days = day_range(*HORIZON)
    electronic, paper = _daily_counts(rng, days)
    medium = np.concatenate([np.full(electronic.sum(), ELECTRONIC), np.full(paper.sum(), PAPER)])
    day = np.concatenate([np.repeat(days, electronic), np.repeat(days, paper)])
    senders = _sender_weights(rng, units)
    sender = np.empty(len(medium), dtype=np.int64)
    for code, weights in senders.items():
        sender[medium == code] = draw(rng, weights, int((medium == code).sum()))
    doc_type = draw(rng, DOCUMENT_TYPE_SHARE, len(medium))
    seconds = _seconds_of_day(rng, len(medium))

    order = np.lexsort((sender, seconds, day))
    documents = pd.DataFrame({
        "sender": sender[order], "doc_type": doc_type[order], "year": day[order].astype("datetime64[Y]"),
        "sent_at": _local_timestamps(day[order], seconds[order]), "medium": medium[order],
    })
    # Each issuer numbers each kind of document from 1 every year.
    number = documents.groupby(["sender", "doc_type", "year"], sort=False).cumcount().to_numpy() + 1
    type_symbol = np.array([DOCUMENT_TYPE_SYMBOL[t] for t in DOCUMENT_TYPES], dtype=object)[documents["doc_type"]]
    issuer = np.array([_issuer_symbol(u) for u in units], dtype=object)[documents["sender"]]
    symbol = np.where(type_symbol == "", issuer, type_symbol + "-" + issuer)
    return pd.DataFrame({
        "document_id": np.arange(1, len(documents) + 1, dtype=np.int64),
        "document_number": number.astype(str).astype(object) + "/" + symbol,
        "sender_agency_code": np.array([u.code for u in units], dtype=object)[documents["sender"]],
        "sent_at": documents["sent_at"],
        "medium": np.array(MEDIA, dtype=object)[documents["medium"]],
        "document_type": np.array(DOCUMENT_TYPES, dtype=object)[documents["doc_type"]],
    })


def build_dataset(seed: int = DEFAULT_SEED) -> DocMgmtDataset:
    """The system's accounts and documents over 2018-2020 (accounts from their 2017 roll-out on)."""
    units = load_units()
    user_rng, document_rng = (np.random.Generator(np.random.PCG64(stream)) for stream in
                              np.random.SeedSequence(seed).spawn(2))
    return DocMgmtDataset(seed, units, _build_users(user_rng, units), _build_documents(document_rng, units))
