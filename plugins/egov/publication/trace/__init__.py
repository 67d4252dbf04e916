"""The trace: a reported figure followed down to the raw rows and source batches it came from.

The chain, for one figure of one period:

    release → figure → indicator definition → rollup → daily facts → raw rows → batches

with the sum at each level, and whether it reconciles with the level above. The SQL views in
the ``lineage`` schema (dbt models ``lineage_figure_*``) hold the same chain for auditors; this
package reads them, except the raw rows, which it reads from ``lineage.lineage_indicator_raw_rows``
with the indicator and its days as constants so that PostgreSQL skips every other indicator.

A batch is also checked against itself: when all its rows are still in raw (no later load replaced
part of its window), the SHA-256 of its records, recomputed from raw and the quarantine, must equal
the checksum the loader recorded as the records arrived.

    components  what a figure is made of, and the SQL finding its raw rows and batches
    tracer      the Tracer: one method per level, each level checked against the one above
    results     the trace as typed results (FigureTrace, Level, TracedBatch…) and its JSON document
    text        the trace as the command line prints it
"""

from egov.publication.trace.components import TraceError, batches_used_query, period_components
from egov.publication.trace.results import (
    WAREHOUSE_LEVELS,
    CellDifference,
    FigureTrace,
    Level,
    TracedBatch,
    TracedComponent,
    TracedFigure,
    TracedIndicator,
    TracedRelease,
    to_json,
)
from egov.publication.trace.text import format_trace
from egov.publication.trace.tracer import Tracer, trace_figure, trace_period

__all__ = [
    "WAREHOUSE_LEVELS", "CellDifference", "FigureTrace", "Level", "TraceError", "TracedBatch", "TracedComponent",
    "TracedFigure", "TracedIndicator", "TracedRelease", "Tracer", "batches_used_query", "format_trace",
    "period_components", "to_json", "trace_figure", "trace_period",
]
