"""Land a source's records in ``raw`` as one audited batch per entity and window.

A load is one transaction: the batch row in ``audit.load_batches``, the
removal of the rows of the same days (or the whole snapshot, for reference
data) that earlier batches loaded, the new rows through ``COPY``, and the
records that failed validation in ``audit.rejected_records``. Re-running a
window therefore replaces it; nothing is counted twice and nothing is lost.
The source is read inside that transaction, under the raw table's load lock,
so that of two loads of one window the one that read the source last commits last.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import psycopg
from psycopg import sql

from egov.core import sources
from egov.core.rows import one_row
from egov.core.run_context import OUTSIDE_AIRFLOW, RunContext
from egov.core.warehouse import missing_raw_table
from egov.ingest.connectors.base import Connector, Page
from egov.ingest.errors import SourceDataError
from egov.ingest.payloads import escaped_json, unstorable
from egov.ingest.records import DELIVERY_FIELDS, RecordChecker, check_schema, record_key
from egov.openlineage import runs

log = logging.getLogger(__name__)


class WarehouseFull(RuntimeError):
    """The warehouse ran out of disk space during a load, which was rolled back."""


#: A reference snapshot may not lose more than this share of the rows of the one it replaces unless an operator
#: says so: an empty or half answer from a source (a filter gone wrong, an outage answered with 200) would
#: otherwise delete the units, procedures or agencies every fact is joined to.
SNAPSHOT_SHRINK_LIMIT = 0.5


class SnapshotShrinkRefused(SourceDataError):
    """A snapshot came back much smaller than the one it would replace; nothing was loaded."""


def _check_snapshot_size(raw_table: str, previous: int, accepted: int, accept_shrink: bool) -> None:
    if accept_shrink or previous == 0 or accepted >= previous * (1 - SNAPSHOT_SHRINK_LIMIT):
        return
    raise SnapshotShrinkRefused(
        f"the snapshot of {raw_table} came back with {accepted} rows against {previous} in the one it would "
        f"replace (more than {SNAPSHOT_SHRINK_LIMIT:.0%} fewer); nothing was loaded. If the source really has "
        "fewer, load it again with accept_shrink (the extract DAG's conf: {\"accept_shrink\": true})")


@contextmanager
def _rolled_back_if_disk_full(raw_table: str, window: tuple[date, date] | None) -> Iterator[None]:
    """Turn PostgreSQL's disk_full error inside a load's transaction into one clear message."""
    try:
        yield
    except psycopg.errors.DiskFull as full:
        what = f"{raw_table} for {window[0]} .. {window[1]}" if window else f"the snapshot of {raw_table}"
        raise WarehouseFull(
            f"the warehouse ran out of disk space loading {what} ({full.diag.message_primary}). The load was "
            f"rolled back: {raw_table} holds what it held before and no batch was recorded, and the source "
            "still has the records. Free space or grow the tablespace, then run the extract again."
        ) from full


@dataclass(frozen=True)
class LoadResult:
    batch_id: uuid.UUID
    raw_table: str
    window: tuple[date, date] | None
    pages: int
    row_count: int
    rejected_count: int
    replaced_rows: int
    checksum: str


_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
# json.dumps, and JSONEncoder.encode too, build their C encoder anew for every call: a third of the time it takes
# to encode a small record, which a load of a million records feels. Here it is built once, with the same
# settings (so the same text and the same checksums), without the check for circular references: records
# parsed from JSON, CSV or database rows cannot hold one.
# (getattr: typeshed leaves out c_make_encoder, which is None in a Python without the C accelerator.)
_MAKE_C_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODER = _MAKE_C_ENCODER and _MAKE_C_ENCODER(
    None, _CANONICAL_JSON.default, json.encoder.encode_basestring, None, _CANONICAL_JSON.key_separator,
    _CANONICAL_JSON.item_separator, True, False, True)


def canonical_json(record: object) -> str:
    """``record`` as the raw payload and the checksum hold it: ``json.dumps`` with sorted keys, no spaces and
    non-ASCII letters as they are."""
    if _C_ENCODER is None:  # a Python without the json module's C accelerator
        return _CANONICAL_JSON.encode(record)
    return "".join(_C_ENCODER(record, 0))


#: Rows per write of a load's COPY: the server parses one block while the next is formatted.
COPY_BLOCK_ROWS = 10_000
COPY_NULL = "\\N"


def copy_text(value: str) -> str:
    """``value`` as a column of COPY's text format. Canonical JSON holds no raw control characters (JSON
    escapes them), so tab and newline cannot occur; a backslash would start an escape and is doubled."""
    return value.replace("\\", "\\\\") if "\\" in value else value


def split_window(window: tuple[date, date], longest: timedelta) -> list[tuple[date, date]]:
    start, end = window
    if start >= end:
        raise ValueError(f"empty window: {start} .. {end} (end is exclusive)")
    chunks = []
    while start < end:
        chunk_end = min(start + longest, end)
        chunks.append((start, chunk_end))
        start = chunk_end
    return chunks


def _quarantined_payload(record: object, reason: str) -> tuple[str, str]:
    """A rejected record's payload and reason as ``audit.rejected_records`` stores them: the record as sent if
    PostgreSQL can hold it, else escaped (``escaped_json``), which the reason then says."""
    if unstorable(record) is None:
        return canonical_json(record), reason
    return escaped_json(record), f"{reason} (kept escaped: PostgreSQL cannot store the record as sent)"


class _BatchJudge:
    """Judges the records of one batch in source order and keeps the verdict: the rows to load as COPY text,
    the records rejected with their reasons, and the checksum of everything received.

    The checksum is a line of canonical JSON per record, in source order; each record is serialised once for
    it and for its row (or, if PostgreSQL cannot store it as sent, escaped for it and for its quarantine). The
    counts and the checksum are final once :meth:`copy_blocks` has been read to the end.
    """

    def __init__(self, entity: sources.Entity, window: tuple[date, date] | None, records: list):
        self.entity, self.records = entity, records
        self.row_count = 0
        #: (record index, reason, payload) of each record kept out of the raw table.
        self.rejected: list[tuple[int, str, str]] = []
        self._checker = RecordChecker(entity, window)
        self._digest = hashlib.sha256()
        self._first_with_key: dict[tuple, int] = {}

    @property
    def checksum(self) -> str:
        return self._digest.hexdigest()

    def copy_blocks(self, batch_id: uuid.UUID, loaded_at: datetime) -> Iterator[str]:
        """The accepted records as COPY text, a block at a time, judged as they are sent: the server stores one
        block while the next is encoded, checked and hashed."""
        batch_column, loaded_at_column = f"{batch_id}\t", f"\t{loaded_at.isoformat()}\n"
        for start in range(0, len(self.records), COPY_BLOCK_ROWS):
            block = self._judge_block(range(start, min(start + COPY_BLOCK_ROWS, len(self.records))),
                                      batch_column, loaded_at_column)
            if block:
                yield block

    def _judge_block(self, indexes: range, batch_column: str, loaded_at_column: str) -> str:
        """The rows of the records at ``indexes`` that are accepted, as one block of COPY text; the others are
        kept as rejected, and every record goes into the checksum."""
        payloads, lines = [], []
        for index in indexes:
            record = self.records[index]
            reason = self._checker.reason(record)
            if reason is None:
                reason = self._duplicate_reason(index, record)
            if reason is None:
                payload = canonical_json(record)
                day = self._checker.day(record) if self.entity.date_field else None
                self.row_count += 1
                lines.append(f"{batch_column}{COPY_NULL if day is None else day.isoformat()}\t{index}\t"
                             f"{copy_text(payload)}{loaded_at_column}")
            else:
                payload, reason = _quarantined_payload(record, reason)
                self.rejected.append((index, reason, payload))
            payloads.append(payload)
        self._digest.update(("\n".join(payloads) + "\n").encode())
        return "".join(lines)

    def _duplicate_reason(self, index: int, record: dict) -> str | None:
        """Why a valid record is rejected all the same: an earlier record has its key. None if it is the first."""
        first = self._first_with_key.setdefault(record_key(self.entity, record), index)
        if first == index:
            return None
        earlier = self.records[first]
        same = {k: v for k, v in earlier.items() if k not in DELIVERY_FIELDS} == {
            k: v for k, v in record.items() if k not in DELIVERY_FIELDS}
        return f"{'repeats' if same else 'conflicts with'} record {first} (same {', '.join(self.entity.key)})"


def load_batch(
    conn: psycopg.Connection,
    source: sources.Source,
    entity: sources.Entity,
    window: tuple[date, date] | None,
    pages: Iterable[Page],
    run: RunContext = OUTSIDE_AIRFLOW,
    accept_shrink: bool = False,
) -> LoadResult:
    """Replace ``window`` of ``entity`` (or its whole snapshot) with ``pages`` in one transaction.

    A snapshot that lost more than ``SNAPSHOT_SHRINK_LIMIT`` of its rows is refused (and the previous one kept)
    unless ``accept_shrink``.

    The load is one OpenLineage job run ``extract.<source>.<entity>``, from the source's entity to the raw
    table: START before the pages are read, COMPLETE with the batch's counts once the transaction has
    committed, FAIL if anything raised.
    """
    batch_id = uuid.uuid4()
    raw_table = source.raw_table(entity)
    batch = runs.BatchRunFacet(
        batch_id=str(batch_id), source=source.key, entity=entity.name, raw_table=raw_table,
        window_start=window[0].isoformat() if window else None,
        window_end=window[1].isoformat() if window else None)
    with runs.job_run(
        f"extract.{source.key}.{entity.name}",
        inputs=[runs.source_dataset(source.key, entity.name)],
        outputs=[runs.warehouse_dataset(conn, raw_table)],
        facets=[batch],
        parent=run,
    ) as openlineage_run:
        result = _replace(conn, source, entity, window, pages, run, batch_id, accept_shrink)
        openlineage_run.update(runs.BatchRunFacet, row_count=result.row_count,
                       rejected_count=result.rejected_count, replaced_rows=result.replaced_rows,
                       checksum=result.checksum)
    return result


def _replace(
    conn: psycopg.Connection,
    source: sources.Source,
    entity: sources.Entity,
    window: tuple[date, date] | None,
    pages: Iterable[Page],
    run: RunContext,
    batch_id: uuid.UUID,
    accept_shrink: bool,
) -> LoadResult:
    """Read the pages and make the four writes of a load, in one transaction under the raw table's load lock:
    remove the window's rows, COPY the accepted records while they are judged, then the batch row with the
    counts and checksum, then the rejected records."""
    raw_table = source.raw_table(entity)
    with _rolled_back_if_disk_full(raw_table, window), conn.transaction():
        _lock_raw_table(conn, raw_table)
        fetched = list(pages)
        records = [record for page in fetched for record in page.records]
        check_schema(source, entity, records)
        judge = _BatchJudge(entity, window, records)
        (loaded_at,) = one_row(conn, "select clock_timestamp()")
        replaced = _delete_window(conn, raw_table, window)
        _copy_rows(conn, raw_table, judge.copy_blocks(batch_id, loaded_at))
        if window is None:
            _check_snapshot_size(raw_table, replaced, judge.row_count, accept_shrink)
        result = LoadResult(batch_id, raw_table, window, len(fetched), judge.row_count, len(judge.rejected),
                            replaced, judge.checksum)
        # The batch row comes after the raw rows, once its counts and checksum are known; their reference to it
        # is checked at commit (the foreign key is deferred), so that they could stream while they were judged.
        _insert_batch_row(conn, result, source, entity, _request_summary(fetched), run, loaded_at)
        _quarantine(conn, result.batch_id, source, entity, judge.rejected)
    log.info("loaded %s window=%s rows=%d rejected=%d replaced=%d batch=%s", raw_table, window,
             result.row_count, result.rejected_count, result.replaced_rows, batch_id)
    if judge.rejected:
        log.warning("%d records of %s rejected, kept in audit.rejected_records; first: %s",
                    len(judge.rejected), raw_table, judge.rejected[0][1])
    return result


def _request_summary(pages: list[Page]) -> str:
    """What the batch row says was asked for: the first page's request and how many pages followed it."""
    if not pages:
        return "nothing to read for this window"
    if len(pages) == 1:
        return pages[0].request
    return f"{pages[0].request} (+{len(pages) - 1} pages)"


