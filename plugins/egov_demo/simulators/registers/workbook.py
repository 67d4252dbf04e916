"""The department's monthly register workbook, `SoTTTT_BaoCao_YYYY_MM.xlsx`, as its staff lay it out.

Each sheet opens with title rows (the department, the register's title, the month), a blank row and one header
row starting with "STT", then one row per entry: dates are real Excel dates shown as dd/mm/yyyy, counts are
numbers, and there is no total at the bottom. The four flow registers list the entries dated in the month; the
data-network sheet lists every agency ever connected by the month's end, with a disconnection date only when it
had happened by then. Workbooks appear whole: each is saved under a temporary name that no reader's
`SoTTTT_BaoCao_*.xlsx` pattern matches, then renamed.

The fault helpers act on the delivered workbooks, so a reader is tested on what it would really find.
"""

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from egov.core.periods import month_end
from egov_demo.simulators.landing import write_atomically
from egov_demo.simulators.registers.generator import RegistersDataset

DEPARTMENT = "SỞ THÔNG TIN VÀ TRUYỀN THÔNG TỈNH TRÀ VINH"
FILE_PATTERN = "SoTTTT_BaoCao_*.xlsx"
LICENCES, CERTIFICATES, INSPECTIONS, COMPLAINTS, NETWORK = (
    "Giấy phép xuất bản", "GCN điểm trò chơi", "Thanh tra kiểm tra", "Đơn thư phản ánh", "Mạng truyền số liệu",
)
SHEETS = (LICENCES, CERTIFICATES, INSPECTIONS, COMPLAINTS, NETWORK)
HEADERS: dict[str, tuple[str, ...]] = {
    LICENCES: ("STT", "Số giấy phép", "Ngày cấp", "Tổ chức đề nghị cấp phép", "Tên tài liệu", "Số lượng in (bản)"),
    CERTIFICATES: ("STT", "Số giấy chứng nhận", "Ngày cấp", "Tên điểm cung cấp dịch vụ",
                   "Chủ điểm cung cấp dịch vụ", "Huyện, thị xã, thành phố"),
    INSPECTIONS: ("STT", "Số quyết định", "Ngày kiểm tra", "Nội dung thanh tra, kiểm tra",
                  "Số tổ chức, cá nhân được kiểm tra", "Số tổ chức, cá nhân có thiếu sót, vi phạm", "Hình thức xử lý"),
    COMPLAINTS: ("STT", "Số đơn", "Ngày tiếp nhận", "Người gửi", "Nội dung phản ánh, kiến nghị", "Kết quả xử lý"),
    NETWORK: ("STT", "Mã cơ quan", "Tên cơ quan", "Ngày kết nối", "Ngày ngừng kết nối"),
}
HEADER_ROW = 5  # three title rows and a blank row above
DATE_FORMAT = "DD/MM/YYYY"
COUNT_FORMAT = "#,##0"
COLUMN_WIDTH = {"number": 6, "code": 16, "date": 14, "count": 16, "text": 48}
IMPOSSIBLE_DATE = "31/02/{year}"
DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")


@dataclass(frozen=True)
class _Register:
    """Which dataset frame a sheet shows, its columns in header order, and the date that places an entry."""

    title: str
    frame: str
    columns: tuple[str, ...]
    dated_by: str | None  # None: the sheet is the whole register as of the month's end


REGISTERS = {
    LICENCES: _Register("SỔ THEO DÕI CẤP GIẤY PHÉP XUẤT BẢN TÀI LIỆU KHÔNG KINH DOANH", "licences",
                        ("licence_number", "issued_on", "organisation", "title", "print_run"), "issued_on"),
    CERTIFICATES: _Register("SỔ THEO DÕI CẤP GIẤY CHỨNG NHẬN ĐỦ ĐIỀU KIỆN HOẠT ĐỘNG ĐIỂM CUNG CẤP DỊCH VỤ TRÒ CHƠI "
                            "ĐIỆN TỬ CÔNG CỘNG", "certificates",
                            ("certificate_number", "issued_on", "point_name", "owner_name", "district"), "issued_on"),
    INSPECTIONS: _Register("TỔNG HỢP CÁC CUỘC THANH TRA, KIỂM TRA", "inspections",
                           ("decision_number", "inspected_on", "subject", "entities_inspected",
                            "entities_with_violations", "outcome"), "inspected_on"),
    COMPLAINTS: _Register("SỔ TIẾP NHẬN ĐƠN PHẢN ÁNH, KIẾN NGHỊ", "complaints",
                          ("complaint_code", "received_on", "sender", "content", "outcome"), "received_on"),
    NETWORK: _Register("DANH SÁCH CƠ QUAN KẾT NỐI MẠNG TRUYỀN SỐ LIỆU CHUYÊN DÙNG", "network",
                       ("agency_code", "agency_name", "connected_on", "disconnected_on"), None),
}


