"""File drops: a landing folder that an agency fills with one export per day (CSV) or per month (Excel).

A delivery can arrive twice, be revised or be cut short; :func:`choose_delivery` picks the file to load
and the connectors refuse one that is incomplete or does not match the registry's columns. A landing folder
is written by others, so what is found there is checked before it is believed: a symbolic link, a folder, a
pipe or a device is refused (checked on the opened file, so that nothing can be swapped in between the check
and the read), and so are files past the size caps, text that is not UTF-8 or holds NUL characters, CSV the
csv module cannot parse, and workbooks that are not zip archives or that would unpack past their cap.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import logging
import os
import re
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import ClassVar
from zipfile import ZIP_DEFLATED, ZIP_STORED, BadZipFile, ZipFile

from egov.core.periods import days_between, month_end, month_starts
from egov.core.sources import DATE, INT, REGISTER_MONTH_FIELD, RESERVED_PREFIX, Entity
from egov.ingest.connectors.base import Endpoint, Page
from egov.ingest.errors import SchemaDriftError, SourceDataError, SourceUnavailable
from egov.ingest.records import MALFORMED_FIELD

log = logging.getLogger(__name__)

#: File deliveries: the original a revision replaces is version 1; "name_v2.csv" is version 2.
REVISION_SUFFIX = re.compile(r"_v(\d+)$")
#: What file managers and SFTP clients call a second copy of a file: "name (1).csv".
COPY_SUFFIX = re.compile(r" \(\d+\)$")
#: A delivery larger than this is refused. The largest here are 6 kB (a day of the mail export) and 13 kB (a month
#: of the registers' workbook); 64 MiB is thousands of times that, and a file is read whole into memory.
MAX_FILE_BYTES = 64 * 2**20
#: What a workbook may unpack to, its members together. The registers' workbooks unpack 4 times (13 kB to 48 kB) and
#: worksheet XML rarely more than 20 times; a zip bomb declares far more. zipfile never inflates a member past the
#: size it declares (it stops there and fails the CRC check), so the declared sizes bound what openpyxl can read.
MAX_UNPACKED_BYTES = 512 * 2**20
#: How a zip archive, and so an .xlsx workbook, begins: a local file header.
ZIP_MAGIC = b"PK\x03\x04"


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


def _kind_of(mode: int) -> str:
    kinds = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``max_bytes`` in the landing folder.

    A symbolic link there could make the pipeline read (and land in raw) any file this machine lets it read, a
    pipe or a device could block it for ever: both are refused. The file is opened without following a link
    and without blocking, and what was opened is checked again, so a link swapped in after the first check is
    refused too.
    """
    try:
        found = path.lstat()
    except FileNotFoundError:
        raise SourceUnavailable(f"{path}: removed while the delivery was being read; run the extract again") from None
    if not stat.S_ISREG(found.st_mode):
        target = f" to {os.readlink(path)}" if stat.S_ISLNK(found.st_mode) else ""
        raise SourceDataError(f"{path}: {_kind_of(found.st_mode)}{target}, not a regular file; a landing folder "
                              "takes files only, remove it")
    if found.st_size > max_bytes:
        raise SourceDataError(f"{path}: {found.st_size:,} bytes, more than the cap of {max_bytes:,} "
                              "(max_file_bytes in the connection's extra)")
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SourceDataError(f"{path}: became a symbolic link while being read; remove it") from None
        if exc.errno == errno.ENOENT:
            raise SourceUnavailable(f"{path}: removed while being read; run the extract again") from None
        raise SourceDataError(f"{path}: cannot be opened: {exc.strerror}") from None
    with os.fdopen(descriptor, "rb") as handle:
        opened = os.fstat(handle.fileno())
        if not stat.S_ISREG(opened.st_mode):
            raise SourceDataError(f"{path}: became {_kind_of(opened.st_mode)} while being read; remove it")
        if (opened.st_dev, opened.st_ino) != (found.st_dev, found.st_ino):
            raise SourceUnavailable(f"{path}: replaced by another file while being read; run the extract again")
        content = handle.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise SourceDataError(f"{path}: grew past the cap of {max_bytes:,} bytes while being read "
                              "(max_file_bytes in the connection's extra)")
    return content


