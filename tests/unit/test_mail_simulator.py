"""The simulated mail-system file drop: the Q1/2019 report by construction, consistent daily files, Excel's
CSV conventions, atomic and idempotent delivery, and fault helpers that do what they say.

Every figure is read back from the delivered files with pandas or the csv module, never from the generator.
"""

import csv
import fnmatch
import os
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from egov_demo.simulators.mail import dropbox
from egov_demo.simulators.mail.generator import build_dataset
from egov_demo.simulators.onestop.units import load_units
from egov_demo.simulators.workdays import is_working_day

HORIZON = (date(2018, 1, 1), date(2019, 12, 31))
Q1_2019 = (date(2019, 1, 1), date(2019, 3, 31))
HEADERS = ["Ngày", "Mã đơn vị", "Tên đơn vị", "Số tài khoản tạo mới", "Số tài khoản đóng", "Tổng số tài khoản"]
COUNTS = ["Số tài khoản tạo mới", "Số tài khoản đóng", "Tổng số tài khoản"]
CONTROL = "Tổng cộng"
FAULT_DAYS = (date(2019, 3, 14), date(2019, 3, 15))


@pytest.fixture(scope="module")
def mail():
    return build_dataset()


@pytest.fixture(scope="module")
def delivered(mail, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hopthu")
    dropbox.write_range(mail, folder, *HORIZON)
    return folder


@pytest.fixture
def fault_folder(mail, tmp_path) -> Path:
    dropbox.write_range(mail, tmp_path, *FAULT_DAYS)
    return tmp_path


def file_of(folder: Path, day: date, suffix: str = "") -> Path:
    return folder / f"hopthu_{day:%Y%m%d}{suffix}.csv"


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Unit rows with numeric counts, and the control row."""
    control = frame["Mã đơn vị"] == ""
    assert control.sum() == 1 and control.iloc[-1], "exactly one control row, at the bottom"
    units = frame[~control].copy()
    units[COUNTS] = units[COUNTS].astype(np.int64)
    return units, frame[control].iloc[0]


@pytest.fixture(scope="module")
def unit_rows(delivered) -> pd.DataFrame:
    frames = [split(read(path))[0] for path in sorted(delivered.glob("hopthu_*.csv"))]
    rows = pd.concat(frames, ignore_index=True)
    rows["day"] = pd.to_datetime(rows["Ngày"], format="%d/%m/%Y").dt.date
    return rows


def test_one_file_per_day_and_one_row_per_unit(delivered, unit_rows):
    files = sorted(path.name for path in delivered.iterdir())
    days = [HORIZON[0] + timedelta(days=n) for n in range((HORIZON[1] - HORIZON[0]).days + 1)]
    assert files == [f"hopthu_{day:%Y%m%d}.csv" for day in days]
    codes = [unit.code for unit in load_units()]
    assert unit_rows.groupby("day")["Mã đơn vị"].apply(list).map(lambda day_codes: day_codes == codes).all()


def test_q1_2019_matches_the_report(delivered, unit_rows):
    in_q1 = (unit_rows["day"] >= Q1_2019[0]) & (unit_rows["day"] <= Q1_2019[1])
    assert unit_rows.loc[in_q1, "Số tài khoản tạo mới"].sum() == 27
    assert unit_rows.loc[in_q1, "Số tài khoản đóng"].sum() == 0
    _, quarter_end = split(read(file_of(delivered, Q1_2019[1])))
    _, year_end = split(read(file_of(delivered, date(2018, 12, 31))))
    assert int(quarter_end["Tổng số tài khoản"]) == 6_339
    assert int(year_end["Tổng số tài khoản"]) == 6_312


def test_totals_chain_from_day_to_day_and_never_go_negative(unit_rows):
    wide = unit_rows.pivot(index="day", columns="Mã đơn vị", values=COUNTS).sort_index()
    total, created, closed = (wide[column].to_numpy() for column in ("Tổng số tài khoản", "Số tài khoản tạo mới",
                                                                      "Số tài khoản đóng"))
    assert (total[1:] == total[:-1] + created[1:] - closed[1:]).all()
    assert (total >= 0).all()


def test_control_row_is_the_column_sums(delivered):
    for path in sorted(delivered.glob("hopthu_*.csv")):
        units, control = split(read(path))
        assert control["Tên đơn vị"] == CONTROL
        assert [int(control[column]) for column in COUNTS] == units[COUNTS].sum().tolist(), path.name


def test_files_are_excel_utf8_csv_with_vietnamese_headers(delivered):
    raw = file_of(delivered, Q1_2019[1]).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw[3:].decode("utf-8").split("\r\n")
    assert next(csv.reader(lines[:1])) == HEADERS
    assert list(dropbox.HEADERS) == HEADERS
    assert lines[1].startswith("31/03/2019,") and lines[-1] == ""


def test_flows_look_like_an_administrators_work(unit_rows):
    days = unit_rows["day"].to_numpy().astype("datetime64[D]")
    created, closed = unit_rows["Số tài khoản tạo mới"].to_numpy(), unit_rows["Số tài khoản đóng"].to_numpy()
    working = is_working_day(days)
    assert created[working].sum() >= 0.95 * created.sum()
    assert closed[~working].sum() == 0
    year = unit_rows["day"].map(lambda day: day.year)
    created_per_year = unit_rows.groupby(year)["Số tài khoản tạo mới"].sum()
    closed_per_year = unit_rows.groupby(year)["Số tài khoản đóng"].sum()
    assert created_per_year.between(100, 600).all()
    assert (closed_per_year > 0).all() and (closed_per_year < created_per_year).all()


def test_same_seed_same_files_other_seed_other_files(mail, delivered, tmp_path):
    day = date(2019, 9, 16)
    assert dropbox.write_day(build_dataset(), tmp_path, day).read_bytes() == file_of(delivered, day).read_bytes()
    other = dropbox.write_day(build_dataset(seed=7), tmp_path / "other", day)
    assert other.read_bytes() != file_of(delivered, day).read_bytes()


def test_write_range_is_idempotent_and_repairs_a_changed_file(mail, fault_folder):
    stamps = {path: path.stat().st_mtime_ns for path in fault_folder.iterdir()}
    assert dropbox.write_range(mail, fault_folder, *FAULT_DAYS) == []
    assert {path: path.stat().st_mtime_ns for path in fault_folder.iterdir()} == stamps

    original = file_of(fault_folder, FAULT_DAYS[0]).read_bytes()
    dropbox.corrupt_row(fault_folder, FAULT_DAYS[0])
    assert dropbox.write_range(mail, fault_folder, *FAULT_DAYS) == [file_of(fault_folder, FAULT_DAYS[0])]
    assert file_of(fault_folder, FAULT_DAYS[0]).read_bytes() == original


def test_a_reader_never_sees_a_partial_file(mail, tmp_path, monkeypatch):
    renames = []

    def interrupted(source, target):
        renames.append((Path(source), Path(target)))
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(OSError, match="disk full"):
        dropbox.write_day(mail, tmp_path, Q1_2019[1])
    (temporary, target), = renames
    assert temporary.parent == tmp_path and not fnmatch.fnmatch(temporary.name, "hopthu_*.csv")
    assert target == file_of(tmp_path, Q1_2019[1])
    assert list(tmp_path.iterdir()) == []


def test_deliver_twice_adds_a_byte_identical_copy(fault_folder):
    duplicate = dropbox.deliver_twice(fault_folder, FAULT_DAYS[0])
    assert duplicate == file_of(fault_folder, FAULT_DAYS[0], " (1)")
    assert duplicate.read_bytes() == file_of(fault_folder, FAULT_DAYS[0]).read_bytes()
    assert len(list(fault_folder.glob(f"hopthu_{FAULT_DAYS[0]:%Y%m%d}*.csv"))) == 2


def test_revise_day_raises_one_unit_and_breaks_the_next_days_chain(mail, fault_folder):
    day, next_day = FAULT_DAYS
    code = "84.STTTT"
    revised_path = dropbox.revise_day(mail, fault_folder, day, code, 3)
    assert revised_path == file_of(fault_folder, day, "_v2")
    original, _ = split(read(file_of(fault_folder, day)))
    revised, control = split(read(revised_path))
    following, _ = split(read(file_of(fault_folder, next_day)))
    original, revised, following = (rows.set_index("Mã đơn vị") for rows in (original, revised, following))

    difference = revised[COUNTS] - original[COUNTS]
    assert difference.loc[code].tolist() == [3, 0, 3]
    assert (difference.drop(index=code) == 0).all().all()
    assert [int(control[column]) for column in COUNTS] == revised[COUNTS].sum().tolist()
    chained = revised["Tổng số tài khoản"] + following["Số tài khoản tạo mới"] - following["Số tài khoản đóng"]
    gap = chained - following["Tổng số tài khoản"]
    assert gap.loc[code] == 3 and (gap.drop(index=code) == 0).all()


def test_corrupt_row_puts_a_word_in_one_count(fault_folder):
    path = dropbox.corrupt_row(fault_folder, FAULT_DAYS[0])
    frame = read(path)
    numeric = frame[COUNTS].apply(pd.to_numeric, errors="coerce")
    assert numeric.isna().sum().sum() == 1
    assert frame.loc[numeric["Số tài khoản tạo mới"].isna(), "Số tài khoản tạo mới"].tolist() == ["hai"]


def test_rename_column_changes_only_the_header(fault_folder):
    before = read(file_of(fault_folder, FAULT_DAYS[0]))
    after = read(dropbox.rename_column(fault_folder, FAULT_DAYS[0], "Số tài khoản đóng", "Số tài khoản khóa"))
    assert list(after.columns) == [*HEADERS[:4], "Số tài khoản khóa", HEADERS[5]]
    assert (after.to_numpy() == before.to_numpy()).all()


def test_remove_day_leaves_a_gap(fault_folder):
    dropbox.remove_day(fault_folder, FAULT_DAYS[0])
    assert sorted(path.name for path in fault_folder.iterdir()) == [file_of(fault_folder, FAULT_DAYS[1]).name]
