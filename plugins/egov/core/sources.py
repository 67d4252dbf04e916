"""The declarative registry of agency systems the warehouse extracts from.

One entry per source system. DAGs are generated from this list
(``dags/egov_extract.py``), so adding a source is one entry here plus a
connector class in ``egov.ingest.connectors``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from types import MappingProxyType

from egov.core.fields import FieldRule

# The kinds of field (egov.core.fields.KINDS): what a value may hold, the range of its column in staging, and how
# the raw suites check it. "?" makes a field optional.
INT = "int"
SMALLINT = "smallint"
BIGINT = "bigint"
TEXT = "text"
BOOL = "bool"
DATE = "date"
TIMESTAMP = "timestamp"
OPTIONAL_INT = "int?"
OPTIONAL_DATE = "date?"
OPTIONAL_TEXT = "text?"
OPTIONAL_TIMESTAMP = "timestamp?"

#: Fields whose name starts with this are the connectors' own, never a source's: a record that arrives with one
#: (``_malformed``, ``_file``, ``_line``, ``_row`` or any other) is quarantined, a file with such a column refused.
RESERVED_PREFIX = "_"
#: A file connector's note on a record it could not read as the layout says (a row with more cells than the
#: header): the record is kept, then quarantined with the note as its reason.
MALFORMED_FIELD = "_malformed"
#: What each connector adds to the records it delivers, with the kind of each: where in a delivered file a record
#: came from, read by the staging models, and the connector's note. Connectors not named here add nothing.
CONNECTOR_FIELDS: dict[str, dict[str, str]] = {
    "csv_drop": {"_file": TEXT, "_line": INT, MALFORMED_FIELD: TEXT},
    "xlsx_drop": {"_file": TEXT, "_row": INT},
}

DAILY = "0 0 * * *"
MONTHLY = "0 0 1 * *"


@dataclass(frozen=True)
class Entity:
    """One resource of a source, landed in its own raw table.

    ``path`` is what the connector asks for: an API path, a ``schema.table``, a file-name
    pattern or a sheet name. ``fields`` are the names the source uses, with their kinds
    (``egov.core.fields``): the one declaration of what a record may hold, which the loader, the
    staging casts and the raw suites follow. A record missing a required field, with a value its
    kind refuses, or with a field starting with ``RESERVED_PREFIX`` is quarantined.
    """

    name: str
    path: str
    fields: dict[str, str]
    #: Fields that identify a record; a second record with the same key in one load is quarantined.
    key: tuple[str, ...]
    #: Field that dates a record (a date, or a timestamp read as a local day); windowed entities
    #: are extracted and replaced per day. Without it the entity is a snapshot, replaced whole.
    date_field: str | None = None
    #: Longest window the source accepts in one request.
    max_window: timedelta = timedelta(days=366)
    #: The entity is a feed of changes from which a stock is derived: a full load starts at the
    #: source's history_start rather than at the period's start.
    needs_history: bool = False
    #: What the connector that delivers the entity adds to each record (``CONNECTOR_FIELDS``); its source sets it.
    connector_fields: Mapping[str, str] = field(default_factory=dict, compare=False)
    #: The rule of each registry field, in the registry's order (built from ``fields``).
    rules: tuple[FieldRule, ...] = field(init=False, repr=False, compare=False)
    #: The rules of what the connector adds to say where a record came from: the file, its line or row.
    delivery_rules: tuple[FieldRule, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Built when the registry is imported, so that a field of an unknown kind fails at once.
        object.__setattr__(self, "rules", tuple(FieldRule.of(name, kind) for name, kind in self.fields.items()))
        object.__setattr__(self, "delivery_rules", tuple(
            FieldRule.of(name, kind) for name, kind in self.connector_fields.items() if name != MALFORMED_FIELD))

    @property
    def windowed(self) -> bool:
        return self.date_field is not None


@dataclass(frozen=True)
class Source:
    key: str
    system: str
    description: str
    #: Kind of interface: http, sql or file.
    interface: str
    #: Name of the connector class in ``egov.ingest.connectors.CONNECTORS``.
    connector: str
    connection_id: str
    entities: tuple[Entity, ...]
    #: Cron expression, in the province's time zone, of the extract DAG's data intervals.
    schedule: str = DAILY
    #: A scheduled run also reloads this many days before its interval, to pick up late and revised days.
    lookback_days: int = 7
    #: First day the source has data for.
    history_start: date = date(2018, 1, 1)
    owner: str = "data-engineering"
    tags: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        # Each entity learns what its connector adds to a record, so that judging a record needs only its entity.
        added = MappingProxyType(dict(CONNECTOR_FIELDS.get(self.connector, {})))
        object.__setattr__(self, "entities", tuple(replace(entity, connector_fields=added)
                                                   for entity in self.entities))

    def raw_table(self, entity: Entity) -> str:
        return f"raw.{self.key}__{entity.name}"

    def full_load_start(self, period_start: date) -> date:
        """Where a load that must yield the figures of a period starting on ``period_start`` begins."""
        return self.history_start if any(e.needs_history for e in self.entities) else period_start


ONESTOP = Source(
    key="onestop",
    system="onestop_public_service_system",
    description=(
        "Provincial one-stop-shop and online public service system (Hệ thống Một cửa điện tử và "
        "Dịch vụ công trực tuyến): units, procedure catalogue, daily dossier counts and unit daily closes."
    ),
    interface="http",
    connector="http_paged",
    connection_id="onestop_api",
    entities=(
        Entity(
            "units",
            "/api/v1/units",
            {"code": TEXT, "name": TEXT, "level": TEXT, "parent_code": TEXT,
             "admin_unit_code": TEXT, "onboarded_on": DATE},
            key=("code",),
        ),
        Entity(
            "procedures",
            "/api/v1/procedures",
            {"code": TEXT, "name": TEXT, "field": TEXT, "tier": TEXT, "agency_code": OPTIONAL_TEXT,
             "service_level": SMALLINT, "valid_from": DATE, "valid_to": OPTIONAL_DATE},
            key=("code", "valid_from"),
        ),
        Entity(
            "dossier_counts",
            "/api/v1/dossier-counts",
            {"date": DATE, "unit_code": TEXT, "procedure_code": TEXT, "channel": TEXT,
             "event": TEXT, "count": INT},
            key=("date", "unit_code", "procedure_code", "channel", "event"),
            date_field="date",
        ),
        Entity(
            "daily_closes",
            "/api/v1/daily-closes",
            {"date": DATE, "unit_code": TEXT, "received": INT, "resolved": INT,
             "pending_end_of_day": INT, "closed_at": TIMESTAMP},
            key=("date", "unit_code"),
            date_field="date",
        ),
    ),
    tags=("onestop", "http"),
)

DOCMGMT = Source(
    key="docmgmt",
    system="document_management_system",
    description=(
        "Document-management system (Hệ thống Quản lý văn bản và điều hành): user accounts and the documents "
        "agencies send each other, read from the product's own PostgreSQL database with a read-only role."
    ),
    interface="sql",
    connector="postgres_keyset",
    connection_id="docmgmt_db",
    entities=(
        Entity(
            "users",
            "qlvb.nguoi_dung",
            {"id_nguoi_dung": BIGINT, "ma_don_vi": TEXT, "ten_dang_nhap": TEXT, "ho_ten": TEXT,
             "ngay_tao": TIMESTAMP, "ngay_khoa": OPTIONAL_TIMESTAMP},
            key=("id_nguoi_dung",),
        ),
        Entity(
            "documents",
            "qlvb.van_ban_lien_thong",
            {"id_van_ban": BIGINT, "so_van_ban": TEXT, "don_vi_gui": TEXT, "thoi_diem_gui": TIMESTAMP,
             "hinh_thuc": TEXT, "loai_van_ban": TEXT},
            key=("id_van_ban",),
            date_field="thoi_diem_gui",
        ),
    ),
    tags=("docmgmt", "sql"),
)

MAIL = Source(
    key="mail",
    system="official_mail_system",
    description=(
        "Official e-mail system (Hệ thống thư điện tử công vụ): a daily CSV export of accounts created, closed "
        "and in total per agency, dropped in a landing folder as an SFTP drop would."
    ),
    interface="file",
    connector="csv_drop",
    connection_id="mail_drop",
    entities=(
        Entity(
            "accounts_daily",
            "hopthu_{day:%Y%m%d}.csv",
            {"Ngày": DATE, "Mã đơn vị": TEXT, "Tên đơn vị": TEXT, "Số tài khoản tạo mới": INT,
             "Số tài khoản đóng": INT, "Tổng số tài khoản": INT},
            key=("Ngày", "Mã đơn vị"),
            date_field="Ngày",
        ),
    ),
    tags=("mail", "file", "csv"),
)

CA = Source(
    key="ca",
    system="digital_signature_ca",
    description=(
        "Digital-signature certification authority (chứng thư số chuyên dùng): certificate records as a feed "
        "of changes, read incrementally with an updated_since cursor; active certificates are derived daily."
    ),
    interface="http",
    connector="http_cursor",
    connection_id="ca_api",
    entities=(
        Entity(
            "agencies",
            "/api/v1/agencies",
            {"code": TEXT, "name": TEXT},
            key=("code",),
        ),
        Entity(
            "certificates",
            "/api/v1/certificates",
            {"serial": TEXT, "holder_type": TEXT, "holder_name": TEXT, "agency_code": TEXT,
             "issued_at": TIMESTAMP, "expires_at": TIMESTAMP, "revoked_at": OPTIONAL_TIMESTAMP,
             "updated_at": TIMESTAMP},
            key=("serial", "updated_at"),
            date_field="updated_at",
            # A cursor walks any range; one batch for the whole history keeps a full load one batch.
            max_window=timedelta(days=20 * 366),
            needs_history=True,
        ),
    ),
    history_start=date(2016, 1, 1),
    tags=("ca", "http"),
)

PORTAL = Source(
    key="portal",
    system="provincial_portal",
    description=(
        "Provincial web portal's CMS (Cổng thông tin điện tử tỉnh): languages, component sites and the main "
        "portal's publication events (news, translations, audio bulletins, citizens' questions, drafts...)."
    ),
    interface="http",
    connector="http_paged",
    connection_id="portal_api",
    entities=(
        Entity(
            "languages",
            "/api/v1/languages",
            {"code": TEXT, "name_vi": TEXT, "name_en": TEXT, "native_name": TEXT, "enabled_on": DATE},
            key=("code",),
        ),
        Entity(
            "sites",
            "/api/v1/sites",
            {"site_code": TEXT, "name": TEXT, "url": TEXT, "agency_code": OPTIONAL_TEXT, "is_main_portal": BOOL,
             "launched_on": DATE, "closed_on": OPTIONAL_DATE},
            key=("site_code",),
        ),
        Entity(
            "publications",
            "/api/v1/publications",
            {"event_id": BIGINT, "published_at": TIMESTAMP, "date": DATE, "event_type": TEXT, "language": TEXT,
             "title": TEXT},
            key=("event_id",),
            date_field="date",
        ),
    ),
    tags=("portal", "http"),
)

# The connector stamps every register row with the last day of its workbook's month: the rows' own dates
# (issue, inspection, receipt) stay in the payload for the models, and the month dates and replaces them.
REGISTER_MONTH_FIELD = "Tháng báo cáo"
REGISTERS = Source(
    key="registers",
    system="dic_registers",
    description=(
        "The Department of Information and Communications' licensing and inspection registers: a monthly Excel "
        "workbook (publishing licences, e-game point certificates, inspections, complaints, agencies on the "
        "dedicated data network) dropped in a landing folder."
    ),
    interface="file",
    connector="xlsx_drop",
    connection_id="registers_drop",
    schedule=MONTHLY,
    # A month's workbook often arrives days after the month ends: each run also reloads the month before.
    lookback_days=62,
    entities=(
        Entity(
            "publishing_licences",
            "Giấy phép xuất bản",
            {"Số giấy phép": TEXT, "Ngày cấp": DATE, "Tổ chức đề nghị cấp phép": TEXT, "Tên tài liệu": TEXT,
             "Số lượng in (bản)": INT, REGISTER_MONTH_FIELD: DATE},
            # The department restarts its numbering every January, so a number is unique only within the year of
            # its date: a rule over every month's workbook, which staging's dbt test and the gate check
            # (unique_within_year). The key here is what one load can judge: the same number on the same date.
            key=("Số giấy phép", "Ngày cấp"),
            date_field=REGISTER_MONTH_FIELD,
        ),
        Entity(
            "game_point_certificates",
            "GCN điểm trò chơi",
            {"Số giấy chứng nhận": TEXT, "Ngày cấp": DATE, "Tên điểm cung cấp dịch vụ": TEXT,
             "Chủ điểm cung cấp dịch vụ": TEXT, "Huyện, thị xã, thành phố": TEXT, REGISTER_MONTH_FIELD: DATE},
            key=("Số giấy chứng nhận", "Ngày cấp"),
            date_field=REGISTER_MONTH_FIELD,
        ),
        Entity(
            "inspections",
            "Thanh tra kiểm tra",
            {"Số quyết định": TEXT, "Ngày kiểm tra": DATE, "Nội dung thanh tra, kiểm tra": TEXT,
             "Số tổ chức, cá nhân được kiểm tra": INT, "Số tổ chức, cá nhân có thiếu sót, vi phạm": INT,
             "Hình thức xử lý": OPTIONAL_TEXT, REGISTER_MONTH_FIELD: DATE},
            key=("Số quyết định", "Ngày kiểm tra"),
            date_field=REGISTER_MONTH_FIELD,
        ),
        Entity(
            "complaints",
            "Đơn thư phản ánh",
            {"Số đơn": TEXT, "Ngày tiếp nhận": DATE, "Người gửi": TEXT, "Nội dung phản ánh, kiến nghị": TEXT,
             "Kết quả xử lý": OPTIONAL_TEXT, REGISTER_MONTH_FIELD: DATE},
            key=("Số đơn", "Ngày tiếp nhận"),
            date_field=REGISTER_MONTH_FIELD,
        ),
        Entity(
            "data_network_agencies",
            "Mạng truyền số liệu",
            {"Mã cơ quan": TEXT, "Tên cơ quan": TEXT, "Ngày kết nối": DATE, "Ngày ngừng kết nối": OPTIONAL_DATE,
             REGISTER_MONTH_FIELD: DATE},
            # The sheet is the whole register as of each month's end, so an agency appears once a month.
            key=(REGISTER_MONTH_FIELD, "Mã cơ quan"),
            date_field=REGISTER_MONTH_FIELD,
        ),
    ),
    tags=("registers", "file", "xlsx"),
)

SOURCES: dict[str, Source] = {source.key: source for source in (ONESTOP, DOCMGMT, MAIL, CA, PORTAL, REGISTERS)}


def get_source(key: str) -> Source:
    try:
        return SOURCES[key]
    except KeyError:
        raise KeyError(f"unknown source {key!r}; known: {', '.join(sorted(SOURCES))}") from None
