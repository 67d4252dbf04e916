"""The figures section of the department's quarterly report, rendered from a published release.

``load_report`` reads, in one snapshot of the warehouse, the period's latest release (the figures
themselves come only from it), the report's layout (``marts.report_figure_catalogue``), the
indicator definitions (``marts.dim_indicator``), the data of the two charts and every figure's trace
(``egov.publication.trace``). ``render`` turns that plain ``ReportData`` into HTML (inline SVG charts, no script,
nothing fetched), XLSX (numeric cells, openpyxl charts, a trace sheet) or Markdown, in Vietnamese or
English, without touching the database.

The charts are drawn from the warehouse as it is now, not from the release: each chart is checked
against the released figures it must add up to, and says so on the chart when the warehouse has
changed since the release.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import jinja2
import psycopg
from markupsafe import Markup, escape

from egov.core.config import LOCAL_TIMEZONE
from egov.core.periods import Period, month_starts
from egov.core.values import json_value

LANGUAGES = ("vi", "en")
FORMATS = ("html", "xlsx", "md")

#: The figure the per-month chart must add up to.
RECEIVED_FIGURE = "onestop_dossiers_received"
#: The figures the districts' online dossiers must add up to, province-wide (level 3 + level 4).
ONLINE_FIGURES = ("level3_dossiers_online", "level4_dossiers_online")
ONLINE_INDICATOR = "onestop_dossiers_level34_online"
RECEIVED_LEVEL34_INDICATOR = "onestop_dossiers_level34_received"

# The headings of part 2 of the seed report (Báo cáo số 298/BC-STTTT-VP), by report_section.
SECTION_TITLES = {
    "2.1": ("Về Thông tin - Báo chí - Xuất bản", "Information, press and publishing"),
    "2.2": ("Về Bưu chính - Viễn thông, Công nghệ thông tin", "Post, telecommunications and information technology"),
    "2.3": ("Về công tác thanh tra, kiểm tra, giải quyết khiếu nại, tố cáo",
            "Inspections, complaints and denunciations"),
    "2.4": ("Triển khai thực hiện các dự án đầu tư công", "Public investment projects"),
    "2.5": ("Hoạt động của Cổng thông tin điện tử tỉnh", "The provincial web portal"),
    "2.6": ("Công tác khác", "Other work"),
}

# What the catalogue's units are called: Vietnamese, English singular, English plural. A unit that
# means different things in different systems is keyed by (unit, source_system).
UNIT_NAMES = {
    "account": ("tài khoản", "account", "accounts"),
    "agency": ("cơ quan", "agency", "agencies"),
    "article": ("tin, bài", "article", "articles"),
    "banner": ("băng rôn", "banner", "banners"),
    "bulletin": ("bản tin", "bulletin", "bulletins"),
    "certificate": ("giấy chứng nhận", "certificate", "certificates"),
    ("certificate", "digital_signature_ca"): ("chứng thư số", "certificate", "certificates"),
    "decision": ("quyết định", "decision", "decisions"),
    "document": ("văn bản", "document", "documents"),
    "dossier": ("hồ sơ", "dossier", "dossiers"),
    "entity": ("tổ chức, cá nhân", "entity", "entities"),
    "inspection": ("cuộc", "inspection", "inspections"),
    "language": ("ngôn ngữ", "language", "languages"),
    "licence": ("giấy phép", "licence", "licences"),
    "petition": ("đơn", "petition", "petitions"),
    "procedure": ("thủ tục", "procedure", "procedures"),
    "question": ("câu hỏi", "question", "questions"),
    "service": ("dịch vụ", "service", "services"),
    "share": ("tỷ lệ", "share", "share"),
    "site": ("trang", "site", "sites"),
    "unit": ("đơn vị", "unit", "units"),
    "user": ("người dùng", "user", "users"),
}

LEVEL_NAMES = {
    "release": ("Bản phát hành", "Release"),
    "figure": ("Số liệu trong kho hiện nay", "The warehouse's figure now"),
    "rollup": ("Tổng hợp kỳ", "Period rollup"),
    "daily_facts": ("Dữ liệu ngày", "Daily facts"),
    "raw_rows": ("Dữ liệu gốc", "Raw rows"),
    "batches": ("Lô tải", "Load batches"),
}

ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}

TEXT = {
    "vi": {
        "nation": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "motto": "Độc lập - Tự do - Hạnh phúc",
        "parent_authority": "UBND TỈNH {province_upper}",
        "authority": "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
        "title": "Số liệu báo cáo {period}",
        "subtitle": "Tình hình thực hiện nhiệm vụ phát triển kinh tế - xã hội ngành thông tin và truyền thông — "
                    "phần 2. Công tác thực hiện nhiệm vụ chuyên môn",
        "colophon": "Thông tin phát hành",
        "period": "Kỳ báo cáo",
        "version": "Phiên bản",
        "release_id": "Mã bản phát hành",
        "content_hash": "Mã băm nội dung (SHA-256)",
        "published_at": "Thời điểm công bố",
        "published_by": "Công bố bởi",
        "published_by_cli": "lệnh egov publish",
        "validation_id": "Mã lần kiểm định (cổng Great Expectations)",
        "reason": "Lý do phát hành phiên bản này",
        "figure_count": "Số chỉ tiêu",
        "charts_read_at": "Biểu đồ lấy từ kho dữ liệu lúc",
        "source_note": "Số liệu trong các bảng lấy từ bản phát hành nêu trên, không thay đổi sau khi công bố. "
                       "Mỗi số liệu dẫn tới phần truy vết ở phụ lục.",
        "wording_note": "Cột «Nội dung báo cáo» trích nguyên văn Báo cáo số 298/BC-STTTT-VP (quý I/2019) để chỉ rõ "
                        "chỉ tiêu; số liệu của kỳ này là cột «Số liệu».",
        "section_other": "Số liệu khác",
        "section_unknown": "Mục {section}",
        "col_no": "TT",
        "col_indicator": "Chỉ tiêu",
        "col_wording": "Nội dung báo cáo",
        "col_value": "Số liệu",
        "col_unit": "Đơn vị tính",
        "col_trace": "Đối soát",
        "reconciled": "khớp",
        "not_reconciled": "không khớp",
        "chart_months_title": "Hồ sơ tiếp nhận theo tháng trên hệ thống một cửa điện tử, {period}",
        "chart_months_source": "Nguồn: marts.fct_onestop_dossiers_daily (sự kiện «tiếp nhận»), cộng theo tháng.",
        "chart_districts_title": "Tỷ lệ hồ sơ dịch vụ công mức độ 3, 4 tiếp nhận trực tuyến theo huyện, {period}",
        "chart_districts_source": "Tỷ lệ = hồ sơ mức độ 3, 4 tiếp nhận trực tuyến / hồ sơ mức độ 3, 4 tiếp nhận, "
                                  "theo địa giới hành chính của kỳ báo cáo; hồ sơ của các cơ quan cấp tỉnh chỉ "
                                  "tính vào toàn tỉnh. Nguồn: reporting.rpt_indicator_admin_unit_period.",
        "province_total": "Toàn tỉnh",
        "month": "Tháng",
        "dossiers": "Hồ sơ",
        "district": "Đơn vị hành chính",
        "online": "Trực tuyến",
        "received": "Tiếp nhận",
        "share": "Tỷ lệ",
        "no_data": "Kho dữ liệu chưa có số liệu cho biểu đồ này.",
        "check_ok": "Đã đối chiếu với bản phát hành: khớp ({figures} = {released}).",
        "check_changed": "Lưu ý: kho dữ liệu đã thay đổi kể từ khi công bố. Biểu đồ cộng lại được {warehouse}, "
                         "bản phát hành ghi {released} ({figures}). Biểu đồ thể hiện kho dữ liệu hiện nay, không "
                         "phải số liệu đã công bố.",
        "check_unavailable": "Lưu ý: bản phát hành không có chỉ tiêu {figures}, nên không đối chiếu được biểu đồ "
                             "(cộng lại được {warehouse}).",
        "appendix": "Phụ lục: truy vết số liệu",
        "appendix_intro": "Mỗi số liệu được truy ngược từ bản phát hành qua bảng tổng hợp kỳ và dữ liệu ngày tới "
                          "các dòng dữ liệu gốc và các lô tải từ hệ thống nguồn. Lệnh dưới mỗi mục tái lập phần "
                          "truy vết đó.",
        "definition": "Định nghĩa",
        "legal_basis": "Căn cứ",
        "trace_value": "Số liệu công bố",
        "trace_status": "Đối soát chuỗi",
        "col_level": "Tầng",
        "col_level_value": "Giá trị",
        "col_rows": "Số dòng",
        "col_reconciled": "Khớp",
        "col_detail": "Ghi chú",
        "col_source": "Hệ thống nguồn",
        "col_raw_table": "Bảng gốc",
        "col_window": "Khoảng dữ liệu",
        "col_loaded_at": "Thời điểm tải",
        "col_checksum": "Checksum",
        "col_checksum_verified": "Kiểm checksum",
        "col_run": "Lượt chạy Airflow",
        "col_rows_used": "Số dòng dùng",
        "snapshot": "ảnh chụp toàn bộ",
        "outside_airflow": "ngoài Airflow",
        "not_checked": "chưa kiểm",
        "no_batches": "Không có lô tải nào.",
        "reproduce": "Tái lập",
        "back": "↑ Về bảng số liệu",
        "sheet_figures": "Số liệu",
        "sheet_charts": "Biểu đồ",
        "sheet_trace": "Truy vết",
        "col_section": "Mục",
        "col_figure_id": "Mã chỉ tiêu",
        "col_batch": "Lô tải",
        "trace_missing": "Không có truy vết",
    },
    "en": {
        "nation": "SOCIALIST REPUBLIC OF VIET NAM",
        "motto": "Independence – Freedom – Happiness",
        "parent_authority": "PEOPLE'S COMMITTEE OF {province_upper} PROVINCE",
        "authority": "DEPARTMENT OF INFORMATION AND COMMUNICATIONS",
        "title": "Report figures, {period}",
        "subtitle": "Socio-economic development tasks of the information and communications sector — "
                    "part 2, specialised work",
        "colophon": "Release",
        "period": "Period",
        "version": "Version",
        "release_id": "Release id",
        "content_hash": "Content hash (SHA-256)",
        "published_at": "Published at",
        "published_by": "Published by",
        "published_by_cli": "the egov publish command",
        "validation_id": "Validation id (Great Expectations gate)",
        "reason": "Reason for this version",
        "figure_count": "Figures",
        "charts_read_at": "Charts read from the warehouse at",
        "source_note": "The figures in the tables come from the release above, which cannot change after "
                       "publication. Every figure links to its trace in the appendix.",
        "wording_note": "",
        "section_other": "Other figures",
        "section_unknown": "Section {section}",
        "col_no": "No.",
        "col_indicator": "Indicator",
        "col_wording": "Meaning",
        "col_value": "Value",
        "col_unit": "Unit",
        "col_trace": "Reconciled",
        "reconciled": "reconciled",
        "not_reconciled": "not reconciled",
        "chart_months_title": "Dossiers received per month on the one-stop system, {period}",
        "chart_months_source": "Source: marts.fct_onestop_dossiers_daily (event 'received'), summed by month.",
        "chart_districts_title": "Online share of level-3/4 service dossiers by district, {period}",
        "chart_districts_source": "Share = level-3/4 dossiers received online / level-3/4 dossiers received, on "
                                  "the period's administrative boundaries; province-level agencies count only in "
                                  "the province total. Source: reporting.rpt_indicator_admin_unit_period.",
        "province_total": "Province",
        "month": "Month",
        "dossiers": "Dossiers",
        "district": "Administrative unit",
        "online": "Online",
        "received": "Received",
        "share": "Share",
        "no_data": "The warehouse has no data for this chart yet.",
        "check_ok": "Checked against the release: it matches ({figures} = {released}).",
        "check_changed": "Note: the warehouse has changed since the release. The chart adds up to {warehouse}, "
                         "the release says {released} ({figures}). The chart shows the warehouse as it is now, "
                         "not the released figures.",
        "check_unavailable": "Note: the release has no {figures} figure, so the chart cannot be checked against "
                             "it (it adds up to {warehouse}).",
        "appendix": "Appendix: figure traces",
        "appendix_intro": "Each figure is followed back from the release through the period rollup and the daily "
                          "facts to the raw rows and the batches loaded from the source systems. The command "
                          "under each entry reproduces it.",
        "definition": "Definition",
        "legal_basis": "Legal basis",
        "trace_value": "Published value",
        "trace_status": "Chain",
        "col_level": "Level",
        "col_level_value": "Value",
        "col_rows": "Rows",
        "col_reconciled": "Reconciled",
        "col_detail": "Detail",
        "col_source": "Source system",
        "col_raw_table": "Raw table",
        "col_window": "Window",
        "col_loaded_at": "Loaded at",
        "col_checksum": "Checksum",
        "col_checksum_verified": "Checksum verified",
        "col_run": "Airflow run",
        "col_rows_used": "Rows used",
        "snapshot": "snapshot",
        "outside_airflow": "outside Airflow",
        "not_checked": "not checked",
        "no_batches": "No batches.",
        "reproduce": "Reproduce",
        "back": "↑ Back to the figures",
        "sheet_figures": "Figures",
        "sheet_charts": "Charts",
        "sheet_trace": "Trace",
        "col_section": "Section",
        "col_figure_id": "Figure id",
        "col_batch": "Batch",
        "trace_missing": "No trace",
    },
}


class ReportError(RuntimeError):
    """The report cannot be made (nothing published for the period, a figure without its trace…)."""


# ---------------------------------------------------------------- the data


@dataclass(frozen=True)
class Release:
    release_id: str
    period: str
    version: int
    content_hash: str
    figure_count: int
    validation_id: str
    reason: str | None
    published_at: datetime
    dag_id: str | None
    run_id: str | None


@dataclass(frozen=True)
class Figure:
    """A released figure with its place in the report and its indicator's definition."""

    figure_id: str
    value: Decimal | None
    unit: str
    report_section: str | None  # None: released, but no longer in the catalogue
    display_order: int | None
    source_system: str | None
    measure_kind: str | None
    quote_vi: str
    meaning_en: str
    name_vi: str | None
    name_en: str | None
    definition: str | None
    legal_basis: str | None


