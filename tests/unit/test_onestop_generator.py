"""The simulated one-stop data: the Q1/2019 report by construction, determinism and a plausible shape.

Every figure is recomputed here from the public outputs (dossier counts, daily closes, catalogue rows),
never from the generator's internals.
"""

import hashlib
import json
import os
import subprocess
import sys
from datetime import date, timedelta

import pandas as pd
import pytest
from egov_demo.simulators.onestop.catalog import procedure_versions
from egov_demo.simulators.onestop.generator import build_dataset

Q1_2019 = (date(2019, 1, 1), date(2019, 3, 31))
HORIZON = (date(2018, 1, 1), date(2020, 12, 31))


@pytest.fixture(scope="module")
def onestop():
    return build_dataset()


@pytest.fixture(scope="module")
def counts(onestop) -> pd.DataFrame:
    return pd.DataFrame(onestop.dossier_counts(*HORIZON))


def with_service_level(rows: pd.DataFrame) -> pd.DataFrame:
    """Each row with the service level of the procedure version in force on the row's date."""
    versions = pd.DataFrame(procedure_versions())[["code", "service_level", "valid_from", "valid_to"]]
    merged = rows.merge(versions, left_on="procedure_code", right_on="code")
    in_force = (merged["valid_from"] <= merged["date"]) & (
        merged["valid_to"].isna() | (merged["date"] < merged["valid_to"])
    )
    matched = merged[in_force]
    assert len(matched) == len(rows), "every dossier needs exactly one procedure version in force"
    return matched


