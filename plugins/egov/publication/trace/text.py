"""A figure's trace as text (``egov trace PERIOD FIGURE``)."""

from __future__ import annotations

from egov.core.values import plain_number
from egov.publication.trace.results import FigureTrace, TracedBatch, TracedRelease

MARK = {True: "✓", False: "✗"}
VERDICT = {True: "checksum verified", False: "CHECKSUM MISMATCH", None: "checksum not verifiable"}


def format_trace(trace: FigureTrace) -> str:
    """The chain as text, one level a line, with a verdict on each."""
    indicator, figure = trace.indicator, trace.figure
    lines = [f"{trace.period} {trace.figure_id}: {indicator.name_vi} / {indicator.name_en} "
             f"({indicator.measure_kind}, {figure.unit})"]
    if trace.release:
        lines += _release_lines(trace.release)
    else:
        lines.append(f"  release    {'-':>14}  {trace.period} is not published")
    for level in trace.levels:
        if level.level == "release":
            continue
        shown = "" if level.value is None else plain_number(level.value)
        lines.append(f"  {level.level:<10} {shown:>14}  {MARK[level.reconciled]} {level.detail}")
        if level.level == "figure":
            lines.append(f"  indicator  {indicator.indicator_code}, definition valid from "
                         f"{indicator.valid_from} (as at {indicator.as_of}"
                         + ("; CHANGED since the release" if indicator.changed_since_release else "")
                         + f"): {indicator.definition} [{indicator.legal_basis}]")
    lines += [_batch_line(batch) for batch in trace.batches]
    lines.append("reconciled at every level" if trace.reconciled else
                 "NOT reconciled: see the levels marked ✗")
    return "\n".join(lines)


def _release_lines(release: TracedRelease) -> list[str]:
    unrecorded = "not recorded (released before it was)"
    return [
        f"  release    {plain_number(release.value):>14}  version {release.version} "
        f"({release.release_id}), published {release.published_at}"
        + (f" by {release.dag_id} run {release.airflow_run_id}" if release.dag_id else " from the command line"),
        f"             reason: {release.reason}; content hash {release.content_hash[:16]}…",
        f"             gate {release.validation_id} (Great Expectations run "
        f"{release.gx_run_id or unrecorded}, {len(release.warnings)} warnings, "
        f"{len(release.waivers)} coverage waivers), "
        f"dbt build {release.dbt_invocation_id or unrecorded}",
    ]


def _batch_line(batch: TracedBatch) -> str:
    window = f"{batch.window_start}..{batch.window_end}" if batch.window_start else "snapshot"
    return (f"    batch {batch.batch_id} {batch.source_system} {batch.raw_table} {window}: "
            f"{batch.rows_used} of {batch.row_count} rows used; {batch.request}; loaded "
            f"{batch.loaded_at} by {batch.run_id or 'the command line'}; "
            f"sha256 {batch.checksum[:16]}… {VERDICT[batch.checksum_verified]}")
