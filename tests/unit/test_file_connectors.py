"""File-drop and cursor connectors on deliveries that go wrong in the ways real ones do."""

from __future__ import annotations

import io
import os
import re
from datetime import date, time, timedelta
from pathlib import Path
from zipfile import ZIP_BZIP2, ZIP_DEFLATED, ZipFile

import pytest
from scripted_http import ScriptedSession

from egov.core.sources import CA, MAIL, REGISTER_MONTH_FIELD, REGISTERS
from egov.ingest.connectors.base import Endpoint
from egov.ingest.connectors.files import CsvDropConnector, XlsxDropConnector
from egov.ingest.connectors.http import CursorApiConnector
from egov.ingest.errors import SchemaDriftError, SourceDataError, SourceUnavailable
from egov.ingest.loader import canonical_json
from egov.ingest.records import rejection_reason

ACCOUNTS = MAIL.entities[0]
DAY = (date(2019, 3, 6), date(2019, 3, 7))
HEADER = "Ngày,Mã đơn vị,Tên đơn vị,Số tài khoản tạo mới,Số tài khoản đóng,Tổng số tài khoản"


def drop(tmp_path, *lines: str, encoding: str = "utf-8-sig") -> CsvDropConnector:
    (tmp_path / "hopthu_20190306.csv").write_bytes("\r\n".join([HEADER, *lines]).encode(encoding))
    return CsvDropConnector(tmp_path)


def records(connector) -> list[dict]:
    return [record for page in connector.pages(ACCOUNTS, DAY) for record in page.records]


def test_a_file_without_its_control_row_may_still_be_arriving(tmp_path):
    connector = drop(tmp_path, "06/03/2019,842,Thành phố Trà Vinh,1,0,50")
    with pytest.raises(SourceUnavailable, match="no 'Tổng cộng' control row"):
        records(connector)


def test_a_control_total_that_does_not_add_up_is_refused(tmp_path):
    connector = drop(tmp_path, "06/03/2019,842,Thành phố Trà Vinh,1,0,50", "06/03/2019,,Tổng cộng,2,0,50")
    with pytest.raises(SourceDataError, match="sums to 1 but the control total row says 2"):
        records(connector)


def test_a_row_with_more_cells_than_the_header_is_quarantined_not_fatal(tmp_path):
    connector = drop(tmp_path, "06/03/2019,842,Sở Tài nguyên và Môi trường, tỉnh Trà Vinh,1,0,50",
                     "06/03/2019,844,Huyện Càng Long,0,0,40", "06/03/2019,,Tổng cộng,0,0,90")
    shifted, fine = records(connector)
    assert "1 more cells than the header" in rejection_reason(ACCOUNTS, shifted, DAY)
    assert rejection_reason(ACCOUNTS, fine, DAY) is None


def test_an_export_in_another_encoding_is_a_named_error(tmp_path):
    connector = drop(tmp_path, "06/03/2019,842,Thành phố Trà Vinh,1,0,50", "06/03/2019,,Tổng cộng,1,0,50",
                     encoding="utf-16")
    with pytest.raises(SourceDataError, match="not UTF-8"):
        records(connector)


def test_a_cursor_feed_that_stops_without_a_cursor_is_not_taken_as_complete():
    says_more = {"data": [{"serial": "A1", "updated_at": "2019-03-06T09:00:00+07:00"}], "has_more": True,
                 "next_cursor": None}
    feed = CursorApiConnector("http://ca", "t", session=ScriptedSession([says_more]))
    with pytest.raises(SourceUnavailable, match="sent no cursor"):
        list(feed.pages(CA.entities[1], DAY))


CONTROL = "06/03/2019,,Tổng cộng,1,0,50"
UNIT = "06/03/2019,842,Thành phố Trà Vinh,1,0,50"


def test_the_control_row_is_found_by_its_column_not_by_any_cell_that_says_the_marker(tmp_path):
    """A unit whose code column happens to read "Tổng cộng" is a unit: only the unit-name column marks the control
    row, and the totals count the unit."""
    connector = drop(tmp_path, "06/03/2019,Tổng cộng,Phường 1,2,0,10", UNIT, "06/03/2019,,Tổng cộng,3,0,60")
    loaded = records(connector)
    assert [record["Mã đơn vị"] for record in loaded] == ["Tổng cộng", "842"]
    assert [record["_line"] for record in loaded] == [2, 3]


