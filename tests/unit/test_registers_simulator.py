"""The simulated register workbooks: the Q1/2019 report by construction, the layout of a government spreadsheet,
numbers that restart every January, atomic and idempotent delivery, and fault helpers that do what they say.

Every figure is read back from the delivered workbooks with openpyxl, locating the header row as a reader
must, never from the generator.
"""

import fnmatch
import itertools
import os
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from egov_demo.simulators.onestop.units import load_units
from egov_demo.simulators.registers import workbook
from egov_demo.simulators.registers.generator import build_dataset
from openpyxl import load_workbook

MONTHS = [(year, month) for year in (2018, 2019) for month in range(1, 13)]
Q1_2019 = [(2019, 1), (2019, 2), (2019, 3)]
SHEETS = ["Giấy phép xuất bản", "GCN điểm trò chơi", "Thanh tra kiểm tra", "Đơn thư phản ánh", "Mạng truyền số liệu"]
LICENCES, CERTIFICATES, INSPECTIONS, COMPLAINTS, NETWORK = SHEETS
HEADERS = {
    LICENCES: ["STT", "Số giấy phép", "Ngày cấp", "Tổ chức đề nghị cấp phép", "Tên tài liệu", "Số lượng in (bản)"],
    CERTIFICATES: ["STT", "Số giấy chứng nhận", "Ngày cấp", "Tên điểm cung cấp dịch vụ", "Chủ điểm cung cấp dịch vụ",
                   "Huyện, thị xã, thành phố"],
    INSPECTIONS: ["STT", "Số quyết định", "Ngày kiểm tra", "Nội dung thanh tra, kiểm tra",
                  "Số tổ chức, cá nhân được kiểm tra", "Số tổ chức, cá nhân có thiếu sót, vi phạm", "Hình thức xử lý"],
    COMPLAINTS: ["STT", "Số đơn", "Ngày tiếp nhận", "Người gửi", "Nội dung phản ánh, kiến nghị", "Kết quả xử lý"],
    NETWORK: ["STT", "Mã cơ quan", "Tên cơ quan", "Ngày kết nối", "Ngày ngừng kết nối"],
}
ENTRY_DATE = {LICENCES: "Ngày cấp", CERTIFICATES: "Ngày cấp", INSPECTIONS: "Ngày kiểm tra",
              COMPLAINTS: "Ngày tiếp nhận"}
KEY = {LICENCES: "Số giấy phép", CERTIFICATES: "Số giấy chứng nhận", INSPECTIONS: "Số quyết định",
       COMPLAINTS: "Số đơn", NETWORK: "Mã cơ quan"}
INSPECTED, WITH_VIOLATIONS = "Số tổ chức, cá nhân được kiểm tra", "Số tổ chức, cá nhân có thiếu sót, vi phạm"
FAULT_MONTHS = (date(2019, 2, 1), date(2019, 3, 1))


@pytest.fixture(scope="module")
def registers():
    return build_dataset()


