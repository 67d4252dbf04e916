"""The HTTP connector against the real simulator: paging, retries with backoff, timeouts, refusals; and against
scripted answers: redirects, size caps, strict decoding."""

from __future__ import annotations

import gzip
import json
import socket
import threading
from datetime import date

import pytest
from scripted_http import JSON, Scripted, ScriptedServer, ScriptedSession, answer

from egov.core.sources import CA, ONESTOP
from egov.ingest.connectors.base import MAX_NESTING, Endpoint
from egov.ingest.connectors.http import CursorApiConnector, HttpApiConnector
from egov.ingest.errors import SourceDataError, SourceUnavailable

COUNTS = next(e for e in ONESTOP.entities if e.name == "dossier_counts")
WEEK = (date(2019, 3, 4), date(2019, 3, 11))


def connector(simulator, **overrides) -> HttpApiConnector:
    settings = {"backoff_s": 0.01, "max_attempts": 3, "timeout_s": 5, "page_size": 1000, **overrides}
    return HttpApiConnector(simulator.base_url, simulator.token, **settings)


def test_pages_deliver_every_record_of_the_window_once(simulator, dataset):
    pages = list(connector(simulator).pages(COUNTS, WEEK))
    records = [r for page in pages for r in page.records]
    assert len(pages) > 1, "the week must span several pages for this test to mean anything"
    assert records == dataset.dossier_counts(WEEK[0], date(2019, 3, 10))
    assert "from_date=2019-03-04" in pages[0].request and "to_date=2019-03-10" in pages[0].request


def test_a_flaky_source_is_retried_until_it_answers(simulator, dataset):
    simulator.faults.fail_requests = 2
    try:
        records = [r for p in connector(simulator, max_attempts=3).pages(COUNTS, WEEK) for r in p.records]
    finally:
        remaining, simulator.faults.fail_requests = simulator.faults.fail_requests, 0
    assert remaining == 0
    assert len(records) == len(dataset.dossier_counts(WEEK[0], date(2019, 3, 10)))


def test_a_source_that_stays_down_fails_clearly_after_its_attempts(simulator):
    simulator.faults.fail_requests = 10
    try:
        with pytest.raises(SourceUnavailable, match=r"failed after 2 attempts: HTTP 503"):
            list(connector(simulator, max_attempts=2).pages(COUNTS, WEEK))
    finally:
        simulator.faults.fail_requests = 0


def test_a_page_delivered_twice_is_asked_for_again(simulator, dataset):
    simulator.faults.repeat_page = 1
    try:
        pages = list(connector(simulator).pages(COUNTS, WEEK))
    finally:
        repeated, simulator.faults.repeat_page = simulator.faults.repeat_page, None
    assert repeated is None, "the simulator must have served the repeated page"
    assert [r for page in pages for r in page.records] == dataset.dossier_counts(WEEK[0], date(2019, 3, 10))


def test_a_refused_token_is_not_retried(simulator):
    with pytest.raises(SourceDataError, match="answered 401"):
        list(HttpApiConnector(simulator.base_url, "wrong-token", backoff_s=5).pages(COUNTS, WEEK))


def test_a_source_that_never_answers_times_out():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        accepted = []
        threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
        silent = HttpApiConnector(f"http://127.0.0.1:{listener.getsockname()[1]}", "t", timeout_s=0.3,
                                  max_attempts=2, backoff_s=0.01)
        with pytest.raises(SourceUnavailable, match="Timeout"):
            list(silent.pages(COUNTS, WEEK))


def page(data, total, next_page):
    return {"data": data, "total": total, "next_page": next_page}


def record(number):
    return {"date": "2019-03-04", "unit_code": f"u{number}"}


@pytest.mark.parametrize(("bodies", "problem"), [
    ([page([record(1)], 3, 1)], "does not advance"),
    ([page([record(1)], 2, 2), page([record(2)], 3, None)], "total changed"),
    ([page([record(1)], 3, None)], "1 records received but the source announced 3"),
    ([page([record(1)], 2, 2)] + [page([record(1)], 2, None)] * 2, "repeats 1 records already received"),
])
def test_inconsistent_paging_is_refused_not_loaded(bodies, problem):
    scripted = HttpApiConnector("http://source", "t", session=ScriptedSession(bodies), max_attempts=2,
                                backoff_s=0.01)
    with pytest.raises(SourceUnavailable, match=problem):
        list(scripted.pages(COUNTS, WEEK))


