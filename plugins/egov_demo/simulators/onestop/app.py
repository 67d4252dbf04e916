"""HTTP API of the simulated one-stop system: bearer token, paged JSON envelopes, injectable faults."""

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse

from egov_demo.simulators.api import (
    DEFAULT_PAGE_SIZE,
    DateRange,
    PageNumber,
    PageSize,
    api_router,
    paged,
    simulator_app,
)
from egov_demo.simulators.onestop.generator import Faults, OneStopDataset
from egov_demo.simulators.workdays import day_range

NEGATIVE_COUNT = -5
MALFORMED_COUNT = "abc"


def _faulty_day_rows(dataset: OneStopDataset, faults: Faults, day: date) -> list[dict]:
    """One day's dossier-count records as the misbehaving source sends them."""
    if day in faults.withheld_on:
        return []
    rows = dataset.dossier_counts(day, day, 0, dataset.dossier_count_total(day, day))
    if rows and day in faults.negative_count_on:
        rows[0] = {**rows[0], "count": NEGATIVE_COUNT}
    if rows and day in faults.restated_on:
        rows[0] = {**rows[0], "count": rows[0]["count"] + faults.restated_on[day]}
    if day in faults.malformed_on and dataset.start <= day <= dataset.end:
        rows.append({
            "date": day.isoformat(),
            "unit_code": dataset.units[0].code,
            "procedure_code": dataset.procedures[0].code,
            "event": "received",
            "count": MALFORMED_COUNT,
        })
    return rows


def _dossier_count_rows(
    dataset: OneStopDataset, faults: Faults, date_from: date, date_to: date
) -> tuple[int, Callable[[int, int], list[dict]]]:
    """The total and a page reader of the records as the source sends them: the true rows unless a fault is on."""
    faulty_days = {*faults.negative_count_on, *faults.malformed_on, *faults.withheld_on, *faults.restated_on}
    if not any(date_from <= day <= date_to for day in faulty_days):
        return (dataset.dossier_count_total(date_from, date_to),
                lambda offset, limit: dataset.dossier_counts(date_from, date_to, offset, limit))
    rows = [row for day in day_range(date_from, date_to).tolist() for row in _faulty_day_rows(dataset, faults, day)]
    return len(rows), lambda offset, limit: rows[offset : offset + limit]


def create_app(dataset: OneStopDataset, token: str, faults: Faults | None = None) -> FastAPI:
    """The API over `dataset`; every /api/v1 call needs `Authorization: Bearer <token>`."""
    faults = faults if faults is not None else Faults()
    app = simulator_app(
        "Trà Vinh one-stop and online public service system (simulated)",
        "Units, procedure catalogue, daily dossier counts and unit daily closes.",
    )
    api = api_router(token, faults)

    @api.get("/units")
    def units(page: PageNumber = 1, page_size: PageSize = DEFAULT_PAGE_SIZE) -> JSONResponse:
        rows = dataset.unit_rows()
        return paged(page, page_size, len(rows), lambda offset, limit: rows[offset : offset + limit], faults)

    @api.get("/procedures")
    def procedures(
        as_of: Annotated[date | None, Query(description="only versions in force that day")] = None,
        page: PageNumber = 1,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
    ) -> JSONResponse:
        rows = dataset.procedure_versions(as_of)
        return paged(page, page_size, len(rows), lambda offset, limit: rows[offset : offset + limit], faults)

    @api.get("/dossier-counts")
    def dossier_counts(
        date_range: DateRange, page: PageNumber = 1, page_size: PageSize = DEFAULT_PAGE_SIZE
    ) -> JSONResponse:
        total, fetch = _dossier_count_rows(dataset, faults, *date_range)
        return paged(page, page_size, total, fetch, faults)

    @api.get("/daily-closes")
    def daily_closes(
        date_range: DateRange, page: PageNumber = 1, page_size: PageSize = DEFAULT_PAGE_SIZE
    ) -> JSONResponse:
        date_from, date_to = date_range
        if any(date_from <= day <= date_to for day, _ in faults.unclosed):
            rows = [row for row in dataset.daily_closes(date_from, date_to, 0, dataset.daily_close_total(*date_range))
                    if (date.fromisoformat(row["date"]), row["unit_code"]) not in faults.unclosed]
            return paged(page, page_size, len(rows), lambda offset, limit: rows[offset : offset + limit], faults)
        return paged(
            page,
            page_size,
            dataset.daily_close_total(*date_range),
            lambda offset, limit: dataset.daily_closes(*date_range, offset, limit),
            faults,
        )

    app.include_router(api)
    return app
