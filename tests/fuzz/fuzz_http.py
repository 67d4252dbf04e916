"""JSON over HTTP: generated pages served by a local HTTP server to the real page-numbered connector.

The pages imitate the one-stop and portal APIs (the simulators' envelope: ``data``, ``total``, ``next_page``).
The first record of every page is sound and has a key of its own, as any page a source serves has: a page made
only of records seen before is one the connector asks for again, and a load in which no record has a field is
schema drift; both are the page's business, not a record's. Now and then one page carries a page-level fault.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from fuzz_checks import Offer, fuzz_source
from fuzz_values import json_record, one_in, valid_record
from hypothesis import strategies as st

from egov.core.sources import ONESTOP, PORTAL, Entity, Source
from egov.ingest.connectors.http import HttpApiConnector

DAY = date(2019, 3, 4)
#: Page-level faults, each refused by the connector as SourceDataError or SourceUnavailable.
PAGE_FAULTS = ("not_an_object", "no_data_list", "record_not_an_object", "total_negative", "total_as_text",
               "total_too_small", "total_too_large", "next_page_back", "next_page_as_text", "empty_page_promising_more",
               "truncated_json", "status_503", "status_404", "integer_of_5000_digits")


@dataclass
class ScriptedPage:
    status: int
    body: bytes


class ScriptedApi:
    """An HTTP server on 127.0.0.1 that answers ``?page=N`` with the N-th page of the current script."""

    def __init__(self) -> None:
        self.pages: list[ScriptedPage] = []
        self.served = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the connector's session reuses one connection
            # Headers and body go out in two writes: without TCP_NODELAY each answer waits 40 ms for a delayed ACK.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                number = int(parse_qs(urlsplit(self.path).query).get("page", ["1"])[0])
                page = api.pages[number - 1] if 0 < number <= len(api.pages) else ScriptedPage(404, b"{}")
                api.served += 1
                self.send_response(page.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(page.body)))
                self.end_headers()
                self.wfile.write(page.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass(frozen=True)
class HttpBatch:
    #: The entity, as "source.entity", for a failing example's report (the registry objects would fill a page).
    what: str
    original: Source = field(repr=False)
    entity: Entity = field(repr=False)
    pages: tuple[ScriptedPage, ...]
    records: int
    fault: str | None


def _envelope(records: list, total: int, number: int, last: int) -> dict:
    return {"data": records, "page": number, "total": total, "next_page": None if number == last else number + 1}


def _faulty(fault: str, body: dict, number: int) -> ScriptedPage:
    """Page ``number`` (its sound ``body``) with ``fault`` put in."""
    changes: dict[str, dict] = {
        "no_data_list": {"data": {"records": body["data"]}},
        "record_not_an_object": {"data": [*body["data"], "not a record"]},
        "total_negative": {"total": -1},
        "total_as_text": {"total": str(body["total"])},
        "total_too_small": {"total": 0},
        "total_too_large": {"total": body["total"] + 3, "next_page": None},
        "next_page_back": {"next_page": number},
        "next_page_as_text": {"next_page": str(number + 1)},
        "empty_page_promising_more": {"data": [], "next_page": number + 1},
    }
    if fault in changes:
        return ScriptedPage(200, json.dumps({**body, **changes[fault]}).encode())
    text = json.dumps(body).encode()
    return {
        "not_an_object": ScriptedPage(200, json.dumps(body["data"]).encode()),
        "truncated_json": ScriptedPage(200, text[: len(text) // 2]),
        "status_503": ScriptedPage(503, b'{"detail": "busy"}'),
        "status_404": ScriptedPage(404, b'{"detail": "no such page"}'),
        "integer_of_5000_digits": ScriptedPage(200, b'{"data": [{"count": ' + b"9" * 5000 + b'}], "total": 1}'),
    }[fault]


@st.composite
def http_batches(draw: st.DrawFn) -> HttpBatch:
    """Seven to nine pages of one to four records, in one batch in five a page with a page-level fault."""
    original, entity = draw(st.sampled_from([(source, entity) for source in (ONESTOP, PORTAL)
                                             for entity in source.entities]))
    page_count = draw(st.integers(7, 9))
    number, earlier, pages = 0, [], []
    for _ in range(page_count):
        records = []
        for position in range(draw(st.integers(1, 4))):
            record = (valid_record(entity, number, DAY) if position == 0
                      else draw(json_record(entity, number, DAY, earlier)))
            records.append(record)
            earlier.append(record)
            number += 1
        pages.append(records)
    bodies = [_envelope(records, number, index + 1, page_count) for index, records in enumerate(pages)]
    scripted = [ScriptedPage(200, json.dumps(body, allow_nan=True).encode()) for body in bodies]
    fault = one_in(draw, 5, PAGE_FAULTS, spread=number)
    if fault is not None:
        at = draw(st.integers(0, page_count - 1))
        scripted[at] = _faulty(fault, bodies[at], at + 1)
    return HttpBatch(f"{original.key}.{entity.name}", original, entity, tuple(scripted), number, fault)


def offer(api: ScriptedApi, batch: HttpBatch) -> Offer:
    """The batch served by ``api`` to a real HttpApiConnector that tries once (a retry would get the same page)."""
    api.pages = list(batch.pages)
    connector = HttpApiConnector(api.base_url, "fuzz-token", timeout_s=10, max_attempts=1, backoff_s=0)
    window = (DAY, DAY + timedelta(days=1)) if batch.entity.windowed else None
    return Offer(batch.original, fuzz_source(batch.original, "http"), batch.entity, window, connector,
                 len(batch.pages), batch.records, batch.fault)
