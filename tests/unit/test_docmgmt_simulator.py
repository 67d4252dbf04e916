"""The simulated document-management system: the Q1/2019 report by construction, determinism, a plausible
calendar, and a database that the reader role can read but not change.

Calibration figures are recomputed from the public outputs: the dataset's frames and, over SQL as the reader,
the provisioned database.
"""

import os
import subprocess
import sys
from datetime import date

import pandas as pd
import psycopg
import pytest
from egov_demo.simulators.docmgmt import database as docmgmt_db
from egov_demo.simulators.docmgmt.generator import build_dataset
from egov_demo.simulators.onestop.units import load_units
from psycopg import errors

CALIBRATION_END = pd.Timestamp("2019-04-01T00:00:00+07:00")
Q1_2019 = (date(2019, 1, 1), date(2019, 3, 31))
TET_2019 = (date(2019, 2, 4), date(2019, 2, 8))
ACTIVE_USERS = 7_848
ELECTRONIC_Q1 = 28_474

ACTIVE_USERS_SQL = """
    select count(*) from qlvb.nguoi_dung
    where ngay_tao < timestamptz '2019-04-01T00:00:00+07:00'
      and (ngay_khoa is null or ngay_khoa >= timestamptz '2019-04-01T00:00:00+07:00')
"""
Q1_MEDIA_SQL = """
    select count(*) filter (where hinh_thuc = 'dien_tu'), count(*)
    from qlvb.van_ban_lien_thong
    where (thoi_diem_gui at time zone interval '+07:00')::date between date '2019-01-01' and date '2019-03-31'
"""
VERSION_SQL = "select hat_giong, ma_bam_noi_dung, thoi_diem_nap from qlvb.phien_ban_du_lieu"


@pytest.fixture(scope="module")
def docmgmt():
    return build_dataset()


@pytest.fixture(scope="module")
def provisioned(database, docmgmt):
    return docmgmt_db.provision(database.with_db("postgres"), docmgmt)


def local_dates(moments: pd.Series) -> pd.Series:
    return moments.dt.tz_convert("+07:00").dt.date


def in_q1(documents: pd.DataFrame) -> pd.Series:
    sent_on = local_dates(documents["sent_at"])
    return (sent_on >= Q1_2019[0]) & (sent_on <= Q1_2019[1])


def test_active_users_at_end_of_q1_2019_match_the_report(docmgmt):
    users = docmgmt.users
    active = (users["created_at"] < CALIBRATION_END) & (
        users["disabled_at"].isna() | (users["disabled_at"] >= CALIBRATION_END)
    )
    assert active.sum() == ACTIVE_USERS


def test_electronic_documents_in_q1_2019_match_the_report(docmgmt):
    documents = docmgmt.documents[in_q1(docmgmt.documents)]
    electronic = (documents["medium"] == "electronic").sum()
    assert electronic == ELECTRONIC_Q1
    assert 0.90 < electronic / len(documents) < 0.97


def test_electronic_share_rises_from_about_80_percent(docmgmt):
    documents = docmgmt.documents
    month = documents["sent_at"].dt.tz_convert("+07:00").dt.strftime("%Y-%m")
    monthly_share = (documents["medium"] == "electronic").groupby(month).mean()
    assert 0.75 < monthly_share["2018-01"] < 0.85
    assert (monthly_share[monthly_share.index >= "2019-01"] > 0.90).all()
    assert monthly_share["2020-12"] > monthly_share["2019-01"] > monthly_share["2018-01"]


def test_users_belong_to_the_units_in_plausible_numbers(docmgmt):
    users = docmgmt.users
    units = {unit.code: unit.level for unit in load_units()}
    assert set(users["agency_code"]) == set(units)
    assert users["user_id"].is_unique and users["username"].is_unique
    assert (users["disabled_at"].isna() | (users["disabled_at"] >= users["created_at"])).all()
    assert users["created_at"].dt.year.between(2017, 2020).all()
    active = users[(users["created_at"] < CALIBRATION_END) & (
        users["disabled_at"].isna() | (users["disabled_at"] >= CALIBRATION_END))]
    per_unit = active.groupby("agency_code").size()
    bounds = {"province": (40, 250), "district": (80, 200), "commune": (15, 40)}
    for code, count in per_unit.items():
        low, high = bounds[units[code]]
        assert low <= count <= high, code
    locks_per_month = users["disabled_at"].dropna().dt.strftime("%Y-%m").value_counts()
    assert locks_per_month.between(1, 30).all()


def test_documents_have_known_senders_types_and_media(docmgmt):
    documents = docmgmt.documents
    assert documents["document_id"].is_unique
    assert set(documents["sender_agency_code"]) <= {unit.code for unit in load_units()}
    assert set(documents["medium"]) == {"electronic", "paper"}
    assert set(documents["document_type"]) == {
        "công văn", "quyết định", "báo cáo", "kế hoạch", "tờ trình", "thông báo", "giấy mời"}
    sent_on = local_dates(documents["sent_at"])
    assert sent_on.min() >= date(2018, 1, 1) and sent_on.max() <= date(2020, 12, 31)


