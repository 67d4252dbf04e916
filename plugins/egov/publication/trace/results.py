"""A figure's trace as typed results, and the JSON document they make (``egov trace --json``, the audit pack).

The fields of each class are in the order of the document's keys."""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from decimal import Decimal
from typing import ClassVar

from egov.core.values import json_value

LEVELS = ("release", "figure", "rollup", "daily_facts", "raw_rows", "batches")
#: The levels below the release: the warehouse's own chain from its figure's rollup to the batches.
WAREHOUSE_LEVELS = ("rollup", "daily_facts", "raw_rows", "batches")


def to_json(value):
    """JSON-ready copy of a trace (or of traces in dicts and lists): a result as an object whose keys are its
    fields in order (less those its class omits when None), Decimals as numbers, dates as text."""
    if is_dataclass(value) and not isinstance(value, type):
        omitted = getattr(value, "omitted_when_none", ())
        return {item.name: to_json(getattr(value, item.name)) for item in fields(value)
                if not (item.name in omitted and getattr(value, item.name) is None)}
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    return json_value(value)


@dataclass(frozen=True)
class TracedRelease:
    """The release that carries the figure, and the gate run that let it through."""

    release_id: str
    version: int
    published_at: str  # ISO 8601
    reason: str
    content_hash: str
    value: Decimal | None
    validation_id: str
    gx_run_id: str | None  # None: released before the project recorded it
    dbt_invocation_id: str | None
    dag_id: str | None  # None: published from the command line
    airflow_run_id: str | None
    validated_at: str  # ISO 8601
    validation_statistics: dict
    warnings: tuple[str, ...]
    waivers: list  # as the gate recorded them


@dataclass(frozen=True)
class TracedFigure:
    """The figure as the warehouse holds it now (``reporting.rpt_report_figures``) and its place in the report."""

    value: Decimal | None
    unit: str
    measure_kind: str
    report_section: str | None
    quote_vi: str | None
    meaning_en: str | None


@dataclass(frozen=True)
class TracedIndicator:
    """The indicator's definition as the release recorded it (or, unpublished, as the warehouse has it)."""

    indicator_code: str
    name_vi: str
    name_en: str
    measure_kind: str
    unit: str
    numerator_code: str | None
    denominator_code: str | None
    definition: str
    legal_basis: str | None
    valid_from: str
    valid_to: str | None
    as_of: str  # "the release" or "the warehouse now"
    changed_since_release: bool


@dataclass(frozen=True)
class CellDifference:
    """A day × agency cell whose daily facts and raw rows do not add up to the same value."""

    date_day: str
    agency_code: str | None
    daily: Decimal | None
    raw: Decimal | None


@dataclass(frozen=True)
class TracedComponent:
    """One part of the figure (the indicator, or a ratio's numerator or denominator) through the levels."""

    role: str
    indicator_code: str
    measure_kind: str
    first_day: str
    last_day: str
    rollup_value: Decimal | None
    daily_rows: int
    daily_sum: Decimal
    daily_reconciled: bool
    raw_rows: int
    raw_sum: Decimal
    raw_tables: tuple[str, ...]
    cells_differing: tuple[CellDifference, ...]  # the first ten
    raw_reconciled: bool


@dataclass(frozen=True)
class Level:
    """One level of the chain: its value, its rows and whether it reconciles with the level above."""

    level: str  # one of LEVELS
    value: Decimal | None  # None for the batches, and for a ratio's daily facts and raw rows (two sums)
    rows: int
    reconciled: bool
    detail: str


@dataclass(frozen=True)
class LoadBatch:
    """A load batch behind the figure (``audit.load_batches``) and how many of its rows the figure uses."""

    batch_id: str
    source_system: str
    entity: str
    raw_table: str
    window_start: str | None  # ISO 8601; None for a snapshot
    window_end: str | None
    request: str
    checksum: str
    row_count: int
    rejected_count: int
    loaded_at: str
    dag_id: str | None
    run_id: str | None
    task_id: str | None
    rows_used: int


@dataclass(frozen=True)
class TracedBatch(LoadBatch):
    """A load batch with whether its records are still those that arrived."""

    #: Left out of the document when None, rather than written as null.
    omitted_when_none: ClassVar[tuple[str, ...]] = ("recorded_by_release",)

    checksum_verified: bool | None  # None: not verifiable (rows replaced by later loads) or not recomputed
    checksum_detail: str
    recorded_by_release: bool | None = None  # None: the figure has no release


@dataclass(frozen=True)
class FigureTrace:
    """One figure of one period traced from its release down to the load batches it came from."""

    period: str
    figure_id: str
    reconciled: bool
    # The warehouse's figure down to raw, whatever the release says: what a new release may rest on.
    warehouse_reconciled: bool
    release: TracedRelease | None
    figure: TracedFigure
    indicator: TracedIndicator
    components: tuple[TracedComponent, ...]
    levels: tuple[Level, ...]
    batches: tuple[TracedBatch, ...]
