"""Land a source's records in ``raw`` as one audited batch per entity and window.

A load is one transaction: the batch row in ``audit.load_batches``, the
removal of the rows of the same days (or the whole snapshot, for reference
data) that earlier batches loaded, the new rows through ``COPY``, and the
records that failed validation in ``audit.rejected_records``. Re-running a
window therefore replaces it; nothing is counted twice and nothing is lost.
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
from egov.core.config import LOCAL_TIMEZONE
from egov.core.run_context import OUTSIDE_AIRFLOW, RunContext
from egov.core.warehouse import ensure_raw_table
from egov.ingest.connectors import (
    DELIVERY_FIELDS,
    MALFORMED_FIELD,
    Connector,
    Page,
    SchemaDriftError,
    record_key,
)
from egov.openlineage import runs

log = logging.getLogger(__name__)




class WarehouseFull(RuntimeError):
    """The warehouse ran out of disk space during a load, which was rolled back."""


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


def _check_value(kind: str, value: object) -> str | None:
    optional = kind.endswith("?")
    kind = kind.rstrip("?")
    if value is None:
        return None if optional else "is missing"
    if kind == sources.INT:
        is_int = isinstance(value, int) and not isinstance(value, bool)
        return None if is_int else f"is not an integer: {value!r}"
    if kind == sources.BOOL:
        return None if isinstance(value, bool) else f"is not true or false: {value!r}"
    if not isinstance(value, str):
        return f"is not a string: {value!r}"
    try:
        if kind == sources.DATE:
            date.fromisoformat(value)
        elif kind == sources.TIMESTAMP:
            datetime.fromisoformat(value)
    except ValueError:
        return f"is not a valid {kind}: {value!r}"
    return None


def record_day(entity: sources.Entity, record: dict) -> date:
    """The local day that dates a record: its date field, or its timestamp read in the province's time zone
    (a timestamp without an offset is taken as local time)."""
    value = record[entity.date_field]
    if entity.fields[entity.date_field].rstrip("?") == sources.DATE:
        return date.fromisoformat(value)
    moment = datetime.fromisoformat(value)
    return moment.astimezone(LOCAL_TIMEZONE).date() if moment.tzinfo else moment.date()


def rejection_reason(entity: sources.Entity, record: object, window: tuple[date, date] | None) -> str | None:
    """Why ``record`` cannot be loaded, or None if it can."""
    if not isinstance(record, dict):
        return f"record is not an object: {type(record).__name__}"
    if record.get(MALFORMED_FIELD):
        return record[MALFORMED_FIELD]
    problems = [
        f"{name} {problem}"
        for name, kind in entity.fields.items()
        if (problem := _check_value(kind, record.get(name)))
    ]
    if problems:
        return "; ".join(problems)
    if window is not None and entity.date_field:
        day = record_day(entity, record)
        if not window[0] <= day < window[1]:
            return f"{entity.date_field} {day} is outside the requested window {window[0]}..{window[1]}"
    return None


def check_schema(source: sources.Source, entity: sources.Entity, records: list) -> None:
    """Refuse a load in which a registry field is missing from every record: the source renamed or dropped it,
    and quarantining every record one by one (or reading an optional one as empty) would hide that."""
    objects = [record for record in records if isinstance(record, dict)]
    unseen = set(entity.fields)
    for record in objects:
        unseen.difference_update(record.keys())
        if not unseen:
            return  # usually at the first record, rather than after reading the keys of every one
    if not objects:
        return
    present = set().union(*(record.keys() for record in objects))
    # Optional fields too: a renamed revoked_at would otherwise read as "never revoked" everywhere.
    missing = [name for name in entity.fields if name not in present]
    if missing:
        raise SchemaDriftError(
            f"{source.key}.{entity.name}: no record has {', '.join(map(repr, missing))}; the source renamed or "
            f"dropped it. Fields received: {', '.join(sorted(present))}. Update the registry in egov.core.sources "
            "and the staging model once the change is understood."
        )


_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
# json.dumps, and JSONEncoder.encode too, build their C encoder anew for every call: a third of the time it takes
# to encode a small record, which a load of a million records feels. Here it is built once, with the same
# settings (so the same text and the same checksums), without the check for circular references: records
# parsed from JSON, CSV or database rows cannot hold one.
_C_ENCODER = json.encoder.c_make_encoder and json.encoder.c_make_encoder(
    None, _CANONICAL_JSON.default, json.encoder.encode_basestring, None, _CANONICAL_JSON.key_separator,
    _CANONICAL_JSON.item_separator, True, False, True)


def _canonical(record: object) -> str:
    if _C_ENCODER is None:  # a Python without the json module's C accelerator
        return _CANONICAL_JSON.encode(record)
    return "".join(_C_ENCODER(record, 0))


class _RecordChecker:
    """``rejection_reason`` and ``record_day`` for the records of one load, with what repeats across records
    worked out once: a string already found to be a valid date (or code, or name) of its kind is not parsed
    again, and each date string is read as a day once. A day's thousands of records share one date."""

    def __init__(self, entity: sources.Entity, window: tuple[date, date] | None):
        self.entity, self.window = entity, window
        #: Each field with its kind and the strings already found valid for it.
        self._fields = [(name, kind, set()) for name, kind in entity.fields.items()]
        self._days: dict[str, date] = {}

    def _well_formed(self, record: dict) -> bool:
        for name, kind, valid in self._fields:
            value = record.get(name)
            is_string = isinstance(value, str)
            if is_string and value in valid:
                continue
            if _check_value(kind, value) is not None:
                return False
            if is_string:
                valid.add(value)
        return True

    def day(self, record: dict) -> date:
        value = record[self.entity.date_field]
        day = self._days.get(value)
        if day is None:
            day = self._days[value] = record_day(self.entity, record)
        return day

    def reason(self, record: object) -> str | None:
        """What ``rejection_reason`` answers; it words the reason when there is one."""
        if (
            isinstance(record, dict)
            and not record.get(MALFORMED_FIELD)
            and self._well_formed(record)
            and (self.window is None or not self.entity.date_field
                 or self.window[0] <= self.day(record) < self.window[1])
        ):
            return None
        return rejection_reason(self.entity, record, self.window)


