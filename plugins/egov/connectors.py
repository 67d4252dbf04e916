"""Connectors: how records are fetched from each kind of agency interface.

A connector yields pages of records for one entity and one window; it knows
nothing of the warehouse. Failures it cannot recover from raise
:class:`SourceUnavailable` with the request that failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

import requests

from egov.sources import Entity

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class SourceUnavailable(RuntimeError):
    """The source did not answer usefully after all retries."""


@dataclass(frozen=True)
class Page:
    request: str
    records: list[dict]


@dataclass
class HttpApiConnector:
    """Paged JSON API behind a bearer token (the integration platform's REST services)."""

    base_url: str
    token: str
    timeout_s: float = 30.0
    max_attempts: int = 5
    backoff_s: float = 1.0
    page_size: int = 5000
    session: requests.Session | None = None

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.session = self.session or requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        self.session.headers["Accept"] = "application/json"

    def _attempt(self, url: str) -> tuple[dict | None, str]:
        """One request: the body, or None and why asking again may help."""
        try:
            response = self.session.get(url, timeout=self.timeout_s)
        except (requests.ConnectionError, requests.Timeout) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        if response.status_code in RETRYABLE_STATUS:
            return None, f"HTTP {response.status_code}"
        if response.status_code != 200:
            raise SourceUnavailable(f"GET {url} answered {response.status_code}: {response.text[:300]}")
        try:
            return response.json(), ""
        except ValueError as exc:  # a truncated or garbled body
            return None, f"invalid JSON: {exc}"

    def _get(self, path: str, params: dict) -> dict:
        url = f"{self.base_url}{path}?{urlencode(params)}"
        for attempt in range(1, self.max_attempts + 1):
            body, problem = self._attempt(url)
            if body is not None:
                return body
            if attempt == self.max_attempts:
                raise SourceUnavailable(f"GET {url} failed after {attempt} attempts: {problem}")
            delay = self.backoff_s * 2 ** (attempt - 1)
            log.warning("GET %s: %s; retry %d/%d in %.1fs", url, problem, attempt, self.max_attempts - 1, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")

    def pages(self, entity: Entity, window: tuple[date, date] | None) -> Iterator[Page]:
        """Every page of ``entity``; ``window`` is [start, end) for dated entities."""
        params: dict = {"page_size": self.page_size}
        if window is not None:
            start, end = window
            params["from_date"] = start.isoformat()
            params["to_date"] = (end - timedelta(days=1)).isoformat()  # the API's range is inclusive
        page_number, received, total = 1, 0, None
        while page_number is not None:
            params["page"] = page_number
            body = self._get(entity.path, params)
            if total is not None and body["total"] != total:
                raise SourceUnavailable(f"{entity.path}: the total changed from {total} to {body['total']} "
                                        "while paging; the source changed under the extract, run it again")
            total = body["total"]
            received += len(body["data"])
            yield Page(f"GET {entity.path}?{urlencode(params)}", body["data"])
            next_page = body.get("next_page")
            if next_page is not None and next_page <= page_number:
                raise SourceUnavailable(f"{entity.path}: next_page {next_page} does not advance past {page_number}")
            page_number = next_page
        if total is not None and received != total:
            raise SourceUnavailable(f"{entity.path}: {received} records received but the source announced {total}")
