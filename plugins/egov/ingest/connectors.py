"""Connectors: how records are fetched from each kind of agency interface.

A connector yields pages of records for one entity and one window; it knows
nothing of the warehouse. Each is built from an :class:`Endpoint` (what an
Airflow connection holds) by :func:`connector_for`, looked up by the name the
source registry gives. Failures it cannot recover from raise
:class:`SourceUnavailable` (worth retrying later: the source is down, a file
has not arrived) or :class:`SourceDataError` (retrying cannot help: the source
changed its schema or sent inconsistent data), always naming what failed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import ClassVar, Protocol
from urllib.parse import urlencode

import requests

from egov.core import config
from egov.core.periods import days_between, month_end, month_starts
from egov.core.sources import DATE, INT, REGISTER_MONTH_FIELD, Entity
from egov.core.values import json_value

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
#: File deliveries: the original a revision replaces is version 1; "name_v2.csv" is version 2.
REVISION_SUFFIX = re.compile(r"_v(\d+)$")
#: Where in a delivery a file connector says a record came from (file and line or row): not part of what
#: the record says, so two copies of one row in different files are still the same record.
DELIVERY_FIELDS = frozenset({"_file", "_line", "_row"})
#: A connector's note that a record could not be read as the source's layout says (kept, then quarantined).
MALFORMED_FIELD = "_malformed"
#: What file managers and SFTP clients call a second copy of a file: "name (1).csv".
COPY_SUFFIX = re.compile(r" \(\d+\)$")


class SourceUnavailable(RuntimeError):
    """The source did not answer usefully after all retries, or a delivery is missing."""


class SourceDataError(ValueError):
    """The source answered with data that cannot be loaded as it is; retrying will not help."""


class SchemaDriftError(SourceDataError):
    """The source renamed, dropped or added a field, column or sheet the registry names."""


class Connector(Protocol):
    def pages(self, entity: Entity, window: tuple[date, date] | None) -> Iterator[Page]:
        """Every page of ``entity``: for ``window`` [start, end) if it is dated, else the whole snapshot."""


@dataclass(frozen=True)
class Endpoint:
    """Where a source is and how to sign in: the fields of an Airflow connection."""

    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = None
    schema: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    #: What was asked for: a request URL, a query, or a file with its SHA-256.
    request: str
    records: list[dict]


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, clock.min, config.LOCAL_TIMEZONE)


def record_key(entity: Entity, record: object) -> tuple | None:
    return tuple(map(record.get, entity.key)) if isinstance(record, dict) else None


def _with_retries(what: str, attempt: Callable[[], tuple[object | None, str]], max_attempts: int,
                  backoff_s: float) -> object:
    """Call ``attempt`` until it returns a result, sleeping backoff_s, 2·backoff_s, … between tries."""
    for number in range(1, max_attempts + 1):
        result, problem = attempt()
        if result is not None:
            return result
        if number == max_attempts:
            raise SourceUnavailable(f"{what} failed after {number} attempts: {problem}")
        delay = backoff_s * 2 ** (number - 1)
        log.warning("%s: %s; retry %d/%d in %.1fs", what, problem, number, max_attempts - 1, delay)
        time.sleep(delay)
    raise AssertionError("unreachable")


@dataclass
class HttpApiConnector:
    """Page-numbered JSON API behind a bearer token (the integration platform's REST services)."""

    base_url: str
    token: str
    timeout_s: float = 30.0
    max_attempts: int = 5
    backoff_s: float = 1.0
    page_size: int = 5000
    session: requests.Session | None = None

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.session = self.session or requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        self.session.headers["Accept"] = "application/json"

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint) -> HttpApiConnector:
        if not endpoint.host or not endpoint.password:
            raise ValueError("an HTTP source's connection needs a host and the bearer token as its password")
        port = f":{endpoint.port}" if endpoint.port else ""
        options = {name: type_(endpoint.extra[name]) for name, type_ in
                   (("timeout_s", float), ("max_attempts", int), ("backoff_s", float), ("page_size", int))
                   if name in endpoint.extra}
        return cls(base_url=f"{endpoint.schema or 'https'}://{endpoint.host}{port}", token=endpoint.password,
                   **options)

    def _attempt(self, url: str) -> tuple[dict | None, str]:
        """One request: the body, or None and why asking again may help."""
        try:
            response = self.session.get(url, timeout=self.timeout_s)
        except (requests.ConnectionError, requests.Timeout) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        if response.status_code in RETRYABLE_STATUS:
            return None, f"HTTP {response.status_code}"
        if response.status_code != 200:
            # Asking again cannot help: wrong credentials, a moved endpoint or a refused parameter.
            raise SourceDataError(f"GET {url} answered {response.status_code}: {response.text[:300]}")
        try:
            return response.json(), ""
        except ValueError as exc:  # a truncated or garbled body
            return None, f"invalid JSON: {exc}"

    def _get_page(self, entity: Entity, path: str, params: dict, seen: set) -> dict:
        """One page; a page whose records were all served before (a page delivered twice) is asked for again."""
        url = f"{self.base_url}{path}?{urlencode(params)}"

        def attempt() -> tuple[dict | None, str]:
            body, problem = self._attempt(url)
            if body is None:
                return None, problem
            keys = [record_key(entity, record) for record in body.get("data", [])]
            if keys and all(key in seen for key in keys):
                return None, f"the page repeats {len(keys)} records already received"
            seen.update(keys)
            return body, ""

        return _with_retries(f"GET {url}", attempt, self.max_attempts, self.backoff_s)

    def pages(self, entity: Entity, window: tuple[date, date] | None) -> Iterator[Page]:
        """Every page of ``entity``; ``window`` is [start, end) for dated entities."""
        params: dict = {"page_size": self.page_size}
        if window is not None:
            start, end = window
            params["from_date"] = start.isoformat()
            params["to_date"] = (end - timedelta(days=1)).isoformat()  # the API's range is inclusive
        page_number, received, total, seen = 1, 0, None, set()
        while page_number is not None:
            params["page"] = page_number
            body = self._get_page(entity, entity.path, params, seen)
            if total is not None and body["total"] != total:
                raise SourceUnavailable(f"{entity.path}: the total changed from {total} to {body['total']} "
                                        "while paging; the source changed under the extract, run it again")
            total = body["total"]
            received += len(body["data"])
            yield Page(f"GET {entity.path}?{urlencode(params)}", body["data"])
            next_page = body.get("next_page")
            if next_page is not None and next_page <= page_number:
                raise SourceUnavailable(f"{entity.path}: next_page {next_page} does not advance past {page_number}")
            page_number = next_page
        if total is not None and received != total:
            raise SourceUnavailable(f"{entity.path}: {received} records received but the source announced {total}")