@dataclass(frozen=True)
class MonthCount:
    month: date
    dossiers: int


@dataclass(frozen=True)
class UnitShare:
    """Level-3/4 dossiers of one administrative unit: received online, and received by any channel."""

    admin_unit_code: str
    admin_unit_name: str
    online: int
    received: int

    @property
    def share(self) -> Decimal | None:
        return Decimal(self.online) / Decimal(self.received) if self.received else None


@dataclass(frozen=True)
class ChartCheck:
    """A chart's total in the warehouse now beside the released figures it must add up to."""

    figure_ids: tuple[str, ...]
    released: Decimal | None  # None: the release does not carry every one of them
    warehouse: Decimal
    unit: str

    @property
    def matches(self) -> bool:
        return self.released is not None and self.released == self.warehouse


@dataclass(frozen=True)
class ReportData:
    period: str
    period_start: date
    period_end: date  # exclusive
    province_name: str  # without its type: "Trà Vinh"
    release: Release
    figures: tuple[Figure, ...]  # in the report's order
    dossiers_per_month: tuple[MonthCount, ...]
    online_share_by_district: tuple[UnitShare, ...]
    online_share_province: UnitShare | None
    charts_read_at: datetime
    traces: dict[str, dict]  # figure_id -> egov.publication.trace's chain

    def figure(self, figure_id: str) -> Figure | None:
        return next((f for f in self.figures if f.figure_id == figure_id), None)

    def _released_sum(self, figure_ids: Sequence[str]) -> Decimal | None:
        values = [getattr(self.figure(fid), "value", None) for fid in figure_ids]
        return None if any(v is None for v in values) else sum(values, Decimal(0))

    @property
    def months_check(self) -> ChartCheck:
        total = sum((Decimal(m.dossiers) for m in self.dossiers_per_month), Decimal(0))
        return ChartCheck((RECEIVED_FIGURE,), self._released_sum([RECEIVED_FIGURE]), total, "dossier")

    @property
    def districts_check(self) -> ChartCheck:
        online = Decimal(self.online_share_province.online if self.online_share_province else 0)
        return ChartCheck(ONLINE_FIGURES, self._released_sum(ONLINE_FIGURES), online, "dossier")