def test_the_control_row_and_its_column_can_be_set_in_the_connections_extra(tmp_path):
    (tmp_path / "hopthu_20190306.csv").write_text("\r\n".join([HEADER, UNIT, "06/03/2019,TC,,1,0,50"]))
    endpoint = Endpoint(extra={"path": str(tmp_path), "control_column": "Mã đơn vị", "control_label": "TC"})
    assert [record["Mã đơn vị"] for record in records(CsvDropConnector.from_endpoint(endpoint))] == ["842"]


@pytest.mark.parametrize("after", [UNIT, CONTROL, "06/03/2019,,,,,1"])
def test_a_row_after_the_control_row_is_refused(tmp_path, after):
    with pytest.raises(SourceDataError, match=r"line 4 follows the control row \(line 3\), which must be the last"):
        records(drop(tmp_path, UNIT, CONTROL, after))


def test_blank_rows_after_the_control_row_hold_nothing_and_are_passed_over(tmp_path):
    assert len(records(drop(tmp_path, UNIT, CONTROL, ",,,,,", ""))) == 1


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_an_export_with_or_without_a_byte_order_mark_reads_the_same(tmp_path, encoding):
    (only,) = records(drop(tmp_path, UNIT, CONTROL, encoding=encoding))
    assert only["Ngày"] == "2019-03-06" and only["Tổng số tài khoản"] == 50


@pytest.mark.parametrize(("content", "problem"), [
    ("\r\n".join([HEADER, UNIT, CONTROL]).encode().replace(b"Vinh", b"Vinh\xc3"), r"not UTF-8 at line 2 \(byte \d+"),
    ("\r\n".join([HEADER.replace("Ng", "N\x00g"), UNIT, CONTROL]).encode(), "line 1 holds a NUL character"),
    ("\r\n".join([HEADER, UNIT, CONTROL]).encode("utf-16-le"), "not UTF-8 at line 1|line 1 holds a NUL"),
    (b"a,b\r\n" + b"\x00" * 50 + b"\r\n", r"line 2 holds a NUL character \(50 in the file\)"),
    ("\r\n".join([HEADER, f'06/03/2019,842,"{"x" * 200_000}",1,0,50', CONTROL]).encode(),
     r"line 2 is not CSV: field larger than field limit \(131072\)"),
    ("\r\n".join([HEADER, '06/03/2019,842,"Thành phố" Trà Vinh,1,0,50', CONTROL]).encode(),
     "line 2 is not CSV: ',' expected after"),
])
def test_a_csv_that_is_not_strict_utf8_text_or_not_csv_is_refused_naming_the_line(tmp_path, content, problem):
    (tmp_path / "hopthu_20190306.csv").write_bytes(content)
    with pytest.raises(SourceDataError, match=problem):
        records(CsvDropConnector(tmp_path))


def test_a_nul_in_one_cell_is_left_to_the_record_rules_not_the_whole_file(tmp_path):
    unit = UNIT.replace("Vinh", "Vi\x00nh")
    (tmp_path / "hopthu_20190306.csv").write_bytes("\r\n".join([HEADER, unit, CONTROL]).encode())
    (only,) = records(CsvDropConnector(tmp_path))
    assert "\x00" in only["Tên đơn vị"]


def test_a_header_that_names_a_column_twice_is_schema_drift(tmp_path):
    (tmp_path / "hopthu_20190306.csv").write_text("\r\n".join([HEADER + ",Tên đơn vị", UNIT + ",x", CONTROL + ",x"]))
    with pytest.raises(SchemaDriftError, match=r"columns \['Tên đơn vị'\] appear more than once"):
        records(CsvDropConnector(tmp_path))


def test_a_file_past_the_size_cap_is_refused_with_both_sizes(tmp_path):
    connector = drop(tmp_path, UNIT, CONTROL)
    size = (tmp_path / "hopthu_20190306.csv").stat().st_size
    connector.max_file_bytes = size - 1
    with pytest.raises(SourceDataError, match=rf"{size:,} bytes, more than the cap of {size - 1:,} \(max_file_bytes"):
        records(connector)


