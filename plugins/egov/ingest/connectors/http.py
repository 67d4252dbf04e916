"""JSON APIs over HTTP: the integration platform's page-numbered services and its cursor-paged change feeds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from egov.core.sources import Entity
from egov.ingest.connectors.base import Endpoint, Page, local_midnight, with_retries
from egov.ingest.errors import SourceDataError, SourceUnavailable
from egov.ingest.records import record_key

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
#: More pages than this in one window is a source that does not stop, not data: 100,000 pages of the smallest
#: page size we ask for (1,000) is a hundred million records, three orders above the largest window here.
MAX_PAGES = 100_000


def _checked_body(url: str, body: object) -> dict:
    """The answer as a page: a JSON object with a ``data`` list of objects; anything else is the source's fault."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise SourceDataError(f"GET {url} answered {type(body).__name__} without a 'data' list: not a page")
    if not all(isinstance(record, dict) for record in body["data"]):
        raise SourceDataError(f"GET {url}: 'data' holds something other than records (JSON objects)")
    return body


def _whole_number(url: str, name: str, value: object) -> int:
    """``value``, the page's field ``name``, as a non-negative whole number."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SourceDataError(f"{url}: {name!r} is {value!r}, not a non-negative whole number")
    return value


@dataclass
class HttpApiConnector:
    """Page-numbered JSON API behind a bearer token (the integration platform's REST services)."""

    base_url: str
    token: str
    timeout_s: float = 30.0
    max_attempts: int = 5
    backoff_s: float = 1.0
    page_size: int = 5000
    max_pages: int = MAX_PAGES
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        self.session.headers["Accept"] = "application/json"

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint) -> HttpApiConnector:
        if not endpoint.host or not endpoint.password:
            raise ValueError("an HTTP source's connection needs a host and the bearer token as its password")
        port = f":{endpoint.port}" if endpoint.port else ""
        options: dict[str, Any] = {name: type_(endpoint.extra[name]) for name, type_ in
                                   (("timeout_s", float), ("max_attempts", int), ("backoff_s", float),
                                    ("page_size", int), ("max_pages", int))
                                   if name in endpoint.extra}
        return cls(base_url=f"{endpoint.schema or 'https'}://{endpoint.host}{port}", token=endpoint.password,
                   **options)

    def _attempt(self, url: str) -> tuple[dict | None, str]:
        """One request: the body, or None and why asking again may help."""
        try:
            response = self.session.get(url, timeout=self.timeout_s)
        except (requests.ConnectionError, requests.Timeout) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        if response.status_code in RETRYABLE_STATUS:
            return None, f"HTTP {response.status_code}"
        if response.status_code != 200:
            # Asking again cannot help: wrong credentials, a moved endpoint or a refused parameter.
            raise SourceDataError(f"GET {url} answered {response.status_code}: {response.text[:300]}")
        try:
            return response.json(), ""
        except ValueError as exc:  # a truncated or garbled body
            return None, f"invalid JSON: {exc}"

    def _get_page(self, entity: Entity, path: str, params: dict, seen: set[tuple | None]) -> dict:
        """One page; a page whose records were all served before (a page delivered twice) is asked for again."""
        url = f"{self.base_url}{path}?{urlencode(params)}"

        def attempt() -> tuple[dict | None, str]:
            answer, problem = self._attempt(url)
            if answer is None:
                return None, problem
            body = _checked_body(url, answer)
            keys = [record_key(entity, record) for record in body.get("data", [])]
            if keys and all(key in seen for key in keys):
                return None, f"the page repeats {len(keys)} records already received"
            seen.update(keys)
            return body, ""

        return with_retries(f"GET {url}", attempt, self.max_attempts, self.backoff_s)

    def pages(self, entity: Entity, window: tuple[date, date] | None) -> Iterator[Page]:
        """Every page of ``entity``; ``window`` is [start, end) for dated entities."""
        params: dict = {"page_size": self.page_size}
        if window is not None:
            start, end = window
            params["from_date"] = start.isoformat()
            params["to_date"] = (end - timedelta(days=1)).isoformat()  # the API's range is inclusive
        page_number: int | None = 1
        received, total = 0, None
        seen: set[tuple | None] = set()
        for _ in range(self.max_pages):
            if page_number is None:
                break
            params["page"] = page_number
            body = self._get_page(entity, entity.path, params, seen)
            request = f"GET {entity.path}?{urlencode(params)}"
            announced = _whole_number(request, "total", body.get("total"))
            if total is not None and announced != total:
                raise SourceUnavailable(f"{entity.path}: the total changed from {total} to {announced} "
                                        "while paging; the source changed under the extract, run it again")
            total = announced
            received += len(body["data"])
            next_page = None if body.get("next_page") is None else _whole_number(request, "next_page",
                                                                                  body["next_page"])
            # Paging is bounded by what the source announced: a source that keeps answering (pages past the
            # total, empty pages that promise more) is refused instead of followed for ever.
            if received > total:
                raise SourceDataError(f"{entity.path}: {received} records received, more than the {total} the "
                                      "source announced")
            if next_page is not None and not body["data"]:
                raise SourceDataError(f"{entity.path}: page {page_number} is empty but names page {next_page} next")
            yield Page(request, body["data"])
            if next_page is not None and next_page <= page_number:
                raise SourceUnavailable(f"{entity.path}: next_page {next_page} does not advance past {page_number}")
            page_number = next_page
        else:
            raise SourceDataError(f"{entity.path}: still paging after {self.max_pages} pages (max_pages)")
        if total is not None and received != total:
            raise SourceUnavailable(f"{entity.path}: {received} records received but the source announced {total}")


@dataclass
class CursorApiConnector(HttpApiConnector):
    """A JSON change feed read with an ``updated_since`` / ``updated_before`` window and an opaque cursor.

    Snapshot entities (without a date field) are page-numbered like :class:`HttpApiConnector`.
    """

    page_size: int = 1000

    def pages(self, entity: Entity, window: tuple[date, date] | None) -> Iterator[Page]:
        if window is None:
            yield from super().pages(entity, window)
            return
        bounds = {"updated_since": local_midnight(window[0]).isoformat(),
                  "updated_before": local_midnight(window[1]).isoformat(), "limit": min(self.page_size, 1000)}
        cursor: str | None = None
        seen: set[tuple | None] = set()
        cursors_seen: set[str] = set()
        for _ in range(self.max_pages):
            params = {**bounds, **({"cursor": cursor} if cursor else {})}
            body = self._get_page(entity, entity.path, params, seen)
            yield Page(f"GET {entity.path}?{urlencode(params)}", body["data"])
            next_cursor = body.get("next_cursor")
            if not body.get("has_more"):
                return
            if not next_cursor:
                raise SourceUnavailable(f"{entity.path}: the source says there is more but sent no cursor")
            if next_cursor == cursor:
                raise SourceUnavailable(f"{entity.path}: the cursor does not advance ({cursor!r})")
            if not isinstance(next_cursor, str):
                raise SourceDataError(f"{entity.path}: the cursor is {next_cursor!r}, not a string")
            if next_cursor in cursors_seen:
                raise SourceDataError(f"{entity.path}: the cursor {next_cursor!r} came back: the feed goes round in "
                                      "a cycle")
            if not body["data"]:
                raise SourceDataError(f"{entity.path}: an empty page says there is more ({next_cursor!r})")
            cursors_seen.add(next_cursor)
            cursor = next_cursor
        raise SourceDataError(f"{entity.path}: still paging after {self.max_pages} pages (max_pages)")