def workbook_path(folder: Path, year: int, month: int) -> Path:
    return folder / f"SoTTTT_BaoCao_{year:04d}_{month:02d}.xlsx"


def _cell_value(value):
    """Dates as midnight datetimes, which is what openpyxl reads back, so built and loaded workbooks compare."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value.item() if hasattr(value, "item") else value


def _entries(dataset: RegistersDataset, sheet: str, year: int, month: int) -> list[list]:
    register = REGISTERS[sheet]
    frame = getattr(dataset, register.frame)
    last_day = month_end(date(year, month, 1))
    if register.dated_by:
        dates = frame[register.dated_by]
        frame = frame[[day.year == year and day.month == month for day in dates]]
    else:
        frame = frame[[day <= last_day for day in frame["connected_on"]]].copy()
        # A disconnection after the month's end had not happened yet when the month's workbook was made.
        frame["disconnected_on"] = [day if day is not None and day <= last_day else None
                                    for day in frame["disconnected_on"]]
    rows = frame[list(register.columns)].itertuples(index=False)
    return [[number, *(_cell_value(value) for value in row)] for number, row in enumerate(rows, start=1)]


def _column_width(column: int, values: list) -> int:
    """Widths by what a column holds; STT first and the entry's number or code second on every sheet."""
    if column <= 2:
        return COLUMN_WIDTH["number" if column == 1 else "code"]
    sample = next((value for value in values if value is not None), "")
    return COLUMN_WIDTH["date" if isinstance(sample, datetime) else "count" if isinstance(sample, int) else "text"]