def export(folder: Path, name: str = "hopthu_20190306.csv") -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("\r\n".join([HEADER, UNIT, CONTROL]), encoding="utf-8-sig")
    return path


@pytest.mark.parametrize("name", ["hopthu_20190306.csv", "hopthu_20190306 (1).csv", "hopthu_20190306_v2.csv"])
def test_a_symbolic_link_in_the_landing_folder_is_refused_naming_it_and_its_target(tmp_path, name):
    """Even as a second copy beside the real file: a link there can point at any file the pipeline may read."""
    landing, elsewhere = tmp_path / "landing", export(tmp_path / "elsewhere")
    export(landing)
    (landing / name).unlink(missing_ok=True)
    (landing / name).symlink_to(elsewhere)
    with pytest.raises(SourceDataError, match=rf"{re.escape(name)}: a symbolic link to {elsewhere}, not a regular"):
        records(CsvDropConnector(landing))


@pytest.mark.parametrize(("make", "kind"), [(os.mkdir, "a folder"), (os.mkfifo, "a named pipe")])
def test_a_folder_or_a_pipe_in_the_landing_folder_is_refused_without_being_opened(tmp_path, make, kind):
    make(tmp_path / "hopthu_20190306.csv")
    with pytest.raises(SourceDataError, match=f"hopthu_20190306.csv: {kind}, not a regular file"):
        records(CsvDropConnector(tmp_path))


def swap_in_link(path: Path) -> None:
    path.with_name("target.csv").write_bytes(path.read_bytes())
    link = path.with_name("link")
    link.symlink_to(path.with_name("target.csv"))
    os.replace(link, path)


def swap_in_pipe(path: Path) -> None:
    os.mkfifo(path.with_name("pipe"))
    os.replace(path.with_name("pipe"), path)


def swap_in_revision(path: Path) -> None:
    path.with_name("revision").write_bytes(path.read_bytes())
    os.replace(path.with_name("revision"), path)


@pytest.mark.parametrize(("swap", "error", "problem"), [
    (swap_in_link, SourceDataError, "became a symbolic link while being read"),
    (swap_in_pipe, SourceDataError, "became a named pipe while being read"),
    (swap_in_revision, SourceUnavailable, "replaced by another file while being read; run the extract again"),
])
def test_what_is_swapped_in_between_the_check_and_the_read_is_caught_on_the_opened_file(tmp_path, monkeypatch,
                                                                                         swap, error, problem):
    path = export(tmp_path)
    real_lstat = Path.lstat

    def lstat_then_swap(self):
        found = real_lstat(self)
        if self == path:
            swap(path)
        return found

    monkeypatch.setattr(Path, "lstat", lstat_then_swap)
    with pytest.raises(error, match=problem):
        records(CsvDropConnector(tmp_path))


REGISTER = REGISTERS.entities[0]
MARCH = (date(2019, 3, 1), date(2019, 4, 1))


@pytest.fixture(scope="module")
def march_workbook(tmp_path_factory) -> bytes:
    from egov_demo.simulators.registers import workbook
    from egov_demo.simulators.registers.generator import build_dataset

    return workbook.write_month(build_dataset(), tmp_path_factory.mktemp("registers"), 2019, 3).read_bytes()


def workbook_drop(folder: Path, content: bytes, **settings) -> XlsxDropConnector:
    (folder / "SoTTTT_BaoCao_2019_03.xlsx").write_bytes(content)
    return XlsxDropConnector(folder, **settings)


def sheet_records(connector: XlsxDropConnector) -> list[dict]:
    return [record for page in connector.pages(REGISTER, MARCH) for record in page.records]


def rezipped(content: bytes, change, compression: int = ZIP_DEFLATED) -> bytes:
    """The workbook's members written again, each through ``change(name, data)`` (None leaves it out)."""
    rebuilt = io.BytesIO()
    with ZipFile(io.BytesIO(content)) as original, ZipFile(rebuilt, "w", compression) as copy:
        for name in original.namelist():
            data = change(name, original.read(name))
            if data is not None:
                copy.writestr(name, data)
    return rebuilt.getvalue()