def _raw_identifier(raw_table: str) -> sql.Identifier:
    schema, name = raw_table.split(".")
    return sql.Identifier(schema, name)


def _lock_raw_table(conn: psycopg.Connection, raw_table: str) -> None:
    """Take the raw table's load lock, held until the load's transaction ends, before the source is read; check
    that the table exists.

    Loads of one raw table are serialised from their first request to their commit. Under READ COMMITTED two
    overlapping loads would each miss the other's uncommitted rows in their delete and both copies would
    survive; and a load that read the source earlier could commit after one that read it later, putting older
    data back over fresher. Locked before the read, the load that commits last is always the one that read
    last. It also keeps loaded_at in commit order per table, which the incremental facts rely on.
    A lock per day instead of per table would not let more runs read at once: a scheduled run reloads the
    ``lookback_days`` before its interval, so the windows of neighbouring runs overlap anyway.
    """
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"load:{raw_table}",))
    if missing_raw_table(conn, raw_table):
        # The loader may not create tables: `egov db up` makes one per entity of the source registry.
        raise RuntimeError(f"raw table {raw_table} does not exist: run `egov db up` to create it")


def _delete_window(conn: psycopg.Connection, raw_table: str, window: tuple[date, date] | None) -> int:
    """Remove what earlier batches loaded for ``window`` (or the whole snapshot); answer how many rows."""
    table = _raw_identifier(raw_table)
    if window is None:
        return conn.execute(sql.SQL("delete from {}").format(table)).rowcount
    return conn.execute(
        sql.SQL("delete from {} where record_date >= %s and record_date < %s").format(table), window
    ).rowcount


