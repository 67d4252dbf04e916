"""What every simulated HTTP API shares: bearer tokens, paged envelopes and the transport faults.

Each simulator's ``create_app`` builds its FastAPI app with :func:`simulator_app` and an
``APIRouter`` from :func:`api_router`, so authentication, 5xx bursts, slow answers and
repeated pages behave the same on every system the tests drive.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query
from fastapi.responses import JSONResponse

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 10_000
MAX_RANGE_DAYS = 366

PageNumber = Annotated[int, Query(ge=1, description="1-based page number")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="rows per page")]


@dataclass
class TransportFaults:
    """Misbehaviour of the transport, switchable while the API runs.

    fail_requests: the next N authorised data requests answer HTTP 503 (a burst of 5xx).
    delay_s: every authorised data request waits this long before answering (client timeouts).
    repeat_page: the next request for a page after this one (page number, or cursor page index)
        answers with this page's records again, once: a page delivered twice.
    """

    fail_requests: int = 0
    delay_s: float = 0.0
    repeat_page: int | None = None


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


def paged(page: int, page_size: int, total: int, fetch: Callable[[int, int], list[dict]],
          faults: TransportFaults | None = None) -> JSONResponse:
    """The page-numbered envelope: ``data``, ``page``, ``page_size``, ``total``, ``total_pages``, ``next_page``."""
    served = page
    if faults is not None and faults.repeat_page is not None and page == faults.repeat_page + 1:
        served, faults.repeat_page = faults.repeat_page, None
    offset = (served - 1) * page_size
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


def simulator_app(title: str, description: str) -> FastAPI:
    app = FastAPI(title=title, description=description)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    return app


def api_router(token: str, faults: TransportFaults) -> APIRouter:
    """``/api/v1``: every call needs ``Authorization: Bearer <token>`` and is subject to ``faults``."""
    fault_lock = threading.Lock()  # sync endpoints run in a thread pool

    def authorise(authorization: Annotated[str | None, Header()] = None) -> None:
        scheme, _, credentials = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(credentials.encode(), token.encode()):
            raise HTTPException(401, detail="missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"})

    def misbehave_when_asked() -> None:
        with fault_lock:
            failing = faults.fail_requests > 0
            if failing:
                faults.fail_requests -= 1
        if failing:
            raise HTTPException(503, detail="service temporarily unavailable", headers={"Retry-After": "1"})
        if faults.delay_s:
            time.sleep(faults.delay_s)

    return APIRouter(prefix="/api/v1", dependencies=[Depends(authorise), Depends(misbehave_when_asked)])