@dataclass
class CursorApiConnector(HttpApiConnector):
    """A JSON change feed read with an ``updated_since`` / ``updated_before`` window and an opaque cursor.

    Snapshot entities (without a date field) are page-numbered like :class:`HttpApiConnector`.
    """

    page_size: int = 1000

    def pages(self, entity: Entity, window: tuple[date, date] | None) -> Iterator[Page]:
        if window is None:
            yield from super().pages(entity, window)
            return
        bounds = {"updated_since": local_midnight(window[0]).isoformat(),
                  "updated_before": local_midnight(window[1]).isoformat(), "limit": min(self.page_size, 1000)}
        cursor, seen = None, set()
        while True:
            params = {**bounds, **({"cursor": cursor} if cursor else {})}
            body = self._get_page(entity, entity.path, params, seen)
            yield Page(f"GET {entity.path}?{urlencode(params)}", body["data"])
            next_cursor = body.get("next_cursor")
            if not body.get("has_more"):
                return
            if not next_cursor:
                raise SourceUnavailable(f"{entity.path}: the source says there is more but sent no cursor")
            if next_cursor == cursor:
                raise SourceUnavailable(f"{entity.path}: the cursor does not advance ({cursor!r})")
            cursor = next_cursor


@dataclass
class PostgresKeysetConnector:
    """Read access to another agency's PostgreSQL database, paged by keyset under one snapshot.

    ``entity.path`` is ``schema.table``; rows come in (date field, key) order, a page at a time
    with ``where (…) > (last row)`` so no page is skipped or repeated however large the table. The
    whole extract runs in one read-only REPEATABLE READ transaction: every page sees the same data.
    """

    conninfo: dict
    page_size: int = 10_000
    statement_timeout_s: float = 120.0
    max_attempts: int = 5
    backoff_s: float = 1.0

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint) -> PostgresKeysetConnector:
        if not endpoint.host or not endpoint.schema:
            raise ValueError("a SQL source's connection needs a host and the database name as its schema")
        return cls({"host": endpoint.host, "port": endpoint.port or 5432, "user": endpoint.login or "",
                    "password": endpoint.password or "", "dbname": endpoint.schema, "connect_timeout": 10})

    def _connect(self):
        import psycopg

        def attempt():
            try:
                timeout_ms = int(self.statement_timeout_s * 1000)
                # Timestamps come out in the province's offset, as the product shows them.
                options = f"-c statement_timeout={timeout_ms} -c TimeZone={config.LOCAL_TIMEZONE.key}"
                conn = psycopg.connect(**self.conninfo, options=options)
            except psycopg.OperationalError as exc:
                return None, f"OperationalError: {str(exc).strip()}"
            conn.read_only = True
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            return conn, ""

        where = f"{self.conninfo['host']}:{self.conninfo['port']}/{self.conninfo['dbname']}"
        return _with_retries(f"connect to {where}", attempt, self.max_attempts, self.backoff_s)

    def pages(self, entity: Entity, window: tuple[date, date] | None) -> Iterator[Page]:
        import psycopg
        from psycopg import sql

        schema, table = entity.path.split(".")
        order = ((entity.date_field,) if window is not None else ()) + entity.key
        columns = sql.SQL(", ").join(map(sql.Identifier, entity.fields))
        order_by = sql.SQL(", ").join(map(sql.Identifier, order))
        conditions, bounds = [], []
        if window is not None:
            conditions.append(sql.SQL("{0} >= %s and {0} < %s").format(sql.Identifier(entity.date_field)))
            bounds = [local_midnight(window[0]), local_midnight(window[1])]
        after_last = sql.SQL("({}) > ({})").format(order_by, sql.SQL(", ").join(sql.Placeholder() * len(order)))
        last: tuple | None = None
        with self._connect() as conn:
            while True:
                where = conditions + ([after_last] if last is not None else [])
                query = sql.SQL("select {} from {} {} order by {} limit %s").format(
                    columns, sql.Identifier(schema, table),
                    sql.SQL("where ") + sql.SQL(" and ").join(where) if where else sql.SQL(""), order_by)
                params = [*bounds, *(last or ()), self.page_size]
                try:
                    cursor = conn.execute(query, params)
                except (psycopg.errors.UndefinedColumn, psycopg.errors.UndefinedTable) as exc:
                    raise SchemaDriftError(
                        f"{entity.path}: {exc.diag.message_primary}; the registry expects columns "
                        f"{', '.join(entity.fields)}") from exc
                names = [column.name for column in cursor.description]
                rows = cursor.fetchall()
                records = [{name: json_value(value) for name, value in zip(names, row, strict=True)}
                           for row in rows]
                request = query.as_string(conn)
                yield Page(f"{request} -- params {[json_value(p) for p in params]}", records)
                if len(rows) < self.page_size:
                    return
                last = tuple(rows[-1][names.index(name)] for name in order)