# ---------------------------------------------------------------- loading


def load_report(conn: psycopg.Connection, period: Period) -> ReportData:
    """Everything the report shows, from one snapshot of the warehouse (``conn`` must be idle)."""
    with conn.transaction():
        # One snapshot: the release, the charts and the traces must describe the same warehouse.
        conn.execute("set transaction isolation level repeatable read")
        release = _latest_release(conn, period)
        figures = _released_figures(conn, release.release_id)
        months = _dossiers_per_month(conn, period)
        districts, province = _online_share(conn, period)
        province_name = _province_name(conn, period)
        (read_at,) = conn.execute("select now()").fetchone()
        from egov.publication.trace import TraceError, trace_period

        try:
            traces = trace_period(conn, period, version=release.version)
        except TraceError as untraceable:
            raise ReportError(f"the figures of {period.label} cannot be traced: {untraceable}") from None
    check_traces(release, figures, traces)
    return ReportData(
        period=period.label, period_start=period.start, period_end=period.end,
        province_name=province_name, release=release, figures=figures,
        dossiers_per_month=months, online_share_by_district=districts, online_share_province=province,
        charts_read_at=read_at, traces=traces,
    )


def _latest_release(conn: psycopg.Connection, period: Period) -> Release:
    from egov.publication.publish import latest_release

    row = latest_release(conn, period)
    if row is None:
        raise ReportError(f"nothing published for {period.label}: publish it first "
                          f"(egov run --period {period.label}, or egov publish --period {period.label})")
    return Release(str(row["release_id"]), row["period"], row["version"], row["content_hash"], row["figure_count"],
                   str(row["validation_id"]), row["reason"], row["published_at"], row["dag_id"], row["run_id"])