def choose_delivery(folder: Path, expected_name: str, max_bytes: int = MAX_FILE_BYTES) -> Delivery:
    """Pick the file to load among what was delivered for one name.

    A byte-identical second copy ("name (1).csv") is ignored; a revision ("name_v2.csv") replaces
    the original; two different files claiming the same version are refused. Every candidate must be a
    regular file of at most ``max_bytes`` (:func:`read_regular_file`).
    """
    stem, suffix = Path(expected_name).stem, Path(expected_name).suffix
    candidates = sorted(path for path in folder.glob(f"{stem}*{suffix}")
                        if REVISION_SUFFIX.sub("", COPY_SUFFIX.sub("", path.stem)) == stem)
    if not candidates:
        raise SourceUnavailable(f"{folder / expected_name}: the file has not been delivered")
    by_content: dict[str, list[Path]] = {}
    contents: dict[str, bytes] = {}
    for path in candidates:
        content = read_regular_file(path, max_bytes)
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


def _typed(kind: str, text: str) -> int | str | None:
    """A cell as the registry's kind: integers and dd/mm/yyyy dates converted, anything else left as sent."""
    text = text.strip()
    if text == "":
        return None
    base = kind.rstrip("?")
    if base == INT and re.fullmatch(r"-?\d+", text):
        try:
            return int(text)
        except ValueError:  # more digits than int() reads (4,300): left as sent, for the record rules to refuse
            return text
    if base == DATE:
        try:
            return datetime.strptime(text, "%d/%m/%Y").date().isoformat()
        except ValueError:
            return text
    return text


def _cell_value(kind: str, cell: object) -> object:
    """An Excel cell as JSON carries it: date cells as ISO dates, whole numbers as integers, time-of-day and duration
    cells (which JSON cannot hold as they are) as their text."""
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date | time):
        return cell.isoformat()
    if isinstance(cell, timedelta):
        return str(cell)
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    if isinstance(cell, str):
        return _typed(kind, cell)
    return cell


def check_columns(where: str, entity: Entity, found: list[str]) -> None:
    reserved = [name for name in found if name.startswith(RESERVED_PREFIX)]
    if reserved:  # the connector's own _file, _line or _row would silently replace what the column holds
        raise SchemaDriftError(f"{where}: columns {reserved} start with {RESERVED_PREFIX!r}, which is reserved for "
                               "what the connector adds; a source may not send them")
    missing = [name for name in entity.fields if name not in found]
    if missing:
        extra = [name for name in found if name not in entity.fields]
        hint = f"; unexpected columns {extra} (renamed?)" if extra else ""
        raise SchemaDriftError(f"{where}: missing columns {missing}{hint}; found {found}")
    unexpected = [name for name in found if name not in entity.fields]
    if unexpected:
        log.warning("%s: new columns %s are kept in the raw payload but not used", where, unexpected)


def _landing_folder(endpoint: Endpoint) -> Path:
    if "path" not in endpoint.extra:
        raise ValueError("a file-drop source's connection needs the landing folder as extra.path")
    return Path(endpoint.extra["path"])


def _settings(endpoint: Endpoint, names: dict[str, type]) -> dict:
    """The connection's extra settings among ``names``, converted to their types."""
    return {name: kind(endpoint.extra[name]) for name, kind in names.items() if name in endpoint.extra}