def received_between(counts: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    dated = counts[(counts["date"] >= first.isoformat()) & (counts["date"] <= last.isoformat())]
    return dated[dated["event"] == "received"]


def daily_received(counts: pd.DataFrame) -> pd.Series:
    received = counts[counts["event"] == "received"].groupby("date")["count"].sum()
    received.index = pd.to_datetime(received.index)
    return received.reindex(pd.date_range(*HORIZON), fill_value=0)


def test_q1_2019_received_and_resolved_match_the_report(onestop):
    rows = pd.DataFrame(onestop.dossier_counts(*Q1_2019))
    assert rows.loc[rows["event"] == "received", "count"].sum() == 38_751
    assert rows.loc[rows["event"] != "received", "count"].sum() == 38_584


def test_q1_2019_level3_and_level4_dossiers_by_channel_match_the_report(counts):
    received = with_service_level(received_between(counts, *Q1_2019))
    online_levels = received[received["service_level"] >= 3]
    by_level_and_channel = online_levels.groupby(["service_level", "channel"])["count"].sum().to_dict()
    assert by_level_and_channel == {(3, "in_person"): 3_797, (3, "online"): 124, (4, "in_person"): 2_219,
                                    (4, "online"): 494}


def test_every_unit_receives_dossiers_in_q1_2019(onestop, counts):
    received = received_between(counts, *Q1_2019)
    assert set(received["unit_code"]) == {unit.code for unit in onestop.units}
    assert len(onestop.units) == 133


def test_catalogue_on_2019_03_31_matches_the_report():
    in_force = pd.DataFrame(procedure_versions(date(2019, 3, 31)))
    assert len(in_force) == 1_931
    assert in_force["code"].is_unique
    assert in_force["service_level"].value_counts().to_dict() == {2: 1_415, 3: 306, 4: 210}
    tiers = in_force["tier"].value_counts()
    assert 1_400 < tiers["province"] < 1_650 and 250 < tiers["district"] < 330 and 90 < tiers["commune"] < 130
    province = in_force[in_force["tier"] == "province"]
    assert province["agency_code"].notna().all() and province["agency_code"].nunique() == 18
    assert in_force.loc[in_force["tier"] != "province", "agency_code"].isna().all()


def test_catalogue_grows_through_2018_and_services_move_up_a_level_in_2019():
    versions = pd.DataFrame(procedure_versions())
    assert len(procedure_versions(date(2018, 1, 1))) < 1_931
    still_in_force = set(versions.loc[versions["valid_to"].isna(), "code"])
    abolished = versions["code"].nunique() - len(still_in_force)
    assert 0 < abolished < 0.1 * versions["code"].nunique()

    def level_on(day: date) -> pd.Series:
        return pd.DataFrame(procedure_versions(day)).set_index("code")["service_level"]

    march, december = level_on(date(2019, 3, 31)), level_on(date(2019, 12, 31))
    both = march.index.intersection(december.index)
    assert ((march[both] == 3) & (december[both] == 4)).sum() > 20
    assert ((march[both] == 2) & (december[both] == 3)).sum() > 20
    assert (march[both] > december[both]).sum() == 0


def test_channels_follow_service_levels(counts):
    received = with_service_level(counts[counts["event"] == "received"])
    assert set(received.loc[received["channel"] == "online", "service_level"]) == {3, 4}
    assert set(received.loc[received["channel"] == "postal", "service_level"]) == {2}


def test_same_seed_gives_the_same_data_and_another_seed_does_not(onestop, counts):
    again = build_dataset()
    assert pd.DataFrame(again.dossier_counts(*HORIZON)).equals(counts)
    assert again.daily_closes(*HORIZON) == onestop.daily_closes(*HORIZON)
    other = build_dataset(seed=7)
    assert other.dossier_counts(*Q1_2019) != onestop.dossier_counts(*Q1_2019)


DIGEST_OF_Q1_2019 = """
import hashlib, json
from datetime import date
from egov_demo.simulators.onestop.generator import build_dataset
rows = build_dataset().dossier_counts(date(2019, 1, 1), date(2019, 3, 31))
print(hashlib.sha256(json.dumps(rows).encode()).hexdigest())
"""


def test_data_does_not_depend_on_hash_randomisation(onestop):
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": os.pathsep.join(sys.path)}
    other_process = subprocess.run(
        [sys.executable, "-c", DIGEST_OF_Q1_2019], env=env, capture_output=True, text=True, check=True
    )
    here = hashlib.sha256(json.dumps(onestop.dossier_counts(*Q1_2019)).encode()).hexdigest()
    assert other_process.stdout.strip() == here


def test_daily_closes_equal_the_sums_of_dossier_counts(onestop):
    window = (date(2019, 3, 25), date(2019, 4, 7))
    rows = pd.DataFrame(onestop.dossier_counts(*window))
    rows["kind"] = rows["event"].where(rows["event"] == "received", "resolved")
    sums = rows.pivot_table(index=["date", "unit_code"], columns="kind", values="count", aggfunc="sum", fill_value=0)
    closes = pd.DataFrame(onestop.daily_closes(*window)).set_index(["date", "unit_code"])
    assert len(closes) == 14 * 133 and closes.index.is_unique
    joined = closes.join(sums.add_suffix("_from_counts")).fillna(0)
    assert (joined["received"] == joined["received_from_counts"]).all()
    assert (joined["resolved"] == joined["resolved_from_counts"]).all()
    assert joined["received"].sum() > 0 and joined["resolved"].sum() > 0
    assert (closes["closed_at"] == closes.index.get_level_values("date") + "T23:30:00+07:00").all()


def test_pending_stock_carries_over_from_day_to_day_and_never_goes_negative(onestop):
    closes = pd.DataFrame(onestop.daily_closes(date(2019, 1, 1), date(2019, 12, 31)))
    assert (closes["pending_end_of_day"] >= 0).all()
    by_unit = closes.sort_values(["unit_code", "date"]).groupby("unit_code")
    carried = by_unit["pending_end_of_day"].shift() + closes["received"] - closes["resolved"]
    assert (carried.dropna() == closes.loc[carried.dropna().index, "pending_end_of_day"]).all()
    last_day = pd.DataFrame(onestop.daily_closes(HORIZON[1], HORIZON[1]))
    assert last_day["pending_end_of_day"].sum() > 0


def test_weekends_and_holidays_are_near_zero(counts):
    daily = daily_received(counts)["2019"]
    tet = daily["2019-02-04":"2019-02-08"]
    weekdays = daily[(daily.index.day_of_week < 5) & ~daily.index.isin(tet.index)]
    typical = weekdays.mean()
    assert daily[daily.index.day_of_week == 6].mean() < 0.01 * typical
    assert daily[daily.index.day_of_week == 5].mean() < 0.15 * typical
    assert (tet < 0.02 * typical).all()
    assert daily[pd.to_datetime(["2019-01-01", "2019-04-15", "2019-04-30", "2019-05-01", "2019-09-02"])].max() < (
        0.02 * typical
    )


def test_quarters_vary_mildly_around_an_upward_trend(counts):
    received = daily_received(counts)
    quarterly = received.groupby(received.index.to_period("Q")).sum()
    assert quarterly.between(25_000, 60_000).all()
    yearly = received.groupby(received.index.year).sum()
    assert yearly[2018] < yearly[2019] < yearly[2020]
    assert (quarterly.pct_change().dropna().abs() < 0.3).all()


def test_communes_are_quieter_than_departments_and_districts_busiest(onestop, counts):
    received = received_between(counts, date(2019, 1, 1), date(2019, 12, 31))
    level = {unit.code: unit.level for unit in onestop.units}
    per_unit = received.groupby("unit_code")["count"].sum()
    mean_by_level = per_unit.groupby(per_unit.index.map(level)).mean()
    assert mean_by_level["commune"] < mean_by_level["province"] < mean_by_level["district"]


def test_a_horizon_outside_the_data_returns_nothing(onestop):
    before = (date(2017, 1, 1), date(2017, 12, 31))
    assert onestop.dossier_counts(*before) == [] and onestop.dossier_count_total(*before) == 0
    assert onestop.daily_closes(*before) == [] and onestop.daily_close_total(*before) == 0
    assert onestop.dossier_counts(HORIZON[1] + timedelta(days=1), date(2021, 6, 30)) == []