def _released_figures(conn: psycopg.Connection, release_id: str) -> tuple[Figure, ...]:
    rows = conn.execute(
        """
        select f.figure_id, f.value, f.unit, c.report_section, c.display_order, c.source_system, c.measure_kind,
               coalesce(c.quote_vi, ''), coalesce(c.meaning_en, ''),
               -- The definitions the release recorded; the catalogue's for releases made before it did.
               coalesce(r.indicator_name_vi, i.indicator_name_vi), coalesce(r.indicator_name_en, i.indicator_name_en),
               coalesce(r.definition, i.definition), coalesce(r.legal_basis, i.legal_basis)
        from published.report_figures as f
        left join marts.report_figure_catalogue as c on f.figure_id = c.figure_id
        left join marts.dim_indicator as i on f.figure_id = i.indicator_code
        left join published.release_indicators as r on f.release_id = r.release_id and f.figure_id = r.indicator_code
        where f.release_id = %s
        order by c.display_order nulls last, f.figure_id
        """, (release_id,)).fetchall()
    return tuple(Figure(*row) for row in rows)


def _dossiers_per_month(conn: psycopg.Connection, period: Period) -> tuple[MonthCount, ...]:
    counted = dict(conn.execute(
        """
        select date_trunc('month', date_day)::date, sum(dossier_count)::bigint
        from marts.fct_onestop_dossiers_daily
        where event_code = 'received' and date_day >= %s and date_day < %s
        group by 1
        """, (period.start, period.end)).fetchall())
    return tuple(MonthCount(month, counted.get(month, 0)) for month in month_starts(period.start, period.last_day))


def _online_share(conn: psycopg.Connection, period: Period) -> tuple[tuple[UnitShare, ...], UnitShare | None]:
    """Per district and province-wide, on the period's own boundaries ("as was")."""
    rows = conn.execute(
        """
        select admin_level, admin_unit_code, admin_unit_name,
               coalesce(sum(indicator_value) filter (where indicator_code = %(online)s), 0)::bigint,
               coalesce(sum(indicator_value) filter (where indicator_code = %(received)s), 0)::bigint
        from reporting.rpt_indicator_admin_unit_period
        where period_label = %(period)s and boundary = 'as_was' and admin_level in ('province', 'district')
          and indicator_code in (%(online)s, %(received)s)
        group by admin_level, admin_unit_code, admin_unit_name
        order by admin_unit_code
        """, {"period": period.label, "online": ONLINE_INDICATOR, "received": RECEIVED_LEVEL34_INDICATOR}).fetchall()
    districts = tuple(UnitShare(*row[1:]) for row in rows if row[0] == "district")
    province = next((UnitShare(*row[1:]) for row in rows if row[0] == "province"), None)
    return districts, province