@dataclass(frozen=True)
class Delivery:
    """The file chosen for one day or month of a file drop, and the copies set aside."""

    path: Path
    sha256: str
    ignored: tuple[str, ...]
    #: The file's bytes, read once to compare the copies and kept for the connector to parse.
    content: bytes = field(repr=False, default=b"")

    @property
    def request(self) -> str:
        note = f" (ignored: {', '.join(self.ignored)})" if self.ignored else ""
        return f"file {self.path.name} sha256:{self.sha256}{note}"


def choose_delivery(folder: Path, expected_name: str) -> Delivery:
    """Pick the file to load among what was delivered for one name.

    A byte-identical second copy ("name (1).csv") is ignored; a revision ("name_v2.csv") replaces
    the original; two different files claiming the same version are refused.
    """
    stem, suffix = Path(expected_name).stem, Path(expected_name).suffix
    candidates = sorted(path for path in folder.glob(f"{stem}*{suffix}")
                        if REVISION_SUFFIX.sub("", COPY_SUFFIX.sub("", path.stem)) == stem)
    if not candidates:
        raise SourceUnavailable(f"{folder / expected_name}: the file has not been delivered")
    by_content: dict[str, list[Path]] = {}
    contents: dict[str, bytes] = {}
    for path in candidates:
        content = path.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        by_content.setdefault(digest, []).append(path)
        contents[digest] = content

    def version(path: Path) -> int:
        match = REVISION_SUFFIX.search(COPY_SUFFIX.sub("", path.stem))
        return int(match.group(1)) if match else 1

    versions = {digest: max(version(path) for path in paths) for digest, paths in by_content.items()}
    latest = max(versions.values())
    newest = [digest for digest, number in versions.items() if number == latest]
    if len(newest) > 1:
        names = sorted(path.name for digest in newest for path in by_content[digest])
        raise SourceDataError(f"{folder}: different files claim to be version {latest} of {expected_name}: "
                              f"{', '.join(names)}; remove the wrong one")
    chosen = min(by_content[newest[0]], key=lambda path: (len(path.name), path.name))
    ignored = tuple(path.name for path in candidates if path != chosen)
    return Delivery(chosen, newest[0], ignored, contents[newest[0]])