#: Rows per write of a load's COPY: the server parses one block while the next is formatted.
COPY_BLOCK_ROWS = 10_000
COPY_NULL = "\\N"


def _copy_text(value: str) -> str:
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


def load_batch(
    conn: psycopg.Connection,
    source: sources.Source,
    entity: sources.Entity,
    window: tuple[date, date] | None,
    pages: Iterable[Page],
    run: RunContext = OUTSIDE_AIRFLOW,
) -> LoadResult:
    """Replace ``window`` of ``entity`` (or its whole snapshot) with ``pages`` in one transaction.

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
    ) as lineage:
        result = _replace(conn, source, entity, window, pages, run, batch_id)
        lineage.update(runs.BatchRunFacet, row_count=result.row_count,
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
) -> LoadResult:
    pages = list(pages)
    records = [record for page in pages for record in page.records]
    check_schema(source, entity, records)
    checker = _RecordChecker(entity, window)
    digest = hashlib.sha256()
    accepted: list[int] = []
    rejected: list[tuple[int, str, str]] = []
    first_with_key: dict[tuple, int] = {}

    def copy_blocks(loaded_at: datetime) -> Iterator[str]:
        """The accepted records as COPY text, a block at a time, judged in source order as they are sent: the
        server stores one block while the next is encoded, checked and hashed. The checksum is a line of
        canonical JSON per record, in source order; each record is serialised once for it and for its row."""
        batch_column, loaded_at_column = f"{batch_id}\t", f"\t{loaded_at.isoformat()}\n"
        for start in range(0, len(records), COPY_BLOCK_ROWS):
            payloads, lines = [], []
            for index in range(start, min(start + COPY_BLOCK_ROWS, len(records))):
                record = records[index]
                payload = _canonical(record)
                payloads.append(payload)
                reason = checker.reason(record)
                if reason is None:
                    first = first_with_key.setdefault(record_key(entity, record), index)
                    if first != index:
                        earlier = records[first]
                        same = {k: v for k, v in earlier.items() if k not in DELIVERY_FIELDS} == {
                            k: v for k, v in record.items() if k not in DELIVERY_FIELDS}
                        reason = (f"{'repeats' if same else 'conflicts with'} record {first} "
                                  f"(same {', '.join(entity.key)})")
                if reason is None:
                    day = checker.day(record) if entity.date_field else None
                    accepted.append(index)
                    lines.append(f"{batch_column}{COPY_NULL if day is None else day.isoformat()}\t{index}\t"
                                 f"{_copy_text(payload)}{loaded_at_column}")
                else:
                    rejected.append((index, reason, payload))
            digest.update(("\n".join(payloads) + "\n").encode())
            if lines:
                yield "".join(lines)

    raw_table = source.raw_table(entity)
    schema, name = raw_table.split(".")
    table = sql.Identifier(schema, name)
    if not pages:
        request = "nothing to read for this window"
    elif len(pages) == 1:
        request = pages[0].request
    else:
        request = f"{pages[0].request} (+{len(pages) - 1} pages)"
    with _rolled_back_if_disk_full(raw_table, window), conn.transaction():
        # Loads of one raw table are serialised: under READ COMMITTED two overlapping loads would
        # each miss the other's uncommitted rows in their delete and both copies would survive.
        # It also keeps loaded_at in commit order per table, which the incremental facts rely on.
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"load:{raw_table}",))
        ensure_raw_table(conn, raw_table)
        (loaded_at,) = conn.execute("select clock_timestamp()").fetchone()
        if window is None:
            replaced = conn.execute(sql.SQL("delete from {}").format(table)).rowcount
        else:
            replaced = conn.execute(
                sql.SQL("delete from {} where record_date >= %s and record_date < %s").format(table), window
            ).rowcount
        with conn.cursor().copy(
            sql.SQL("copy {} (batch_id, record_date, record_index, payload, loaded_at) from stdin")
            .format(table)
        ) as copy:
            for block in copy_blocks(loaded_at):
                copy.write(block)
        # The batch row comes after the raw rows, once its counts and checksum are known; their reference to it
        # is checked at commit (the foreign key is deferred), so that they could stream while they were judged.
        conn.execute(
            """
            insert into audit.load_batches (batch_id, source_system, entity, raw_table, window_start,
                window_end, request, pages, row_count, rejected_count, checksum, replaced_rows,
                dag_id, run_id, task_id, loaded_at)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            (batch_id, source.system, entity.name, raw_table, *(window or (None, None)), request,
             len(pages), len(accepted), len(rejected), digest.hexdigest(), replaced,
             run.dag_id, run.run_id, run.task_id, loaded_at),
        )
        if rejected:
            with conn.cursor().copy(
                "copy audit.rejected_records (batch_id, source_system, entity, record_index, reason, payload)"
                " from stdin"
            ) as copy:
                for index, reason, payload in rejected:
                    copy.write_row((batch_id, source.system, entity.name, index, reason, payload))
    result = LoadResult(batch_id, raw_table, window, len(pages), len(accepted), len(rejected), replaced,
                        digest.hexdigest())
    log.info("loaded %s window=%s rows=%d rejected=%d replaced=%d batch=%s", raw_table, window,
             result.row_count, result.rejected_count, result.replaced_rows, batch_id)
    if rejected:
        log.warning("%d records of %s rejected, kept in audit.rejected_records; first: %s",
                    len(rejected), raw_table, rejected[0][1])
    return result


def extract_source(
    conn: psycopg.Connection,
    source: sources.Source,
    connector: Connector,
    window: tuple[date, date],
    run: RunContext = OUTSIDE_AIRFLOW,
) -> list[LoadResult]:
    """Load every entity of ``source``: reference data as a snapshot, dated entities for ``window``."""
    results = []
    for entity in source.entities:
        if not entity.windowed:
            results.append(load_batch(conn, source, entity, None, connector.pages(entity, None), run))
            continue
        for chunk in split_window(window, entity.max_window):
            results.append(load_batch(conn, source, entity, chunk, connector.pages(entity, chunk), run))
    return results