def _province_name(conn: psycopg.Connection, period: Period) -> str:
    row = conn.execute(
        "select admin_unit_name, unit_type from marts.dim_admin_unit where admin_level = 'province' "
        "and valid_from <= %(day)s and (valid_to is null or valid_to > %(day)s) order by admin_unit_code limit 1",
        {"day": period.last_day}).fetchone()
    if row is None:
        raise ReportError(f"marts.dim_admin_unit has no province for {period.label}: build the warehouse first")
    name, unit_type = row
    return name.removeprefix(f"{unit_type} ")


def check_traces(release: Release, figures: Iterable[Figure], traces: dict[str, dict]) -> None:
    """Every figure has its trace, and every trace follows this release."""
    untraced = [f.figure_id for f in figures if f.figure_id not in traces]
    if untraced:
        raise ReportError(f"egov.publication.trace gave no trace for {len(untraced)} figures of {release.period}: "
                          + ", ".join(untraced))
    other = {str((t.get("release") or {}).get("release_id")) for t in traces.values()} - {release.release_id}
    if other:
        raise ReportError(f"the traces of {release.period} follow release {', '.join(sorted(other))}, "
                          f"not the latest release {release.release_id}")


# ---------------------------------------------------------------- wording and numbers


def format_value(value: Decimal | int | None, unit: str | None, lang: str) -> str:
    """A figure as the report prints it: 38.751 and 93,7 % in Vietnamese, 38,751 and 93.7% in English."""
    if value is None:
        return "–"
    value = Decimal(value)
    if unit == "share":
        percent = f"{(value * 100).quantize(Decimal('0.1'), ROUND_HALF_UP):,.1f}"
        return f"{_vietnamese_separators(percent)} %" if lang == "vi" else f"{percent}%"
    exponent = value.normalize().as_tuple().exponent
    decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    shown = f"{value:,.{decimals}f}"
    return _vietnamese_separators(shown) if lang == "vi" else shown


def _vietnamese_separators(english: str) -> str:
    return english.translate(str.maketrans(",.", ".,"))


class Language:
    """The words, numbers, dates and names of one language; templates call it as ``t``."""

    def __init__(self, lang: str):
        if lang not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
        self.lang = lang
        self._text = TEXT[lang]
        self._index = LANGUAGES.index(lang)

    def __call__(self, key: str, **values: object) -> str:
        return self._text[key].format(**values)

    def value(self, value: Decimal | int | None, unit: str | None) -> str:
        return format_value(value, unit, self.lang)

    def unit(self, figure: Figure) -> str:
        names = UNIT_NAMES.get((figure.unit, figure.source_system)) or UNIT_NAMES.get(figure.unit)
        if names is None:
            return figure.unit
        if self.lang == "vi":
            return names[0]
        return names[1] if figure.value == 1 else names[2]

    def name(self, figure: Figure) -> str:
        return (figure.name_vi if self.lang == "vi" else figure.name_en) or figure.figure_id

    def wording(self, figure: Figure) -> str:
        return figure.quote_vi if self.lang == "vi" else figure.meaning_en

    def section(self, section: str | None) -> str:
        if section is None:
            return self("section_other")
        titles = SECTION_TITLES.get(section)
        return f"{section}. {titles[self._index]}" if titles else self("section_unknown", section=section)

    def period(self, label: str) -> str:
        year, _, quarter = label.partition("Q")
        if self.lang == "vi":
            return f"quý {ROMAN[int(quarter)]}/{year}" if quarter else f"năm {year}"
        return f"Q{quarter} {year}" if quarter else f"the year {year}"

    def days(self, start: date, end: date) -> str:
        """A half-open range of days as its first and last day."""
        last = end - timedelta(days=1)
        if self.lang == "vi":
            return f"{start:%d/%m/%Y} – {last:%d/%m/%Y}"
        return f"{start:%Y-%m-%d} – {last:%Y-%m-%d}"

    def month(self, month: date) -> str:
        if self.lang == "vi":
            return f"Tháng {month.month:02d}/{month.year}"
        return f"{ENGLISH_MONTHS[month.month - 1]} {month.year}"

    def moment(self, moment: datetime | str | None) -> str:
        """A time in the province's time zone; a string that is not an ISO time is shown as it is."""
        if moment is None:
            return "–"
        if isinstance(moment, str):
            try:
                moment = datetime.fromisoformat(moment)
            except ValueError:
                return moment
        if moment.tzinfo is not None:
            moment = moment.astimezone(LOCAL_TIMEZONE)
        if self.lang == "vi":
            return f"{moment:%H:%M:%S} ngày {moment:%d/%m/%Y} (giờ Việt Nam)"
        return f"{moment:%Y-%m-%d %H:%M:%S} ({LOCAL_TIMEZONE.key})"

    def level(self, level: str) -> str:
        names = LEVEL_NAMES.get(level)
        return names[self._index] if names else level

    def mark(self, ok: bool | None) -> str:
        return "–" if ok is None else ("✓" if ok else "✗")

    def reconciled(self, ok: bool | None) -> str:
        if ok is None:
            return "–"
        return f"✓ {self('reconciled')}" if ok else f"✗ {self('not_reconciled')}"

    def window(self, batch: dict) -> str:
        start, end = batch.get("window_start"), batch.get("window_end")
        return self("snapshot") if start is None else f"{start} .. {end}"

    def check(self, check: ChartCheck) -> str:
        figures = " + ".join(check.figure_ids)
        warehouse = self.value(check.warehouse, check.unit)
        if check.released is None:
            return self("check_unavailable", figures=figures, warehouse=warehouse)
        released = self.value(check.released, check.unit)
        key = "check_ok" if check.matches else "check_changed"
        return self(key, figures=figures, warehouse=warehouse, released=released)