def decoded_csv(path: Path, content: bytes) -> str:
    """A CSV delivery's text: strict UTF-8, a leading byte-order mark dropped (Excel's "CSV UTF-8" writes one),
    not a binary file or UTF-16 without its mark (NULs in the header or in more than 1% of the characters)."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceDataError(f"{path}: not UTF-8: it starts with a UTF-16 byte-order mark; the export must be "
                              "saved as CSV UTF-8")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise SourceDataError(f"{path}: not UTF-8 at line {line} (byte {exc.start:,}: {exc.reason}); the "
                              "export's encoding changed") from None
    nuls = text.count("\x00")
    header = text[:text.find("\n")] if "\n" in text else text
    # A binary file, or UTF-16 without its mark, has NULs everywhere (the header included): the file is refused.
    # A NUL in one cell is that record's problem: the record rules quarantine it and the rest of the file loads.
    if nuls and ("\x00" in header or nuls * 100 > len(text)):
        nul = text.find("\x00")
        raise SourceDataError(f"{path}: line {text.count(chr(10), 0, nul) + 1} holds a NUL character "
                              f"({nuls:,} in the file); not a text export")
    return text


@dataclass
class CsvDropConnector:
    """A landing folder with one CSV export per day (UTF-8, possibly with a BOM), as an SFTP drop leaves it.

    ``entity.path`` is the file-name pattern, formatted with ``day``. The export ends with a control row, the one
    whose ``control_column`` holds ``control_label``: each numeric column must sum to it, and it is not loaded
    itself. It is found by that column only, so a unit whose code or note happens to read "Tổng cộng" stays a
    unit; it must be the last row. The defaults are the mail system's export (the unit-name column says
    "Tổng cộng"); the connection's extra can change them and the size cap (``max_file_bytes``).
    """

    folder: Path
    control_column: str = "Tên đơn vị"
    control_label: str = "Tổng cộng"
    max_file_bytes: int = MAX_FILE_BYTES

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint) -> CsvDropConnector:
        return cls(_landing_folder(endpoint), **_settings(
            endpoint, {"control_column": str, "control_label": str, "max_file_bytes": int}))

    def _read(self, entity: Entity, delivery: Delivery) -> list[dict]:
        reader = csv.DictReader(io.StringIO(decoded_csv(delivery.path, delivery.content), newline=""), strict=True)
        try:
            self._check_header(entity, delivery.path, list(reader.fieldnames or []))
            records, control = [], None
            for line, row in enumerate(reader, start=2):
                extra = row.pop(None, None)  # cells beyond the header: an unquoted comma, a shifted row
                if control is not None:
                    if extra or any((value or "").strip() for value in row.values()):
                        raise SourceDataError(f"{delivery.path}: line {line} follows the control row (line "
                                              f"{control[0]}), which must be the last")
                elif (row[self.control_column] or "").strip() == self.control_label:
                    control = (line, row)
                else:
                    record = {name: _typed(entity.fields.get(name, "text"), value or "")
                              for name, value in row.items()}
                    if extra:
                        record[MALFORMED_FIELD] = f"{len(extra)} more cells than the header: {extra}"
                    records.append({**record, "_file": delivery.path.name, "_line": line})
        except csv.Error as exc:  # a broken quote, a cell past the csv module's field limit
            raise SourceDataError(f"{delivery.path}: line {reader.reader.line_num} is not CSV: {exc}") from None
        if control is None:
            # The control row comes last: without it the file may be cut short (an upload still running).
            raise SourceUnavailable(f"{delivery.path}: no '{self.control_label}' control row (column "
                                    f"{self.control_column!r}); the file may be incomplete")
        _check_control_totals(delivery.path, entity, records, control[1])
        return records

    def _check_header(self, entity: Entity, path: Path, header: list[str]) -> None:
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise SchemaDriftError(f"{path}: columns {repeated} appear more than once in the header; found {header}")
        check_columns(str(path), entity, header)
        if self.control_column not in header:
            raise SchemaDriftError(f"{path}: no column {self.control_column!r}, where the control row says "
                                   f"'{self.control_label}'; found {header}")

    def pages(self, entity: Entity, window: tuple[date, date] | None) -> Iterator[Page]:
        if window is None:
            raise ValueError(f"{entity.name}: a daily file drop is read for a window of days")
        for day in days_between(*window):
            delivery = choose_delivery(self.folder, entity.path.format(day=day), self.max_file_bytes)
            if delivery.ignored:
                log.warning("%s: set aside %s", delivery.path.name, ", ".join(delivery.ignored))
            yield Page(delivery.request, self._read(entity, delivery))


def _check_control_totals(path: Path, entity: Entity, records: list[dict], control_row: dict) -> None:
    """Each numeric column of ``records`` must sum to what the control row states."""
    # A malformed cell or a shifted row leaves the sums unknown; those rows are quarantined and reported anyway.
    if any(MALFORMED_FIELD in record for record in records):
        return
    for name in (name for name, kind in entity.fields.items() if kind.rstrip("?") == INT):
        stated = _typed(INT, control_row[name] or "")
        values = [record.get(name) for record in records]
        numbers = [value for value in values if isinstance(value, int)]
        if len(numbers) == len(values) and sum(numbers) != stated:
            raise SourceDataError(f"{path}: column {name!r} sums to {sum(numbers)} but the control total row "
                                  f"says {stated}; the export is incomplete or altered")


#: What openpyxl raises, in our measurements, on a workbook that is a zip archive but not a sound workbook: a member
#: missing (KeyError), XML that does not parse (ParseError, a SyntaxError), deflate data or a CRC that is wrong
#: (zlib.error, EOFError, BadZipFile), a cell reference or value it cannot read (ValueError, TypeError, OverflowError).
_WORKBOOK_ERRORS = (BadZipFile, zlib.error, EOFError, KeyError, IndexError, ValueError, TypeError, OverflowError,
                    SyntaxError)


def check_workbook_archive(path: Path, content: bytes, max_unpacked_bytes: int) -> None:
    """Refuse a workbook that is not a zip archive, that would unpack past ``max_unpacked_bytes``, or whose members
    zipfile cannot read (encrypted, or compressed other than deflated or stored, as Excel never writes them).

    An empty file, or one that begins as a zip archive but has no end yet, is taken for an upload still running
    (:class:`SourceUnavailable`); anything else is not a workbook at all.
    """
    if content and not ZIP_MAGIC.startswith(content[:4]):
        raise SourceDataError(f"{path}: not an Excel workbook (an .xlsx file is a zip archive, this one begins "
                              f"{content[:8]!r})")
    try:
        archive = ZipFile(io.BytesIO(content))
    except (BadZipFile, EOFError, ValueError) as exc:
        raise SourceUnavailable(f"{path}: not a complete workbook ({exc}); still being uploaded?") from None
    with archive:
        members = archive.infolist()
    unreadable = [member.filename for member in members
                  if member.flag_bits & 0x1 or member.compress_type not in (ZIP_STORED, ZIP_DEFLATED)]
    if unreadable:
        raise SourceDataError(f"{path}: members {unreadable[:5]} are encrypted or compressed in a way Excel does not "
                              "write; not a workbook to load")
    unpacked = sum(member.file_size for member in members)
    if unpacked > max_unpacked_bytes:
        raise SourceDataError(f"{path}: the workbook's {len(members):,} members unpack to {unpacked:,} bytes, more "
                              f"than the cap of {max_unpacked_bytes:,} (max_unpacked_bytes in the connection's "
                              "extra); refused as a zip bomb")


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
    max_file_bytes: int = MAX_FILE_BYTES
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES
    HEADER_SEARCH_ROWS: ClassVar[int] = 15

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint) -> XlsxDropConnector:
        return cls(_landing_folder(endpoint), **_settings(
            endpoint, {"file_pattern": str, "max_file_bytes": int, "max_unpacked_bytes": int}))

    def _sheet_records(self, entity: Entity, delivery: Delivery, month: date) -> list[dict]:
        import openpyxl

        check_workbook_archive(delivery.path, delivery.content, self.max_unpacked_bytes)
        where = f"{delivery.path.name} sheet {entity.path!r}"
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(delivery.content), read_only=True, data_only=True)
            try:
                if entity.path not in workbook.sheetnames:
                    raise SchemaDriftError(f"{delivery.path.name}: no sheet {entity.path!r}; sheets are "
                                           f"{workbook.sheetnames}")
                # Read-only sheets are parsed while they are iterated: a broken one fails here, not at the load.
                return self._rows_as_records(entity, where, workbook[entity.path].iter_rows(values_only=True),
                                             delivery.path.name, month)
            finally:
                workbook.close()
        except SourceDataError:
            raise
        except _WORKBOOK_ERRORS as exc:
            raise SourceDataError(f"{delivery.path}: sheet {entity.path!r} cannot be read as a workbook: "
                                  f"{type(exc).__name__}: {exc}") from None

    def _rows_as_records(self, entity: Entity, where: str, rows: Iterator[tuple], file_name: str,
                         month: date) -> list[dict]:
        """The rows under the header row (the first whose first cell is "STT") as records."""
        header, header_row = None, 0
        for header_row, row in enumerate(rows, start=1):
            if row and isinstance(row[0], str) and row[0].strip() == "STT":
                header = [str(cell).strip() if cell is not None else "" for cell in row]
                break
            if header_row >= self.HEADER_SEARCH_ROWS:
                break
        if header is None:
            raise SchemaDriftError(f"{where}: no header row starting with 'STT' in the first "
                                   f"{self.HEADER_SEARCH_ROWS} rows")
        check_columns(where, entity, [name for name in header[1:] if name] + [REGISTER_MONTH_FIELD])
        records = []
        for number, row in enumerate(rows, start=header_row + 1):
            if all(cell is None or str(cell).strip() == "" for cell in row):
                continue
            record = {name: _cell_value(entity.fields.get(name, "text"), cell)
                      for name, cell in zip(header[1:], row[1:], strict=False) if name}
            record[REGISTER_MONTH_FIELD] = month_end(month).isoformat()
            records.append({**record, "_file": file_name, "_row": number})
        return records

    def pages(self, entity: Entity, window: tuple[date, date] | None) -> Iterator[Page]:
        if window is None:
            raise ValueError(f"{entity.name}: a monthly workbook drop is read for a window of months")
        for month in month_starts(window[0], window[1] - timedelta(days=1)):
            if not window[0] <= month_end(month) < window[1]:
                continue
            delivery = choose_delivery(self.folder, self.file_pattern.format(month=month), self.max_file_bytes)
            yield Page(f"{delivery.request} sheet {entity.path!r}", self._sheet_records(entity, delivery, month))
