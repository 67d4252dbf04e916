"""HTTP API of the simulated portal CMS: bearer token, page-numbered JSON envelopes, injectable faults."""

from datetime import date

from fastapi import FastAPI
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
from egov_demo.simulators.portal.generator import HORIZON, Faults, PortalDataset
from egov_demo.simulators.workdays import day_range

# A timestamp no parser accepts, in the day-first style of the CMS's Vietnamese screens.
MALFORMED_PUBLISHED_AT = "31/02/{year}"
# UTF-8 read as Latin-1 somewhere in a faulty export: the mojibake such records carry.
MALFORMED_TITLE = "Tin tức".encode().decode("latin-1")


def _malformed_row(dataset: PortalDataset, day: date) -> dict:
    return {
        "event_id": dataset.revision_ids(day)[-1],
        "published_at": MALFORMED_PUBLISHED_AT.format(year=day.year),
        "date": day.isoformat(),
        "language": "vi",
        "title": MALFORMED_TITLE,
        "author_agency_code": None,
    }


def _served_day(dataset: PortalDataset, faults: Faults, day: date) -> list[dict]:
    """One day's publications as the misbehaving source sends them, by event_id."""
    if day in faults.withheld_on:
        return []
    rows = dataset.publication_rows(day, day)
    if HORIZON[0] <= day <= HORIZON[1]:
        if day in faults.restated_on:
            rows += dataset.revision_rows(day, faults.restated_on[day])
        if day in faults.malformed_on:
            rows.append(_malformed_row(dataset, day))
    return sorted(rows, key=lambda row: row["event_id"])


def create_app(dataset: PortalDataset, token: str, faults: Faults | None = None) -> FastAPI:
    """The API over `dataset`; every /api/v1 call needs `Authorization: Bearer <token>`."""
    faults = faults if faults is not None else Faults()
    app = simulator_app(
        "Trà Vinh provincial web portal CMS (simulated)",
        "Languages, component sites and the publication log of the main portal.",
    )
    api = api_router(token, faults)

    def serve(rows: list[dict], page: int, page_size: int) -> JSONResponse:
        return paged(page, page_size, len(rows), lambda offset, limit: rows[offset : offset + limit], faults)

    @api.get("/languages")
    def languages(page: PageNumber = 1, page_size: PageSize = DEFAULT_PAGE_SIZE) -> JSONResponse:
        return serve(dataset.language_rows(), page, page_size)

    @api.get("/sites")
    def sites(page: PageNumber = 1, page_size: PageSize = DEFAULT_PAGE_SIZE) -> JSONResponse:
        return serve(dataset.site_rows(), page, page_size)

    @api.get("/publications")
    def publications(
        date_range: DateRange, page: PageNumber = 1, page_size: PageSize = DEFAULT_PAGE_SIZE
    ) -> JSONResponse:
        """Publications whose local date lies in the range, inclusive, by (date, event_id)."""
        rows = [row for day in day_range(*date_range).tolist() for row in _served_day(dataset, faults, day)]
        return serve(rows, page, page_size)

    app.include_router(api)
    return app