@pytest.fixture(scope="module")
def delivered(registers, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sotttt")
    workbook.write_range(registers, folder, date(2018, 1, 1), date(2019, 12, 1))
    return folder


@pytest.fixture
def fault_folder(registers, tmp_path) -> Path:
    workbook.write_range(registers, tmp_path, *FAULT_MONTHS)
    return tmp_path


def path_of(folder: Path, year: int, month: int) -> Path:
    return folder / f"SoTTTT_BaoCao_{year:04d}_{month:02d}.xlsx"


def header_row(rows: list[tuple]) -> int:
    return next(index for index, row in enumerate(rows) if row and row[0] == "STT")


def read_sheet(path: Path, sheet: str) -> pd.DataFrame:
    """A sheet's entries under its header row, as a reader finds them."""
    rows = list(load_workbook(path)[sheet].iter_rows(values_only=True))
    header = header_row(rows)
    return pd.DataFrame([row for row in rows[header + 1:] if any(v is not None for v in row)],
                        columns=list(rows[header]), dtype=object)


@pytest.fixture(scope="module")
def sheets(delivered) -> dict[tuple[int, int], dict[str, pd.DataFrame]]:
    return {month: {sheet: read_sheet(path_of(delivered, *month), sheet) for sheet in SHEETS} for month in MONTHS}


def flows(sheets, sheet: str, months=MONTHS) -> pd.DataFrame:
    return pd.concat([sheets[month][sheet] for month in months], ignore_index=True)


def test_q1_2019_matches_the_report(sheets):
    assert len(flows(sheets, LICENCES, Q1_2019)) == 49
    assert len(flows(sheets, CERTIFICATES, Q1_2019)) == 10
    inspections = flows(sheets, INSPECTIONS, Q1_2019)
    assert inspections[[INSPECTED, WITH_VIOLATIONS]].values.tolist() == [[16, 10]]
    assert len(flows(sheets, COMPLAINTS, Q1_2019)) == 1
    network = sheets[(2019, 3)][NETWORK]
    open_at_quarter_end = (network["Ngày kết nối"] <= datetime(2019, 3, 31)) & network["Ngày ngừng kết nối"].isna()
    assert open_at_quarter_end.sum() == 27


def test_one_workbook_a_month_with_the_registers_sheets_and_headers(delivered):
    assert sorted(path.name for path in delivered.iterdir()) == [path_of(delivered, *m).name for m in MONTHS]
    assert {sheet: list(headers) for sheet, headers in workbook.HEADERS.items()} == HEADERS
    for month in MONTHS:
        book = load_workbook(path_of(delivered, *month))
        assert book.sheetnames == SHEETS
        for sheet in SHEETS:
            rows = list(book[sheet].iter_rows(values_only=True))
            header = header_row(rows)
            assert list(rows[header]) == HEADERS[sheet]
            assert 2 <= header - 1 <= 3 and all(value is None for value in rows[header - 1])
            titles = [row[0] for row in rows[:header - 1]]
            assert titles[0] == "SỞ THÔNG TIN VÀ TRUYỀN THÔNG TỈNH TRÀ VINH"
            assert any(f"Tháng {month[1]:02d} năm {month[0]}" in title for title in titles)


def test_cells_are_typed_numbered_and_not_totalled(delivered, sheets):
    book = load_workbook(path_of(delivered, 2019, 3))
    for sheet in SHEETS:
        entries = sheets[(2019, 3)][sheet]
        assert entries["STT"].tolist() == list(range(1, len(entries) + 1)), "no totals row after the entries"
        rows = list(book[sheet].iter_rows())
        for cells in rows[header_row([tuple(c.value for c in row) for row in rows]) + 1:]:
            for cell in cells[1:]:
                assert cell.value is None or isinstance(cell.value, datetime | int | str)
                if isinstance(cell.value, datetime):
                    assert cell.number_format.lower() == "dd/mm/yyyy"
    licences = flows(sheets, LICENCES)
    assert licences["Số lượng in (bản)"].map(type).eq(int).all()
    assert licences["Ngày cấp"].map(type).eq(datetime).all()
    names = pd.concat([licences["Tổ chức đề nghị cấp phép"], flows(sheets, CERTIFICATES)["Chủ điểm cung cấp dịch vụ"]])
    assert names.map(lambda text: not text.isascii()).mean() > 0.9, "Vietnamese text keeps its diacritics"


def test_flow_sheets_list_their_month_and_the_network_sheet_the_register_so_far(sheets):
    for (year, month), month_sheets in sheets.items():
        for sheet, column in ENTRY_DATE.items():
            months = {(day.year, day.month) for day in month_sheets[sheet][column]}
            assert months <= {(year, month)}, (year, month, sheet)
        month_end = datetime(year, month, 1) + pd.offsets.MonthEnd(0)
        network = month_sheets[NETWORK]
        assert (network["Ngày kết nối"] <= month_end).all()
        assert all(day <= month_end for day in network["Ngày ngừng kết nối"].dropna())
    for earlier, later in itertools.pairwise(MONTHS):
        codes_then = set(sheets[earlier][NETWORK]["Mã cơ quan"])
        assert codes_then <= set(sheets[later][NETWORK]["Mã cơ quan"]), "an agency never leaves the register"


def test_entry_numbers_restart_every_january_and_are_unique_within_their_year(sheets):
    for sheet, dated_by in ENTRY_DATE.items():
        entries = flows(sheets, sheet)
        year = entries[dated_by].map(lambda day: day.year)
        assert entries[KEY[sheet]].notna().all(), sheet
        assert not entries.assign(year=year).duplicated([KEY[sheet], "year"]).any(), sheet
    licences = flows(sheets, LICENCES)
    assert licences["Số giấy phép"].str.fullmatch(r"\d+/GP-STTTT").all()
    # The first licence of each year is number 1 again, so the number alone repeats across the years.
    firsts = licences.groupby(licences["Ngày cấp"].map(lambda day: day.year))["Số giấy phép"].first()
    assert firsts.to_dict() == {2018: "1/GP-STTTT", 2019: "1/GP-STTTT"}
    for month in MONTHS:
        assert sheets[month][NETWORK]["Mã cơ quan"].is_unique
    unit_names = {unit.code: unit.name for unit in load_units()}
    network = sheets[(2019, 12)][NETWORK]
    agencies = network[network["Mã cơ quan"].isin(unit_names)]
    assert len(agencies) >= 20
    assert agencies.apply(lambda row: unit_names[row["Mã cơ quan"]].lower() in row["Tên cơ quan"].lower(),
                          axis=1).all()


def test_other_periods_look_like_a_departments_year(sheets):
    licences = flows(sheets, LICENCES)
    per_year = licences["Ngày cấp"].map(lambda day: day.year).value_counts()
    assert per_year.between(120, 300).all() and len(per_year) == 2
    assert all(len(sheets[month][LICENCES]) > 0 for month in MONTHS)
    assert flows(sheets, CERTIFICATES)["Ngày cấp"].map(lambda day: day.year).value_counts().between(15, 80).all()
    inspections = flows(sheets, INSPECTIONS)
    assert 3 <= len(inspections) <= 20
    assert (inspections[WITH_VIOLATIONS] <= inspections[INSPECTED]).all()
    entry_dates = pd.concat([flows(sheets, sheet)[column] for sheet, column in ENTRY_DATE.items()])
    assert entry_dates.map(lambda day: day.weekday() < 5).all(), "registers are kept on working days"
    network_end = sheets[(2019, 12)][NETWORK]
    assert network_end["Ngày ngừng kết nối"].notna().sum() >= 1
    assert len(network_end) > len(sheets[(2019, 3)][NETWORK]) > len(sheets[(2018, 1)][NETWORK])


def test_same_seed_same_workbook_other_seed_other_workbook(delivered, tmp_path):
    again = workbook.write_month(build_dataset(), tmp_path, 2019, 3)
    other = workbook.write_month(build_dataset(seed=7), tmp_path / "other", 2019, 3)
    original = {sheet: read_sheet(path_of(delivered, 2019, 3), sheet) for sheet in SHEETS}
    assert all(read_sheet(again, sheet).equals(frame) for sheet, frame in original.items())
    assert not read_sheet(other, LICENCES).equals(original[LICENCES])


def test_write_range_is_idempotent_and_repairs_a_changed_workbook(registers, fault_folder):
    stamps = {path: path.stat().st_mtime_ns for path in fault_folder.iterdir()}
    assert workbook.write_range(registers, fault_folder, *FAULT_MONTHS) == []
    assert {path: path.stat().st_mtime_ns for path in fault_folder.iterdir()} == stamps

    damaged = path_of(fault_folder, 2019, 2)
    workbook.drop_sheet(damaged, NETWORK)
    assert workbook.write_range(registers, fault_folder, *FAULT_MONTHS) == [damaged]
    assert load_workbook(damaged).sheetnames == SHEETS


def test_a_reader_never_sees_a_partial_workbook(registers, tmp_path, monkeypatch):
    renames = []

    def interrupted(source, target):
        renames.append((Path(source), Path(target)))
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(OSError, match="disk full"):
        workbook.write_month(registers, tmp_path, 2019, 3)
    (temporary, target), = renames
    assert temporary.parent == tmp_path and not fnmatch.fnmatch(temporary.name, "SoTTTT_BaoCao_*.xlsx")
    assert target == path_of(tmp_path, 2019, 3)
    assert list(tmp_path.iterdir()) == []


def test_rename_column_changes_one_header(fault_folder):
    path = path_of(fault_folder, 2019, 3)
    before = read_sheet(path, LICENCES)
    workbook.rename_column(path, LICENCES, "Số lượng in (bản)", "Số lượng (bản)")
    after = read_sheet(path, LICENCES)
    assert list(after.columns) == [*HEADERS[LICENCES][:-1], "Số lượng (bản)"]
    assert after.to_numpy().tolist() == before.to_numpy().tolist()
    assert list(read_sheet(path, CERTIFICATES).columns) == HEADERS[CERTIFICATES]


def test_drop_sheet_removes_only_that_sheet(fault_folder):
    path = path_of(fault_folder, 2019, 3)
    workbook.drop_sheet(path, COMPLAINTS)
    assert load_workbook(path).sheetnames == [sheet for sheet in SHEETS if sheet != COMPLAINTS]


def test_corrupt_cell_turns_a_count_into_words(registers, tmp_path, sheets):
    year, month = next(m for m in Q1_2019 if len(sheets[m][INSPECTIONS]))
    path = workbook.write_month(registers, tmp_path, year, month)
    coordinate = workbook.corrupt_cell(path, INSPECTIONS)
    entries = read_sheet(path, INSPECTIONS)
    assert entries.loc[0, INSPECTED] == "mười sáu"
    assert load_workbook(path)[INSPECTIONS][coordinate].value == "mười sáu"
    assert pd.to_numeric(entries[INSPECTED], errors="coerce").isna().sum() == 1


def test_corrupt_cell_turns_a_date_into_an_impossible_one_where_there_is_no_count(fault_folder):
    path = path_of(fault_folder, 2019, 3)
    before = read_sheet(path, CERTIFICATES)
    workbook.corrupt_cell(path, CERTIFICATES)
    after = read_sheet(path, CERTIFICATES)
    assert after.loc[0, "Ngày cấp"] == "31/02/2019"
    assert after.drop(columns="Ngày cấp").equals(before.drop(columns="Ngày cấp"))
    assert after["Ngày cấp"].iloc[1:].tolist() == before["Ngày cấp"].iloc[1:].tolist()


def test_remove_month_leaves_a_gap(fault_folder):
    workbook.remove_month(fault_folder, 2019, 2)
    assert sorted(path.name for path in fault_folder.iterdir()) == [path_of(fault_folder, 2019, 3).name]