def _typed(kind: str, text: str) -> object:
    """A cell as the registry's kind: integers and dd/mm/yyyy dates converted, anything else left as sent."""
    text = text.strip()
    if text == "":
        return None
    base = kind.rstrip("?")
    if base == INT and re.fullmatch(r"-?\d+", text):
        return int(text)
    if base == DATE:
        try:
            return datetime.strptime(text, "%d/%m/%Y").date().isoformat()
        except ValueError:
            return text
    return text


def check_columns(where: str, entity: Entity, found: list[str]) -> None:
    missing = [name for name in entity.fields if name not in found]
    if missing:
        extra = [name for name in found if name not in entity.fields]
        hint = f"; unexpected columns {extra} (renamed?)" if extra else ""
        raise SchemaDriftError(f"{where}: missing columns {missing}{hint}; found {found}")
    unexpected = [name for name in found if name not in entity.fields]
    if unexpected:
        log.warning("%s: new columns %s are kept in the raw payload but not used", where, unexpected)


@dataclass
class CsvDropConnector:
    """A landing folder with one CSV export per day (UTF-8, possibly with a BOM), as an SFTP drop leaves it.

    ``entity.path`` is the file-name pattern, formatted with ``day``. The row that says "Tổng cộng" is the
    export's control total: each numeric column must sum to it, and it is not loaded itself.
    """

    folder: Path
    TOTAL_LABEL: ClassVar[str] = "Tổng cộng"

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint) -> CsvDropConnector:
        if "path" not in endpoint.extra:
            raise ValueError("a file-drop source's connection needs the landing folder as extra.path")
        return cls(Path(endpoint.extra["path"]))

    def _read(self, entity: Entity, delivery: Delivery) -> list[dict]:
        try:
            text = delivery.content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SourceDataError(f"{delivery.path}: not UTF-8 ({exc}); the export's encoding changed") from None
        reader = csv.DictReader(io.StringIO(text))
        check_columns(str(delivery.path), entity, list(reader.fieldnames or []))
        numeric = [name for name, kind in entity.fields.items() if kind.rstrip("?") == INT]
        records, total_row = [], None
        for line, row in enumerate(reader, start=2):
            extra = row.pop(None, None)  # cells beyond the header: an unquoted comma, a shifted row
            if any((value or "").strip() == self.TOTAL_LABEL for value in row.values()):
                total_row = row
                continue
            record = {name: _typed(entity.fields.get(name, "text"), value or "") for name, value in row.items()}
            if extra:
                record[MALFORMED_FIELD] = f"{len(extra)} more cells than the header: {extra}"
            records.append({**record, "_file": delivery.path.name, "_line": line})
        if total_row is None:
            # The control row comes last: without it the file may be cut short (an upload still running).
            raise SourceUnavailable(f"{delivery.path}: no '{self.TOTAL_LABEL}' control row; the file may be "
                                    "incomplete")
        # A malformed cell or a shifted row leaves the sums unknown; those rows are quarantined and reported anyway.
        shifted = any(MALFORMED_FIELD in record for record in records)
        for name in numeric:
            stated = _typed(INT, total_row[name] or "")
            values = [record.get(name) for record in records]
            if not shifted and all(isinstance(value, int) for value in values) and sum(values) != stated:
                raise SourceDataError(f"{delivery.path}: column {name!r} sums to {sum(values)} but the "
                                      f"control total row says {stated}; the export is incomplete or altered")
        return records

    def pages(self, entity: Entity, window: tuple[date, date] | None) -> Iterator[Page]:
        if window is None:
            raise ValueError(f"{entity.name}: a daily file drop is read for a window of days")
        for day in days_between(*window):
            delivery = choose_delivery(self.folder, entity.path.format(day=day))
            if delivery.ignored:
                log.warning("%s: set aside %s", delivery.path.name, ", ".join(delivery.ignored))
            yield Page(delivery.request, self._read(entity, delivery))