@pytest.mark.parametrize(("bodies", "problem"), [
    ([page([record(1)], 2, 2), page([], 2, 3), page([], 2, 4)], "page 2 is empty but names page 3 next"),
    ([page([record(1)], 2, 2), page([record(2)], 2, 3), page([record(3)], 2, 4)],
     "3 records received, more than the 2 the source announced"),
    ([[record(1)]], "answered list without a 'data' list"),
    ([{"total": 1, "next_page": None}], "without a 'data' list"),
    ([page(["not a record"], 1, None)], "'data' holds something other than records"),
    ([page([record(1)], "1", None)], "'total' is '1', not a non-negative whole number"),
    ([page([record(1)], 2, "2")], "'next_page' is '2', not a non-negative whole number"),
])
def test_a_source_that_keeps_paging_or_answers_no_page_is_refused_as_bad_data(bodies, problem):
    scripted = HttpApiConnector("http://source", "t", session=ScriptedSession(bodies), max_attempts=2,
                                backoff_s=0.01)
    with pytest.raises(SourceDataError, match=problem):
        list(scripted.pages(COUNTS, WEEK))


CERTIFICATES = next(e for e in CA.entities if e.date_field)


def feed_page(number: int, cursor: str | None, has_more: bool = True) -> dict:
    return {"data": [{field: f"{field}-{number}" for field in CERTIFICATES.key}], "next_cursor": cursor,
            "has_more": has_more}


@pytest.mark.parametrize(("bodies", "problem", "max_pages"), [
    ([feed_page(1, "A"), feed_page(2, "B"), feed_page(3, "A")], "the cursor 'A' came back", 100),
    ([feed_page(1, "A"), {"data": [], "next_cursor": "B", "has_more": True}], "an empty page says there is more",
     100),
    ([feed_page(number, f"c{number}") for number in range(1, 5)], "still paging after 3 pages", 3),
    ([feed_page(1, 7)], "the cursor is 7, not a string", 100),
])
def test_a_change_feed_that_never_ends_is_refused_as_bad_data(bodies, problem, max_pages):
    scripted = CursorApiConnector("http://source", "t", session=ScriptedSession(bodies), max_attempts=2,
                                  backoff_s=0.01, max_pages=max_pages)
    with pytest.raises(SourceDataError, match=problem):
        list(scripted.pages(CERTIFICATES, WEEK))


def test_a_change_feed_that_ends_loads_every_page():
    bodies = [feed_page(1, "A"), feed_page(2, "B"), feed_page(3, None, has_more=False)]
    scripted = CursorApiConnector("http://source", "t", session=ScriptedSession(bodies), max_pages=3)
    assert sum(len(found.records) for found in scripted.pages(CERTIFICATES, WEEK)) == 3


ONE_PAGE = b'{"data": [{"date": "2019-03-04", "unit_code": "u1"}], "total": 1, "next_page": null}'


def served(*answers: Scripted, **settings) -> tuple[ScriptedServer, HttpApiConnector]:
    server = ScriptedServer(*answers)
    return server, HttpApiConnector(server.base_url, "t", **{"max_attempts": 2, "backoff_s": 0.01, **settings})


def test_a_redirect_is_refused_naming_where_it_points_and_not_followed():
    server, http = served(Scripted(status=302, headers={"Location": "/moved"}), Scripted(ONE_PAGE))
    with server, pytest.raises(SourceDataError, match=r"answered 302, a redirect to '/moved'; redirects are not"):
        list(http.pages(COUNTS, WEEK))
    assert [path.split("?")[0] for path in server.paths] == [COUNTS.path]


def test_an_answer_that_never_ends_is_cut_off_at_the_response_cap_while_it_streams():
    endless = (b" " * 65536 for _ in range(4096))  # 256 MiB, unless the client hangs up first
    server, http = served(Scripted(endless), max_response_bytes=1_000_000)
    with server, pytest.raises(SourceDataError, match=r"larger than its cap of 1,000,000 bytes \(1,048,576 read"):
        list(http.pages(COUNTS, WEEK))
    assert server.sent < 64 * 2**20, "the connector must stop reading at the cap, not read the answer to its end"


def test_a_small_gzip_body_that_inflates_past_the_cap_is_refused_while_it_inflates():
    bomb = gzip.compress(b" " * 50_000_000)
    server, http = served(Scripted(bomb, headers={**JSON, "Content-Encoding": "gzip"}), max_response_bytes=1_000_000)
    with server, pytest.raises(SourceDataError, match="larger than its cap of 1,000,000 bytes"):
        list(http.pages(COUNTS, WEEK))


