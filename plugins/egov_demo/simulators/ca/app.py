"""HTTP API of the simulated CA: a change feed of certificate versions paged by an ``updated_at`` cursor.

``GET /api/v1/certificates`` serves every version with ``updated_since <= updated_at < updated_before`` in
(updated_at, serial) order. Its cursor is opaque to clients: URL-safe base64 of a JSON object holding the query
bounds, the (updated_at, serial) of the last record served, where that page began, and the page's index in the
chain (the first request, without a cursor, is page 1). A continuation must repeat the bounds of the request that
started the chain.

Repeated pages (``TransportFaults.repeat_page = k``): the request that continues the chain after page k gets
page k's records again, with the same ``next_cursor`` as page k had, so the client's next request gets the real
page k + 1. The fault then clears itself.
"""

import base64
import binascii
import json
import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import JSONResponse

from egov_demo.simulators.api import DEFAULT_PAGE_SIZE, PageNumber, PageSize, api_router, paged, simulator_app
from egov_demo.simulators.ca.generator import LOCAL_TIME, CaDataset, CertificateVersion, Faults

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
LATE_ENTRY_DELAY = timedelta(days=3)
BACKDATED_ENTRY_DELAY = timedelta(days=10)
MALFORMED_SERIAL = "NOT-A-SERIAL"
MALFORMED_AT = time(12)

Key = tuple[datetime, str]
FeedEntry = tuple[Key, dict]


def _versions_as_served(dataset: CaDataset, faults: Faults) -> list[CertificateVersion]:
    """The dataset's versions with late entries moved and backdated revocations added."""
    versions = []
    for version in dataset.versions():
        cert = version.certificate
        if version.revoked_at is None and cert.issued_at.date() in faults.late_entry_on:
            version = CertificateVersion(cert, None, cert.issued_at + LATE_ENTRY_DELAY)
        versions.append(version)
    for serial, revoked_at in faults.backdated_revocations.items():
        revoked_at = revoked_at.astimezone(LOCAL_TIME)
        versions.append(CertificateVersion(dataset.certificate(serial), revoked_at, revoked_at + BACKDATED_ENTRY_DELAY))
    return versions


def _malformed_entry(day: date) -> FeedEntry:
    updated_at = datetime.combine(day, MALFORMED_AT, LOCAL_TIME)
    return (updated_at, MALFORMED_SERIAL), {
        "serial": MALFORMED_SERIAL,
        "holder_type": "unknown",
        "holder_name": "",
        "agency_code": None,
        "issued_at": "not a date",
        "expires_at": "not a date",
        "revoked_at": None,
        "updated_at": updated_at.isoformat(),
    }


def _feed(dataset: CaDataset, faults: Faults, clean: list[FeedEntry]) -> list[FeedEntry]:
    """Every version the source serves right now, sorted by (updated_at, serial)."""
    if not (faults.late_entry_on or faults.backdated_revocations or faults.malformed_on):
        return clean
    entries = [(version.key, version.record()) for version in _versions_as_served(dataset, faults)]
    entries += [_malformed_entry(day) for day in faults.malformed_on]
    return sorted(entries, key=lambda entry: entry[0])


