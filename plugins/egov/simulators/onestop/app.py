"""HTTP API of the simulated one-stop system: bearer token, paged JSON envelopes, injectable faults."""

import math
import secrets
import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query
from fastapi.responses import JSONResponse

from egov.simulators.onestop.generator import Faults, OneStopDataset

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 10_000
MAX_RANGE_DAYS = 366
NEGATIVE_COUNT = -5
MALFORMED_COUNT = "abc"

PageNumber = Annotated[int, Query(ge=1, description="1-based page number")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="rows per page")]


def _date_range(
    from_date: Annotated[date, Query(description="first day, inclusive")],
    to_date: Annotated[date, Query(description="last day, inclusive")],
) -> tuple[date, date]:
    if from_date > to_date:
        raise HTTPException(422, detail=f"from_date {from_date} is after to_date {to_date}")
    days = (to_date - from_date).days + 1
    if days > MAX_RANGE_DAYS:
        raise HTTPException(422, detail=f"the range covers {days} days; at most {MAX_RANGE_DAYS} are allowed")
    return from_date, to_date


DateRange = Annotated[tuple[date, date], Depends(_date_range)]


def _paged(page: int, page_size: int, total: int, fetch: Callable[[int, int], list[dict]]) -> JSONResponse:
    offset = (page - 1) * page_size
    total_pages = math.ceil(total / page_size)
    return JSONResponse(
        {
            "data": fetch(offset, page_size) if offset < total else [],
            "page": page,
            "page_size": page_size,
            "total": total,
            "total_pages": total_pages,
            "next_page": page + 1 if page < total_pages else None,
        }
    )


def _dossier_count_page(
    dataset: OneStopDataset, faults: Faults, date_from: date, date_to: date, offset: int, limit: int
) -> tuple[int, list[dict]]:
    """The page as the source sends it: the true rows, then any injected faults."""
    base_total = dataset.dossier_count_total(date_from, date_to)
    rows = dataset.dossier_counts(date_from, date_to, offset, limit)
    for day in sorted(faults.negative_count_on):
        if date_from <= day <= date_to and dataset.dossier_count_total(day, day):
            position = dataset.dossier_count_total(date_from, day - timedelta(days=1)) - offset
            if 0 <= position < len(rows):
                rows[position] = {**rows[position], "count": NEGATIVE_COUNT}
    # Malformed records follow the true rows, so the true rows keep their positions on every page.
    malformed = [
        {
            "date": day.isoformat(),
            "unit_code": dataset.units[0].code,
            "procedure_code": dataset.procedures[0].code,
            "event": "received",
            "count": MALFORMED_COUNT,
        }
        for day in sorted(faults.malformed_on)
        if date_from <= day <= date_to and dataset.start <= day <= dataset.end
    ]
    rows += malformed[max(offset - base_total, 0) : max(offset + limit - base_total, 0)]
    return base_total + len(malformed), rows


def create_app(dataset: OneStopDataset, token: str, faults: Faults | None = None) -> FastAPI:
    """The API over `dataset`; every /api/v1 call needs `Authorization: Bearer <token>`."""
    faults = faults if faults is not None else Faults()
    fault_lock = threading.Lock()  # sync endpoints run in a thread pool

    def authorise(authorization: Annotated[str | None, Header()] = None) -> None:
        scheme, _, credentials = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(credentials.encode(), token.encode()):
            raise HTTPException(401, detail="missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"})

    def fail_when_asked() -> None:
        with fault_lock:
            if faults.fail_requests > 0:
                faults.fail_requests -= 1
                raise HTTPException(503, detail="service temporarily unavailable", headers={"Retry-After": "1"})

    app = FastAPI(
        title="Trà Vinh one-stop and online public service system (simulated)",
        description="Units, procedure catalogue, daily dossier counts and unit daily closes.",
    )
    api = APIRouter(prefix="/api/v1", dependencies=[Depends(authorise), Depends(fail_when_asked)])

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @api.get("/units")
    def units(page: PageNumber = 1, page_size: PageSize = DEFAULT_PAGE_SIZE) -> JSONResponse:
        rows = dataset.unit_rows()
        return _paged(page, page_size, len(rows), lambda offset, limit: rows[offset : offset + limit])

    @api.get("/procedures")
    def procedures(
        as_of: Annotated[date | None, Query(description="only versions in force that day")] = None,
        page: PageNumber = 1,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
    ) -> JSONResponse:
        rows = dataset.procedure_versions(as_of)
        return _paged(page, page_size, len(rows), lambda offset, limit: rows[offset : offset + limit])

    @api.get("/dossier-counts")
    def dossier_counts(
        date_range: DateRange, page: PageNumber = 1, page_size: PageSize = DEFAULT_PAGE_SIZE
    ) -> JSONResponse:
        offset = (page - 1) * page_size
        total, rows = _dossier_count_page(dataset, faults, *date_range, offset, page_size)
        return _paged(page, page_size, total, lambda _offset, _limit: rows)

    @api.get("/daily-closes")
    def daily_closes(
        date_range: DateRange, page: PageNumber = 1, page_size: PageSize = DEFAULT_PAGE_SIZE
    ) -> JSONResponse:
        return _paged(
            page,
            page_size,
            dataset.daily_close_total(*date_range),
            lambda offset, limit: dataset.daily_closes(*date_range, offset, limit),
        )

    app.include_router(api)
    return app