# ---------------------------------------------------------------- layout shared by the renderers


@dataclass(frozen=True)
class Section:
    key: str | None
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class ChartRow:
    label: str
    value: Decimal
    shown: str  # the value as printed beside the bar


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    source: str
    unit: str
    value_heading: str
    rows: tuple[ChartRow, ...]
    reference: ChartRow | None  # drawn as a line across the bars
    check: ChartCheck


def sections(data: ReportData) -> list[Section]:
    """The figures grouped by report section, sections in the order their first figure appears."""
    grouped: dict[str | None, list[Figure]] = {}
    for figure in data.figures:
        grouped.setdefault(figure.report_section, []).append(figure)
    return [Section(key, tuple(figures)) for key, figures in grouped.items()]


def charts_section(data: ReportData) -> str | None:
    """The section the charts close: the one with the dossiers received, else the last one."""
    received = data.figure(RECEIVED_FIGURE)
    if received:
        return received.report_section
    return data.figures[-1].report_section if data.figures else None


def charts(data: ReportData, t: Language) -> list[Chart]:
    period = t.period(data.period)
    months = Chart(
        "dossiers_per_month", t("chart_months_title", period=period), t("chart_months_source"), "dossier",
        t("dossiers"),
        tuple(ChartRow(t.month(m.month), Decimal(m.dossiers), t.value(m.dossiers, "dossier"))
              for m in data.dossiers_per_month),
        None, data.months_check)
    by_share = sorted((d for d in data.online_share_by_district if d.share is not None),
                      key=lambda d: (-d.share, d.admin_unit_code))
    province = data.online_share_province
    districts = Chart(
        "online_share_by_district", t("chart_districts_title", period=period), t("chart_districts_source"),
        "share", t("share"),
        tuple(ChartRow(d.admin_unit_name, d.share, _share_shown(d, t)) for d in by_share),
        ChartRow(t("province_total"), province.share, _share_shown(province, t))
        if province and province.share is not None else None,
        data.districts_check)
    return [months, districts]


def _share_shown(unit: UnitShare, t: Language) -> str:
    return f"{t.value(unit.share, 'share')} ({t.value(unit.online, None)}/{t.value(unit.received, None)})"


def trace_command(data: ReportData, figure_id: str) -> str:
    return f"egov trace {data.period} {figure_id}"


# ---------------------------------------------------------------- SVG


