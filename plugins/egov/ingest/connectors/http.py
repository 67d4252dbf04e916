"""JSON APIs over HTTP: the integration platform's page-numbered services and its cursor-paged change feeds.

An answer is trusted no further than it proves itself: a redirect, a body larger than the caps (counted while it
streams, after decompression), a Content-Type other than JSON, bytes that are not UTF-8, JSON that does not parse
(duplicate keys, nesting too deep, numbers Python cannot hold) or a gzip body that does not decompress is a
:class:`SourceDataError` naming the request and what was wrong, never an exception of another type that the DAG
would retry as if the source were down.
"""

from __future__ import annotations

import json
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from egov.core.sources import Entity
from egov.ingest.connectors.base import Endpoint, Page, check_nesting, local_midnight, with_retries
from egov.ingest.errors import SourceDataError, SourceUnavailable
from egov.ingest.records import record_key

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
#: More pages than this in one window is a source that does not stop, not data: 100,000 pages of the smallest
#: page size we ask for (1,000) is a hundred million records, three orders above the largest window here.
MAX_PAGES = 100_000
#: One answer larger than this (decompressed) is refused. The largest page we ask for is 5,000 records; a page of
#: the one-stop counts is 0.7 MB and the APIs serve at most 10,000 records a page (1.4 MB): 64 MiB leaves room
#: for records fifty times wider, and stops a source that streams without end before it fills the memory.
MAX_RESPONSE_BYTES = 64 * 2**20
#: All the answers of one fetch (one window of one entity) together. The largest window here, a year of the
#: one-stop counts, is 40 MB of JSON (289,082 records); 1 GiB is 25 times that.
MAX_FETCH_BYTES = 2**30
#: The body is read in pieces of this size and counted against the caps as they arrive; urllib3 (2.6 and later)
#: decompresses at most this much per read, so a small gzip body that inflates to gigabytes stops at the cap too.
CHUNK_BYTES = 64 * 1024


@dataclass
class _BytesRead:
    """What one fetch has read so far, against its cap (``max_fetch_bytes``)."""

    limit: int
    total: int = 0

    def add(self, url: str, count: int) -> None:
        self.total += count
        if self.total > self.limit:
            raise SourceDataError(f"GET {url}: this fetch has read {self.total:,} bytes, more than its cap of "
                                  f"{self.limit:,} (max_fetch_bytes in the connection's extra); nothing was loaded")


class _DuplicateKey(ValueError):
    pass


def _object_without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    """A JSON object as a dict, refused if it names a key twice: which of the values counts is undefined (Python
    keeps the last, other readers the first), so the record is not what the source meant either way."""
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return found


def _check_content_type(url: str, response: requests.Response) -> None:
    """Refuse an answer that does not say it is JSON in UTF-8: an HTML error page from a proxy, a CSV export."""
    content_type = response.headers.get("Content-Type", "")
    media_type, _, parameters = content_type.partition(";")
    media_type = media_type.strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise SourceDataError(f"GET {url}: Content-Type is {content_type!r}, not application/json")
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise SourceDataError(f"GET {url}: Content-Type says charset {value.strip()}; JSON must be UTF-8")


def _read_body(url: str, response: requests.Response, max_bytes: int, fetched: _BytesRead) -> bytes:
    """The body, decompressed, read a piece at a time and refused as soon as it passes ``max_bytes``."""
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                raise SourceDataError(f"GET {url}: the answer is larger than its cap of {max_bytes:,} bytes "
                                      f"({size:,} read so far; max_response_bytes in the connection's extra)")
            fetched.add(url, len(chunk))
            chunks.append(chunk)
    except (requests.exceptions.ContentDecodingError, zlib.error) as exc:
        encoding = response.headers.get("Content-Encoding")
        raise SourceDataError(f"GET {url}: the body does not decompress as its Content-Encoding {encoding!r} "
                              f"says ({exc})") from None
    return b"".join(chunks)