def test_weekends_and_tet_are_near_zero(docmgmt):
    sent_on = pd.to_datetime(local_dates(docmgmt.documents["sent_at"]))
    per_day = sent_on.value_counts().reindex(pd.date_range("2018-01-01", "2020-12-31"), fill_value=0)
    weekday_mean = per_day[per_day.index.day_of_week < 5].mean()
    weekend_mean = per_day[per_day.index.day_of_week >= 5].mean()
    tet_mean = per_day[str(TET_2019[0]):str(TET_2019[1])].mean()
    assert weekday_mean > 300
    assert weekend_mean < 0.05 * weekday_mean
    assert tet_mean < 0.02 * weekday_mean


def test_build_is_deterministic_and_depends_on_the_seed(docmgmt):
    again = build_dataset()
    pd.testing.assert_frame_equal(docmgmt.users, again.users)
    pd.testing.assert_frame_equal(docmgmt.documents, again.documents)
    assert docmgmt.content_hash() == again.content_hash()
    other = build_dataset(seed=7)
    assert other.content_hash() != docmgmt.content_hash()
    assert not other.users["full_name"].equals(docmgmt.users["full_name"])


def test_build_does_not_depend_on_hash_randomisation(docmgmt):
    script = "from egov_demo.simulators.docmgmt.generator import build_dataset; print(build_dataset().content_hash())"
    digests = {
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": hash_seed}).stdout.strip()
        for hash_seed in ("1", "2")
    }
    assert digests == {docmgmt.content_hash()}


def test_database_holds_the_calibrated_figures_for_the_reader(provisioned):
    with psycopg.connect(provisioned.reader_target().url()) as conn:
        assert conn.execute(ACTIVE_USERS_SQL).fetchone()[0] == ACTIVE_USERS
        electronic, total = conn.execute(Q1_MEDIA_SQL).fetchone()
    assert electronic == ELECTRONIC_Q1
    assert 0.90 < electronic / total < 0.97


def test_database_rows_match_the_dataset(provisioned, docmgmt):
    with psycopg.connect(provisioned.reader_target().url()) as conn:
        users, documents = conn.execute(
            "select (select count(*) from qlvb.nguoi_dung), (select count(*) from qlvb.van_ban_lien_thong)"
        ).fetchone()
        first = conn.execute(
            "select so_van_ban, don_vi_gui, thoi_diem_gui, hinh_thuc, loai_van_ban "
            "from qlvb.van_ban_lien_thong order by id_van_ban limit 1").fetchone()
    assert (users, documents) == (len(docmgmt.users), len(docmgmt.documents))
    expected = docmgmt.documents.iloc[0]
    assert first[0] == expected["document_number"] and first[1] == expected["sender_agency_code"]
    assert pd.Timestamp(first[2]) == expected["sent_at"]
    assert first[3] == {"electronic": "dien_tu", "paper": "giay"}[expected["medium"]]
    assert first[4] == expected["document_type"]


@pytest.mark.parametrize(
    "statement",
    [
        "insert into qlvb.nguoi_dung values (999999, '84.SNV', 'x', 'x', now(), null)",
        "update qlvb.van_ban_lien_thong set hinh_thuc = 'giay' where id_van_ban = 1",
        "delete from qlvb.nguoi_dung where id_nguoi_dung = 1",
        "truncate qlvb.van_ban_lien_thong",
        "create table qlvb.ghi_chu (id int)",
        "create table public.ghi_chu (id int)",
    ],
)
def test_reader_cannot_change_anything(provisioned, statement):
    with psycopg.connect(provisioned.reader_target().url()) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)


def test_reader_can_read_tables_added_later(provisioned):
    with psycopg.connect(provisioned.owner_target().url()) as owner:
        owner.execute("create table qlvb.bang_thu_quyen (id int)")
        try:
            owner.commit()
            with psycopg.connect(provisioned.reader_target().url()) as reader:
                assert reader.execute("select count(*) from qlvb.bang_thu_quyen").fetchone() == (0,)
        finally:
            owner.execute("drop table qlvb.bang_thu_quyen")


def test_provision_is_idempotent_and_reloads_for_another_seed(database, provisioned, docmgmt):
    admin = database.with_db("postgres")
    with psycopg.connect(provisioned.reader_target().url()) as conn:
        before = conn.execute(VERSION_SQL).fetchone()
    assert before[:2] == (docmgmt.seed, docmgmt.content_hash())

    assert docmgmt_db.provision(admin, docmgmt) == provisioned
    with psycopg.connect(provisioned.reader_target().url()) as conn:
        assert conn.execute(VERSION_SQL).fetchone() == before

    other = build_dataset(seed=7)
    try:
        docmgmt_db.provision(admin, other)
        with psycopg.connect(provisioned.reader_target().url()) as conn:
            seed, content_hash, loaded_at = conn.execute(VERSION_SQL).fetchone()
            users = conn.execute("select count(*) from qlvb.nguoi_dung").fetchone()[0]
        assert (seed, content_hash) == (7, other.content_hash())
        assert loaded_at > before[2]
        assert users == len(other.users)
    finally:
        docmgmt_db.provision(admin, docmgmt)