def test_a_body_cut_short_is_asked_for_again_as_a_transport_fault():
    cut = Scripted(ONE_PAGE[:20], headers={**JSON, "Content-Length": str(len(ONE_PAGE))})
    server, http = served(cut, cut)
    with server, pytest.raises(SourceUnavailable, match="failed after 2 attempts: the body was cut short"):
        list(http.pages(COUNTS, WEEK))


def test_the_pages_of_one_fetch_together_are_capped():
    page_one = {"data": [record(1)], "total": 3, "next_page": 2}
    page_two = {"data": [record(2)], "total": 3, "next_page": 3}
    size = len(answer(page_one).raw.read())
    scripted = HttpApiConnector("http://source", "t", session=ScriptedSession([page_one, page_two]),
                                max_fetch_bytes=size + 10)
    assert len(answer(page_two).raw.read()) == size
    with pytest.raises(SourceDataError, match=rf"this fetch has read {2 * size:,} bytes, more than its cap of "
                                              rf"{size + 10:,} \(max_fetch_bytes"):
        list(scripted.pages(COUNTS, WEEK))


def test_the_caps_are_set_in_the_connections_extra():
    endpoint = Endpoint("source", password="t", extra={"max_response_bytes": "2048", "max_fetch_bytes": 4096})
    http = HttpApiConnector.from_endpoint(endpoint)
    assert (http.max_response_bytes, http.max_fetch_bytes) == (2048, 4096)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(("body", "headers", "problem"), [
    (ONE_PAGE.replace(b"u1", b"u\xff"), {},
     rf"not UTF-8: byte {ONE_PAGE.index(b'u1') + 1} of {len(ONE_PAGE)} is b'\\xff' \(invalid start byte\)"),
    (b"\xef\xbb\xbf" + ONE_PAGE, {}, "not JSON: Unexpected UTF-8 BOM"),
    (b"<html>502 Bad Gateway</html>", {"Content-Type": "text/html"},
     "Content-Type is 'text/html', not application/json"),
    (ONE_PAGE, {"Content-Type": "application/json; charset=iso-8859-1"}, "charset iso-8859-1; JSON must be UTF-8"),
    (ONE_PAGE, {"Content-Type": ""}, "Content-Type is '', not application/json"),
    (ONE_PAGE[:40], {}, r"not JSON: .* \(40 bytes\)"),
    (b'{"data": [], "total": 0, "data": [{"date": "2019-03-04"}], "next_page": null}', {},
     "a JSON object names the key 'data' twice"),
    (ONE_PAGE.replace(b'"unit_code": "u1"', b'"unit_code": "u1", "unit_code": "u2"'), {},
     "names the key 'unit_code' twice"),
    (nested(100_000).encode(), {}, "nested too deeply to parse"),
    (ONE_PAGE.replace(b'"unit_code": "u1"', b'"note": ' + nested(MAX_NESTING + 1).encode()), {},
     f"record 0 field 'note' nests lists or objects more than {MAX_NESTING} deep"),
    (ONE_PAGE.replace(b'"total": 1', b'"total": 1' + b"0" * 5000), {},
     "holds a value that cannot be read.*digits"),
    (b"this is not gzip", {"Content-Encoding": "gzip"}, "does not decompress as its Content-Encoding 'gzip' says"),
])
def test_a_body_that_is_not_strict_utf8_json_is_refused_as_bad_data_with_the_reason(body, headers, problem):
    """One scripted answer only: a refusal that were retried would ask for a second and fail the test."""
    scripted = HttpApiConnector("http://source", "t", session=ScriptedSession([answer(body, headers=headers)]),
                                max_attempts=3, backoff_s=0.01)
    with pytest.raises(SourceDataError, match=problem):
        list(scripted.pages(COUNTS, WEEK))


def test_a_record_nested_up_to_the_limit_is_left_to_the_record_rules():
    body = ONE_PAGE.replace(b'"unit_code": "u1"', b'"note": ' + nested(MAX_NESTING).encode())
    scripted = HttpApiConnector("http://source", "t", session=ScriptedSession([body]))
    (record_read,) = next(scripted.pages(COUNTS, WEEK)).records
    assert record_read["note"] == json.loads(nested(MAX_NESTING))


def test_a_record_whose_key_holds_a_list_or_an_object_is_passed_on_to_the_record_rules():
    odd = [{"date": ["2019-03-04"], "unit_code": {"code": "u1"}}, {"date": ["2019-03-04"], "unit_code": {"code": "u2"}}]
    scripted = HttpApiConnector("http://source", "t", session=ScriptedSession([page(odd, 2, None)]))
    assert [found.records for found in scripted.pages(COUNTS, WEEK)] == [odd]