def _parsed_json(url: str, body: bytes) -> object:
    """``body`` as strict JSON: UTF-8 without a byte-order mark, no key twice in an object."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceDataError(f"GET {url}: the body is not UTF-8: byte {exc.start:,} of {len(body):,} is "
                              f"{body[exc.start:exc.start + 1]!r} ({exc.reason})") from None
    try:
        return json.loads(text, object_pairs_hook=_object_without_duplicate_keys)
    except _DuplicateKey as exc:
        raise SourceDataError(f"GET {url}: a JSON object names the key {exc.args[0]!r} twice") from None
    except json.JSONDecodeError as exc:
        raise SourceDataError(f"GET {url}: the body is not JSON: {exc.msg} at line {exc.lineno} column "
                              f"{exc.colno} ({len(body):,} bytes)") from None
    except RecursionError:
        raise SourceDataError(f"GET {url}: the JSON is nested too deeply to parse (Python's limit is "
                              f"{sys.getrecursionlimit()} levels)") from None
    except (ValueError, OverflowError) as exc:  # e.g. an integer of more digits than int() accepts
        raise SourceDataError(f"GET {url}: the JSON holds a value that cannot be read: {exc}") from None


def _error_preview(response: requests.Response) -> str:
    """The first 300 bytes of an error answer, for the message; only those are read."""
    try:
        return next(response.iter_content(300), b"")[:300].decode("utf-8", "replace")
    except (requests.RequestException, zlib.error) as exc:
        return f"(body unreadable: {type(exc).__name__})"


def _checked_body(url: str, body: object) -> dict:
    """The answer as a page: a JSON object with a ``data`` list of objects; anything else is the source's fault."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise SourceDataError(f"GET {url} answered {type(body).__name__} without a 'data' list: not a page")
    if not all(isinstance(record, dict) for record in body["data"]):
        raise SourceDataError(f"GET {url}: 'data' holds something other than records (JSON objects)")
    check_nesting(f"GET {url}", body["data"])
    return body


def _hashable_key(key: tuple) -> tuple | str:
    """A record's key as a set can hold it: a key that holds a list or an object (a record the record rules will
    quarantine) is taken by its JSON text."""
    if any(isinstance(value, (list, dict)) for value in key):
        return json.dumps(key, sort_keys=True)
    return key


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
    max_response_bytes: int = MAX_RESPONSE_BYTES
    max_fetch_bytes: int = MAX_FETCH_BYTES
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
                                    ("page_size", int), ("max_pages", int), ("max_response_bytes", int),
                                    ("max_fetch_bytes", int))
                                   if name in endpoint.extra}
        return cls(base_url=f"{endpoint.schema or 'https'}://{endpoint.host}{port}", token=endpoint.password,
                   **options)

    def _attempt(self, url: str, fetched: _BytesRead) -> tuple[object | None, str]:
        """One request: the parsed body, or None and why asking again may help."""
        try:
            # Redirects are not followed: the bearer token would go wherever the source points, and a moved
            # service is a change of the connection an operator should make, not one to follow silently.
            response = self.session.get(url, timeout=self.timeout_s, stream=True, allow_redirects=False)
        except (requests.ConnectionError, requests.Timeout) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        with response:
            if response.status_code in RETRYABLE_STATUS:
                return None, f"HTTP {response.status_code}"
            if 300 <= response.status_code < 400:
                raise SourceDataError(f"GET {url} answered {response.status_code}, a redirect to "
                                      f"{response.headers.get('Location')!r}; redirects are not followed: if the "
                                      "service moved, change the connection")
            if response.status_code != 200:
                # Asking again cannot help: wrong credentials, a moved endpoint or a refused parameter.
                raise SourceDataError(f"GET {url} answered {response.status_code}: {_error_preview(response)}")
            _check_content_type(url, response)
            try:
                body = _read_body(url, response, self.max_response_bytes, fetched)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                return None, f"the body was cut short: {type(exc).__name__}: {exc}"
        return _parsed_json(url, body), ""

    def _get_page(self, entity: Entity, path: str, params: dict, seen: set[tuple | str],
                  fetched: _BytesRead) -> dict:
        """One page; a page whose records were all served before (a page delivered twice) is asked for again."""
        url = f"{self.base_url}{path}?{urlencode(params)}"

        def attempt() -> tuple[dict | None, str]:
            answer, problem = self._attempt(url, fetched)
            if answer is None:
                return None, problem
            body = _checked_body(url, answer)
            keys = [_hashable_key(record_key(entity, record)) for record in body["data"]]
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
        seen: set[tuple | str] = set()
        fetched = _BytesRead(self.max_fetch_bytes)
        for _ in range(self.max_pages):
            if page_number is None:
                break
            params["page"] = page_number
            body = self._get_page(entity, entity.path, params, seen, fetched)
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
        seen: set[tuple | str] = set()
        cursors_seen: set[str] = set()
        fetched = _BytesRead(self.max_fetch_bytes)
        for _ in range(self.max_pages):
            params = {**bounds, **({"cursor": cursor} if cursor else {})}
            body = self._get_page(entity, entity.path, params, seen, fetched)
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