def _copy_rows(conn: psycopg.Connection, raw_table: str, blocks: Iterator[str]) -> None:
    with conn.cursor().copy(
        sql.SQL("copy {} (batch_id, record_date, record_index, payload, loaded_at) from stdin")
        .format(_raw_identifier(raw_table))
    ) as copy:
        for block in blocks:
            copy.write(block)


def _insert_batch_row(conn: psycopg.Connection, result: LoadResult, source: sources.Source,
                      entity: sources.Entity, request: str, run: RunContext, loaded_at: datetime) -> None:
    conn.execute(
        """
            insert into audit.load_batches (batch_id, source_system, entity, raw_table, window_start,
                window_end, request, pages, row_count, rejected_count, checksum, replaced_rows,
                dag_id, run_id, task_id, loaded_at)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
        (result.batch_id, source.system, entity.name, result.raw_table, *(result.window or (None, None)), request,
         result.pages, result.row_count, result.rejected_count, result.checksum, result.replaced_rows,
         run.dag_id, run.run_id, run.task_id, loaded_at),
    )


def _quarantine(conn: psycopg.Connection, batch_id: uuid.UUID, source: sources.Source, entity: sources.Entity,
                rejected: list[tuple[int, str, str]]) -> None:
    """Keep the rejected records, with their reasons, in ``audit.rejected_records``."""
    if not rejected:
        return
    with conn.cursor().copy(
        "copy audit.rejected_records (batch_id, source_system, entity, record_index, reason, payload)"
        " from stdin"
    ) as copy:
        for index, reason, payload in rejected:
            copy.write_row((batch_id, source.system, entity.name, index, reason, payload))


def extract_source(
    conn: psycopg.Connection,
    source: sources.Source,
    connector: Connector,
    window: tuple[date, date],
    run: RunContext = OUTSIDE_AIRFLOW,
    accept_shrink: bool = False,
) -> list[LoadResult]:
    """Load every entity of ``source``: reference data as a snapshot, dated entities for ``window``."""
    results = []
    for entity in source.entities:
        if not entity.windowed:
            results.append(load_batch(conn, source, entity, None, connector.pages(entity, None), run, accept_shrink))
            continue
        for chunk in split_window(window, entity.max_window):
            results.append(load_batch(conn, source, entity, chunk, connector.pages(entity, chunk), run))
    return results