def svg_bar_chart(chart: Chart, t: Language) -> Markup:
    """Horizontal bars with their values printed beside them, and an optional reference line."""
    label_width, bars_width, value_width, row_height, bar_height = 190, 420, 190, 30, 18
    left = label_width + 10
    top = 8
    reference_space = 34 if chart.reference else 0
    height = top + max(len(chart.rows), 1) * row_height + reference_space + 10
    width = left + bars_width + value_width
    parts = [f'<svg class="bars" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(chart.title)}">',
             f"<title>{escape(chart.title)}</title>"]
    if not chart.rows:
        parts.append(f'<text x="{width / 2}" y="{top + 20}" text-anchor="middle">{escape(t("no_data"))}</text>')
        return Markup("".join([*parts, "</svg>"]))
    largest = max([row.value for row in chart.rows] + ([chart.reference.value] if chart.reference else []))
    scale = bars_width / float(largest) if largest > 0 else 0.0
    for index, row in enumerate(chart.rows):
        y = top + index * row_height
        bar = max(float(row.value) * scale, 1.0 if row.value > 0 else 0.0)
        middle = y + row_height / 2
        parts.append(f'<text class="bar-label" x="{label_width}" y="{middle + 4:.1f}" '
                     f'text-anchor="end">{escape(row.label)}</text>')
        parts.append(f'<rect class="bar" x="{left}" y="{middle - bar_height / 2:.1f}" width="{bar:.1f}" '
                     f'height="{bar_height}"><title>{escape(row.label)}: {escape(row.shown)}</title></rect>')
        parts.append(f'<text class="bar-value chart-value" x="{left + bar + 6:.1f}" y="{middle + 4:.1f}">'
                     f"{escape(row.shown)}</text>")
    bottom = top + len(chart.rows) * row_height
    parts.append(f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{bottom}"/>')
    if chart.reference:
        x = left + float(chart.reference.value) * scale
        parts.append(f'<line class="reference" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom + 6}"/>')
        parts.append(f'<text class="reference-label chart-value" x="{x:.1f}" y="{bottom + 22}" '
                     f'text-anchor="middle">{escape(chart.reference.label)}: {escape(chart.reference.shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# ---------------------------------------------------------------- renderers


def render(data: ReportData, lang: str, fmt: str) -> bytes:
    """The report as the bytes of an HTML page, an XLSX workbook or a Markdown file."""
    renderers = {"html": _render_html, "md": _render_markdown, "xlsx": _render_xlsx}
    if fmt not in renderers:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return renderers[fmt](data, Language(lang))


def _template_context(data: ReportData, t: Language) -> dict:
    return {"data": data, "t": t, "release": data.release, "sections": sections(data),
            "charts_section": charts_section(data), "charts": charts(data, t), "trace_command": trace_command}


def _render_html(data: ReportData, t: Language) -> bytes:
    environment = jinja2.Environment(loader=jinja2.PackageLoader("egov", "templates"), autoescape=True,
                                     undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.globals["svg_bar_chart"] = svg_bar_chart
    return environment.get_template("report.html.j2").render(**_template_context(data, t)).encode()


def markdown_escape(value: object) -> str:
    """What a table cell or a line of Markdown may hold: no HTML, no cell breaks, no line breaks."""
    text = str(value)
    # Underscores stay: they make no emphasis inside words, and figure ids are also HTML anchors.
    for raw, safe in (("\\", "\\\\"), ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"),
                      ("*", "\\*"), ("`", "\\`"), ("[", "\\["), ("]", "\\]")):
        text = text.replace(raw, safe)
    return " ".join(text.split())


def _render_markdown(data: ReportData, t: Language) -> bytes:
    # Markdown's own escaping is applied to every expression's output, as autoescape does for HTML;
    # the template's literal text carries the Markdown syntax.
    environment = jinja2.Environment(loader=jinja2.PackageLoader("egov", "templates"), autoescape=False,
                                     finalize=markdown_escape, undefined=jinja2.StrictUndefined,
                                     trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return environment.get_template("report.md.j2").render(**_template_context(data, t)).encode()


def _render_xlsx(data: ReportData, t: Language) -> bytes:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink
    from openpyxl.writer.excel import ExcelWriter

    bold, heading, warning = Font(bold=True), Font(bold=True, size=14), Font(bold=True, color="B00020")
    header_fill = PatternFill("solid", fgColor="E8EEF4")
    wrap = Alignment(wrap_text=True, vertical="top")

    def header_row(sheet, row: int, titles: Sequence[str]) -> None:
        for column, title in enumerate(titles, start=1):
            cell = sheet.cell(row, column, title)
            cell.font, cell.fill = bold, header_fill

    def number(sheet, row: int, column: int, value: Decimal | int | None, unit: str | None):
        cell = sheet.cell(row, column, _cell_number(value))
        cell.number_format = _number_format(value, unit)
        return cell

    workbook = Workbook()
    figures_sheet = workbook.active
    figures_sheet.title = t("sheet_figures")
    charts_sheet = workbook.create_sheet(t("sheet_charts"))
    trace_sheet = workbook.create_sheet(t("sheet_trace"))

    # The trace sheet first, so that each figure's link knows the row its trace starts on.
    trace_rows: dict[str, int] = {}
    row = 1
    trace_sheet.cell(row, 1, t("appendix")).font = heading
    row += 1
    trace_sheet.cell(row, 1, t("appendix_intro")).alignment = Alignment(wrap_text=False)
    row += 2
    for figure in data.figures:
        trace = data.traces.get(figure.figure_id)
        trace_rows[figure.figure_id] = row
        trace_sheet.cell(row, 1, figure.figure_id).font = bold
        trace_sheet.cell(row, 2, t.name(figure)).font = bold
        number(trace_sheet, row, 3, figure.value, figure.unit).font = bold
        trace_sheet.cell(row, 4, t.reconciled(trace.get("reconciled")) if trace else t("trace_missing"))
        row += 1
        trace_sheet.cell(row, 1, t("reproduce"))
        trace_sheet.cell(row, 2, trace_command(data, figure.figure_id)).font = Font(name="Courier New")
        row += 1
        if trace:
            header_row(trace_sheet, row, [t("col_level"), t("col_level_value"), t("col_rows"),
                                          t("col_reconciled"), t("col_detail")])
            row += 1
            for level in trace.get("levels", []):
                trace_sheet.cell(row, 1, t.level(level.get("level", "")))
                number(trace_sheet, row, 2, level.get("value"), figure.unit)
                trace_sheet.cell(row, 3, level.get("rows"))
                trace_sheet.cell(row, 4, t.mark(level.get("reconciled")))
                trace_sheet.cell(row, 5, level.get("detail", ""))
                row += 1
            header_row(trace_sheet, row, [t("col_batch"), t("col_source"), t("col_raw_table"), t("col_window"),
                                          t("col_loaded_at"), t("col_checksum"), t("col_checksum_verified"),
                                          t("col_run"), t("col_rows_used")])
            row += 1
            for batch in trace.get("batches", []):
                values = [batch.get("batch_id"), batch.get("source_system"), batch.get("raw_table"),
                          t.window(batch), t.moment(batch.get("loaded_at")), batch.get("checksum"),
                          t.mark(batch.get("checksum_verified")), batch.get("run_id") or t("outside_airflow"),
                          batch.get("rows_used")]
                for column, value in enumerate(values, start=1):
                    trace_sheet.cell(row, column, value)
                row += 1
        row += 1
    for column, width in zip("ABCDEFGHI", (38, 40, 16, 34, 40, 30, 16, 44, 12), strict=True):
        trace_sheet.column_dimensions[column].width = width

    # The figures sheet: the release's colophon, then one row per figure with a real number.
    release = data.release
    figures_sheet.cell(1, 1, t("title", period=t.period(data.period))).font = heading
    figures_sheet.cell(2, 1, f"{t('parent_authority', province_upper=data.province_name.upper())} — "
                            f"{t('authority')}")
    colophon = [(t("period"), data.period), (t("version"), release.version), (t("release_id"), release.release_id),
                (t("content_hash"), release.content_hash), (t("published_at"), t.moment(release.published_at)),
                (t("validation_id"), release.validation_id)]
    if release.version > 1:
        colophon.append((t("reason"), release.reason or ""))
    row = 4
    for label, value in colophon:
        figures_sheet.cell(row, 1, label).font = bold
        figures_sheet.cell(row, 2, value)
        row += 1
    figures_sheet.cell(row, 1, t("source_note"))
    row += 2
    header_row(figures_sheet, row, [t("col_section"), t("col_no"), t("col_figure_id"), t("col_indicator"),
                                    t("col_wording"), t("col_value"), t("col_unit"), t("col_trace")])
    figures_sheet.freeze_panes = figures_sheet.cell(row + 1, 1)
    row += 1
    for section in sections(data):
        figures_sheet.cell(row, 1, t.section(section.key)).font = bold
        row += 1
        for index, figure in enumerate(section.figures, start=1):
            trace = data.traces.get(figure.figure_id)
            figures_sheet.cell(row, 1, section.key)
            figures_sheet.cell(row, 2, index)
            figures_sheet.cell(row, 3, figure.figure_id)
            figures_sheet.cell(row, 4, t.name(figure)).alignment = wrap
            figures_sheet.cell(row, 5, t.wording(figure)).alignment = wrap
            number(figures_sheet, row, 6, figure.value, figure.unit)
            figures_sheet.cell(row, 7, t.unit(figure))
            link = figures_sheet.cell(row, 8, t.reconciled(trace.get("reconciled")) if trace else t("trace_missing"))
            link.hyperlink = Hyperlink(ref=link.coordinate,
                                       location=f"'{trace_sheet.title}'!A{trace_rows[figure.figure_id]}")
            link.font = Font(color="1F4E79", underline="single")
            row += 1
    if t.lang == "vi":
        figures_sheet.cell(row + 1, 1, t("wording_note"))
    for column, width in zip("ABCDEFGH", (10, 5, 40, 42, 60, 14, 18, 18), strict=True):
        figures_sheet.column_dimensions[column].width = width

    # The charts sheet: each chart's data as a table, an openpyxl bar chart beside it, and its check.
    row = 1
    charts_sheet.cell(row, 1, f"{t('charts_read_at')} {t.moment(data.charts_read_at)}")
    row += 2
    for chart in charts(data, t):
        charts_sheet.cell(row, 1, chart.title).font = bold
        row += 1
        check = charts_sheet.cell(row, 1, t.check(chart.check))
        check.font = bold if chart.check.matches else warning
        row += 1
        header_row(charts_sheet, row, [t("month") if chart.unit == "dossier" else t("district"), chart.value_heading])
        first = row + 1
        for chart_row in chart.rows:
            row += 1
            charts_sheet.cell(row, 1, chart_row.label)
            number(charts_sheet, row, 2, chart_row.value, chart.unit)
        if chart.reference:
            charts_sheet.cell(row + 1, 1, chart.reference.label).font = bold
            number(charts_sheet, row + 1, 2, chart.reference.value, chart.unit).font = bold
        if chart.rows:
            bars = BarChart()
            bars.type = "col" if chart.unit == "dossier" else "bar"
            bars.title = chart.title if chart.check.matches else f"{chart.title} (!)"
            bars.legend = None
            bars.y_axis.numFmt = "0%" if chart.unit == "share" else "#,##0"
            bars.add_data(Reference(charts_sheet, min_col=2, min_row=first - 1, max_row=row), titles_from_data=True)
            bars.set_categories(Reference(charts_sheet, min_col=1, min_row=first, max_row=row))
            bars.width, bars.height = 18, 7 + 0.4 * len(chart.rows)
            charts_sheet.add_chart(bars, f"D{first - 2}")
        charts_sheet.cell(row + 2, 1, chart.source)
        row = max(row + 4, first + 18 + int(len(chart.rows) * 0.8))
    charts_sheet.column_dimensions["A"].width = 28
    charts_sheet.column_dimensions["B"].width = 14

    # The same release renders to the same bytes: the workbook's dates and the archive's entry times are the
    # release's publication time, not the moment of rendering.
    published = data.release.published_at.astimezone(UTC).replace(tzinfo=None)
    workbook.properties.created = workbook.properties.modified = published
    buffer = io.BytesIO()
    # ExcelWriter rather than workbook.save, which stamps the workbook with the time of saving.
    ExcelWriter(workbook, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return _with_entry_times(buffer.getvalue(), published)


def _with_entry_times(archive: bytes, moment: datetime) -> bytes:
    """``archive`` (a zip) with every entry's time set to ``moment``."""
    rewritten = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, \
            zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=moment.timetuple()[:6])
            fixed.compress_type, fixed.external_attr = entry.compress_type, entry.external_attr
            target.writestr(fixed, source.read(entry))
    return rewritten.getvalue()


def _cell_number(value: Decimal | int | None) -> int | float | None:
    if value is None:
        return None
    return json_value(Decimal(value))


def _number_format(value: Decimal | int | None, unit: str | None) -> str:
    """Excel number formats are locale-neutral: the reader's Excel shows 38.751 or 38,751 by its locale."""
    if unit == "share":
        return "0.0%"
    if value is None or Decimal(value) == Decimal(value).to_integral_value():
        return "#,##0"
    return "#,##0.0#####"
