"""The layout every renderer follows: the figures by report section, where the charts go, the trace command."""

from __future__ import annotations

from dataclasses import dataclass

from egov.publication.report.data import RECEIVED_FIGURE, Figure, ReportData


@dataclass(frozen=True)
class Section:
    key: str | None
    figures: tuple[Figure, ...]


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


def trace_command(data: ReportData, figure_id: str) -> str:
    return f"egov trace {data.period} {figure_id}"