@dataclass
class XlsxDropConnector:
    """A landing folder with one Excel workbook per month, one sheet per entity (``entity.path``).

    Sheets open with title rows; the header row is the first whose first cell is "STT" (the
    row-number column, which is not loaded). Every record is stamped with the report month's last
    day (``REGISTER_MONTH_FIELD``), which dates it for windows and replacement; a month's
    workbook is loaded only when the window covers its last day.
    """

    folder: Path
    file_pattern: str = "SoTTTT_BaoCao_{month:%Y_%m}.xlsx"
    HEADER_SEARCH_ROWS: ClassVar[int] = 15

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint) -> XlsxDropConnector:
        if "path" not in endpoint.extra:
            raise ValueError("a file-drop source's connection needs the landing folder as extra.path")
        return cls(Path(endpoint.extra["path"]), endpoint.extra.get("file_pattern", cls.file_pattern))

    def _sheet_records(self, entity: Entity, delivery: Delivery, month: date) -> list[dict]:
        from zipfile import BadZipFile

        import openpyxl

        try:
            workbook = openpyxl.load_workbook(io.BytesIO(delivery.content), read_only=True, data_only=True)
        except (BadZipFile, OSError) as exc:
            raise SourceUnavailable(
                f"{delivery.path}: not a complete workbook ({exc}); still being uploaded?") from None
        try:
            if entity.path not in workbook.sheetnames:
                raise SchemaDriftError(f"{delivery.path.name}: no sheet {entity.path!r}; sheets are "
                                       f"{workbook.sheetnames}")
            rows = workbook[entity.path].iter_rows(values_only=True)
            header, header_row = None, 0
            for header_row, row in enumerate(rows, start=1):
                if row and isinstance(row[0], str) and row[0].strip() == "STT":
                    header = [str(cell).strip() if cell is not None else "" for cell in row]
                    break
                if header_row >= self.HEADER_SEARCH_ROWS:
                    break
            if header is None:
                raise SchemaDriftError(f"{delivery.path.name} sheet {entity.path!r}: no header row starting "
                                       f"with 'STT' in the first {self.HEADER_SEARCH_ROWS} rows")
            check_columns(f"{delivery.path.name} sheet {entity.path!r}", entity,
                          [name for name in header[1:] if name] + [REGISTER_MONTH_FIELD])
            records = []
            for number, row in enumerate(rows, start=header_row + 1):
                if all(cell is None or str(cell).strip() == "" for cell in row):
                    continue
                record = {name: _cell_value(entity.fields.get(name, "text"), cell)
                          for name, cell in zip(header[1:], row[1:], strict=False) if name}
                record[REGISTER_MONTH_FIELD] = month_end(month).isoformat()
                records.append({**record, "_file": delivery.path.name, "_row": number})
            return records
        finally:
            workbook.close()

    def pages(self, entity: Entity, window: tuple[date, date] | None) -> Iterator[Page]:
        if window is None:
            raise ValueError(f"{entity.name}: a monthly workbook drop is read for a window of months")
        for month in month_starts(window[0], window[1] - timedelta(days=1)):
            if not window[0] <= month_end(month) < window[1]:
                continue
            delivery = choose_delivery(self.folder, self.file_pattern.format(month=month))
            yield Page(f"{delivery.request} sheet {entity.path!r}", self._sheet_records(entity, delivery, month))


def _cell_value(kind: str, cell: object) -> object:
    """An Excel cell as JSON carries it: date cells as ISO dates, whole numbers as integers."""
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    if isinstance(cell, str):
        return _typed(kind, cell)
    return cell


CONNECTORS: dict[str, type] = {
    "http_paged": HttpApiConnector,
    "http_cursor": CursorApiConnector,
    "postgres_keyset": PostgresKeysetConnector,
    "csv_drop": CsvDropConnector,
    "xlsx_drop": XlsxDropConnector,
}


def connector_for(name: str, endpoint: Endpoint) -> Connector:
    try:
        connector_class = CONNECTORS[name]
    except KeyError:
        raise KeyError(f"unknown connector {name!r}; known: {', '.join(sorted(CONNECTORS))}") from None
    return connector_class.from_endpoint(endpoint)