def _aware(value: str) -> datetime:
    """An ISO 8601 timestamp with a UTC offset: a naive one would mean different instants to client and server."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset; add one, e.g. +07:00")
    return moment


def _bound(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return _aware(value)
    except ValueError as error:
        raise HTTPException(422, detail=f"{name} must be an ISO 8601 timestamp with offset: {error}") from None


@dataclass(frozen=True)
class _Cursor:
    """Where a chain of requests stands: its bounds, the last key served, where that page began, its index."""

    since: datetime | None
    before: datetime | None
    after: Key
    page_from: Key | None
    page: int

    def encode(self) -> str:
        def key(value: Key | None) -> list | None:
            return None if value is None else [value[0].isoformat(), value[1]]

        state = {
            "since": self.since.isoformat() if self.since else None,
            "before": self.before.isoformat() if self.before else None,
            "after": key(self.after),
            "page_from": key(self.page_from),
            "page": self.page,
        }
        return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> "_Cursor":
        def key(value: list) -> Key:
            moment, serial = value
            if not isinstance(serial, str):
                raise TypeError(f"serial {serial!r} is not a string")
            return _aware(moment), serial

        def moment_or_none(value: str | None) -> datetime | None:
            return None if value is None else _aware(value)

        try:
            state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            page = state["page"]
            if not isinstance(page, int) or page < 1:
                raise ValueError(f"page {page!r} is not a positive integer")
            return cls(moment_or_none(state["since"]), moment_or_none(state["before"]), key(state["after"]),
                       None if state["page_from"] is None else key(state["page_from"]), page)
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, KeyError) as error:
            raise HTTPException(422, detail=f"cursor is not one this API issued ({error})") from None


def create_app(dataset: CaDataset, token: str, faults: Faults | None = None) -> FastAPI:
    """The API over `dataset`; every /api/v1 call needs `Authorization: Bearer <token>`."""
    faults = faults if faults is not None else Faults()
    app = simulator_app(
        "Trà Vinh digital-signature CA (simulated)",
        "Agencies and the change feed of the certificates issued to them and their officials.",
    )
    api = api_router(token, faults)
    clean = [(version.key, version.record()) for version in dataset.versions()]
    repeat_lock = threading.Lock()  # sync endpoints run in a thread pool

    def repeat_now(page: int) -> bool:
        with repeat_lock:
            repeat = faults.repeat_page == page
            if repeat:
                faults.repeat_page = None
        return repeat

    @api.get("/agencies")
    def agencies(page: PageNumber = 1, page_size: PageSize = DEFAULT_PAGE_SIZE) -> JSONResponse:
        rows = [{"code": unit.code, "name": unit.name} for unit in dataset.units]
        return paged(page, page_size, len(rows), lambda offset, limit: rows[offset : offset + limit], faults)

    @api.get("/certificates")
    def certificates(
        updated_since: Annotated[str | None, Query(description="ISO 8601 timestamp with offset, inclusive")] = None,
        updated_before: Annotated[str | None, Query(description="ISO 8601 timestamp with offset, exclusive")] = None,
        cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="versions per page")] = DEFAULT_LIMIT,
    ) -> JSONResponse:
        since, before = _bound(updated_since, "updated_since"), _bound(updated_before, "updated_before")
        if since is not None and before is not None and since >= before:
            raise HTTPException(422, detail=f"updated_since {updated_since} is not before updated_before "
                                            f"{updated_before}")
        feed = _feed(dataset, faults, clean)
        keys = [key for key, _ in feed]
        low = 0 if since is None else bisect_left(keys, since, key=lambda key: key[0])
        high = len(feed) if before is None else bisect_left(keys, before, key=lambda key: key[0])

        state = None if cursor is None else _Cursor.decode(cursor)
        if state is not None and (state.since, state.before) != (since, before):
            raise HTTPException(422, detail="cursor was issued for other updated_since/updated_before bounds; "
                                            "repeat the bounds of the request that started the chain")
        if state is not None and repeat_now(state.page):
            begin = low if state.page_from is None else max(low, bisect_right(keys, state.page_from))
            end = min(high, bisect_right(keys, state.after))
            return JSONResponse({"data": [record for _, record in feed[begin:end]], "next_cursor": cursor,
                                 "has_more": True})

        begin = low if state is None else max(low, bisect_right(keys, state.after))
        end = min(high, begin + limit)
        has_more = end < high
        next_cursor = None
        if has_more:
            next_cursor = _Cursor(since, before, keys[end - 1], None if state is None else state.after,
                                  1 if state is None else state.page + 1).encode()
        return JSONResponse({"data": [record for _, record in feed[begin:end]], "next_cursor": next_cursor,
                             "has_more": has_more})

    app.include_router(api)
    return app