def _fill_sheet(sheet: Worksheet, name: str, year: int, month: int, entries: list[list]) -> None:
    headers = HEADERS[name]
    period = f"Tháng {month:02d} năm {year}"
    if REGISTERS[name].dated_by is None:
        period += f" (tính đến ngày {month_end(date(year, month, 1)):%d/%m/%Y})"
    last_column = get_column_letter(len(headers))
    for row, (text, font) in enumerate(
        ((DEPARTMENT, Font(bold=True)), (REGISTERS[name].title, Font(bold=True, size=13)), (period, Font(italic=True))),
        start=1,
    ):
        sheet.cell(row, 1, text).font = font
        sheet.merge_cells(f"A{row}:{last_column}{row}")
        sheet.cell(row, 1).alignment = Alignment(horizontal="center")
    for column, header in enumerate(headers, start=1):
        cell = sheet.cell(HEADER_ROW, column, header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        width = _column_width(column, [entry[column - 1] for entry in entries])
        sheet.column_dimensions[get_column_letter(column)].width = width
    for offset, entry in enumerate(entries, start=1):
        for column, value in enumerate(entry, start=1):
            cell = sheet.cell(HEADER_ROW + offset, column, value)
            if isinstance(value, datetime):
                cell.number_format = DATE_FORMAT
            elif isinstance(value, int) and column > 1:
                cell.number_format = COUNT_FORMAT


def _build(dataset: RegistersDataset, year: int, month: int) -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.creator = DEPARTMENT
    for name in SHEETS:
        _fill_sheet(workbook.create_sheet(name), name, year, month, _entries(dataset, name, year, month))
    return workbook


def _contents(workbook: Workbook) -> list[tuple[str, list[tuple]]]:
    """Sheet names and cell values: what makes two deliveries the same, whatever the save time stamped."""
    return [(sheet.title, list(sheet.iter_rows(values_only=True))) for sheet in workbook.worksheets]


def _save_atomically(workbook: Workbook, path: Path) -> Path:
    return write_atomically(path, workbook.save)


def write_month(dataset: RegistersDataset, folder: Path, year: int, month: int) -> Path:
    """Deliver the workbook of `month`, replacing any earlier delivery of it."""
    return _save_atomically(_build(dataset, year, month), workbook_path(folder, year, month))


def write_range(dataset: RegistersDataset, folder: Path, first_month: date, last_month: date) -> list[Path]:
    """Deliver every month from `first_month` to `last_month` (any day of each); returns the workbooks written.

    A month whose workbook already holds the same sheets and cell values is left alone (rerunning a delivery
    changes nothing); a missing or different workbook, such as one damaged by a fault helper, is written afresh.
    """
    written = []
    year, month = first_month.year, first_month.month
    while (year, month) <= (last_month.year, last_month.month):
        path = workbook_path(folder, year, month)
        workbook = _build(dataset, year, month)
        if not path.exists() or _contents(load_workbook(path)) != _contents(workbook):
            written.append(_save_atomically(workbook, path))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return written


def _header_row(sheet: Worksheet) -> int:
    for (row,) in sheet.iter_rows(min_col=1, max_col=1):
        if row.value == "STT":
            return row.row
    raise ValueError(f"sheet {sheet.title!r} has no header row starting with 'STT'")


def _in_words(number: int) -> str:
    """A count as a clerk might type it in words: 16 -> "mười sáu", 1500 -> "một nghìn năm trăm"."""
    if not 0 <= number < 1_000_000:
        raise ValueError(f"{number} is outside the counts the registers hold")
    if number == 0:
        return DIGITS[0]
    thousands, rest = divmod(number, 1000)
    words = [*_hundreds_in_words(thousands, full=False), "nghìn"] if thousands else []
    return " ".join(words + (_hundreds_in_words(rest, full=bool(thousands)) if rest else []))


def _hundreds_in_words(number: int, full: bool) -> list[str]:
    """0 < number < 1000; `full` spells a zero hundreds digit, as after "nghìn" ("không trăm linh năm")."""
    hundreds, tens, units = number // 100, number // 10 % 10, number % 10
    words = [DIGITS[hundreds], "trăm"] if full or hundreds else []
    if tens == 0 and units and words:
        words.append("linh")
    if tens:
        words += ["mười"] if tens == 1 else [DIGITS[tens], "mươi"]
    if units:
        words.append("mốt" if units == 1 and tens > 1 else "lăm" if units == 5 and tens else DIGITS[units])
    return words


def rename_column(path: Path, sheet: str, old: str, new: str) -> Path:
    """The header `old` of `sheet` renamed to `new`, as when a clerk retitles a column (schema drift)."""
    workbook = load_workbook(path)
    worksheet = workbook[sheet]
    header = next((cell for cell in worksheet[_header_row(worksheet)] if cell.value == old), None)
    if header is None:
        raise ValueError(f"sheet {sheet!r} of {path.name} has no column {old!r}")
    header.value = new
    return _save_atomically(workbook, path)


def drop_sheet(path: Path, sheet: str) -> Path:
    """`sheet` missing from the workbook, as when a clerk deletes a tab before sending."""
    workbook = load_workbook(path)
    workbook.remove(workbook[sheet])
    return _save_atomically(workbook, path)


def corrupt_cell(path: Path, sheet: str) -> str:
    """One cell of the first entry of `sheet` typed by hand: its first count (after STT) becomes the count in
    words, such as "mười sáu"; on a sheet without counts its first date becomes the text "31/02/YYYY", a date
    that does not exist. Returns the cell's coordinate, such as "E6"."""
    workbook = load_workbook(path)
    worksheet = workbook[sheet]
    first_entry = _header_row(worksheet) + 1
    cells = list(worksheet[first_entry])[1:]
    if not any(cell.value is not None for cell in cells):
        raise ValueError(f"sheet {sheet!r} of {path.name} has no entry to corrupt")
    counts = [cell for cell in cells if isinstance(cell.value, int)]
    if counts:
        target = counts[0]
        target.value = _in_words(target.value)
    else:
        target = next(cell for cell in cells if isinstance(cell.value, datetime))
        target.value = IMPOSSIBLE_DATE.format(year=target.value.year)
    target.number_format = "@"
    _save_atomically(workbook, path)
    return target.coordinate


def remove_month(folder: Path, year: int, month: int) -> None:
    """The month's workbook goes missing (never sent, or deleted by mistake)."""
    workbook_path(folder, year, month).unlink()