def test_a_sound_workbook_loads(tmp_path, march_workbook):
    assert sheet_records(workbook_drop(tmp_path, march_workbook))


def test_a_workbook_that_is_not_a_zip_archive_is_refused_as_bad_data(tmp_path):
    connector = workbook_drop(tmp_path, "\r\n".join([HEADER, UNIT]).encode())
    with pytest.raises(SourceDataError, match=r"not an Excel workbook \(an .xlsx file is a zip archive, this one"):
        sheet_records(connector)


@pytest.mark.parametrize("cut", [0, 3, 100])
def test_a_workbook_cut_short_may_still_be_uploading(tmp_path, march_workbook, cut):
    with pytest.raises(SourceUnavailable, match=r"not a complete workbook .* still being uploaded"):
        sheet_records(workbook_drop(tmp_path, march_workbook[:cut]))


def test_a_workbook_that_unpacks_past_its_cap_is_refused_as_a_zip_bomb(tmp_path, march_workbook):
    bomb = rezipped(march_workbook, lambda name, data: b" " * 50_000_000 if name == "docProps/app.xml" else data)
    assert len(bomb) < 200_000
    with ZipFile(io.BytesIO(bomb)) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
    with pytest.raises(SourceDataError, match=rf"members unpack to {unpacked:,} bytes, more than the cap of "
                                              rf"{20_000_000:,} \(max_unpacked_bytes.*zip bomb"):
        sheet_records(workbook_drop(tmp_path, bomb, max_unpacked_bytes=20_000_000))


def broken_sheet(name: str, data: bytes) -> bytes:
    return data[:len(data) // 2] if name.startswith("xl/worksheets/") else data


@pytest.mark.parametrize(("damage", "compression", "problem"), [
    (broken_sheet, ZIP_DEFLATED, "cannot be read as a workbook: ParseError"),
    (lambda name, data: None if name == "xl/workbook.xml" else data, ZIP_DEFLATED,
     "cannot be read as a workbook: KeyError: \"There is no item named 'xl/workbook.xml'"),
    (lambda name, data: data, ZIP_BZIP2, "are encrypted or compressed in a way Excel does not write"),
])
def test_a_zip_archive_that_is_not_a_sound_workbook_is_refused_as_bad_data(tmp_path, march_workbook, damage,
                                                                           compression, problem):
    with pytest.raises(SourceDataError, match=problem):
        sheet_records(workbook_drop(tmp_path, rezipped(march_workbook, damage, compression)))


def test_deflate_data_that_does_not_inflate_is_refused_as_bad_data(tmp_path, march_workbook):
    damaged = bytearray(march_workbook)
    with ZipFile(io.BytesIO(march_workbook)) as archive:
        sheet = next(info for info in archive.infolist() if info.filename.startswith("xl/worksheets/"))
    middle = sheet.header_offset + 30 + len(sheet.filename) + sheet.compress_size // 2
    damaged[middle:middle + 40] = bytes(40)
    with pytest.raises(SourceDataError, match=r"cannot be read as a workbook: (error|BadZipFile|EOFError)"):
        sheet_records(workbook_drop(tmp_path, bytes(damaged)))


def test_a_count_of_more_digits_than_python_reads_is_left_as_text_for_the_record_rules(tmp_path):
    huge = "9" * 5000
    (unit,) = records(drop(tmp_path, UNIT.replace(",50", f",{huge}"), CONTROL))
    assert unit["Tổng số tài khoản"] == huge
    assert "is not an integer" in rejection_reason(ACCOUNTS, unit, DAY)


def test_time_of_day_and_duration_cells_reach_the_payload_as_text(tmp_path):
    import openpyxl

    header = ["STT", *(name for name in REGISTER.fields if name != REGISTER_MONTH_FIELD)]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = REGISTER.path
    sheet.append(header)
    sheet.append([1, *([time(9, 30)] + [timedelta(hours=30)] * (len(header) - 2))])
    book.save(tmp_path / "SoTTTT_BaoCao_2019_03.xlsx")
    (record,) = sheet_records(XlsxDropConnector(tmp_path))
    first, second = header[1], header[2]
    assert (record[first], record[second]) == ("09:30:00", "1 day, 6:00:00")
    assert canonical_json(record)
