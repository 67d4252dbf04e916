"""The simulated digital-signature CA: the Q1/2019 report by construction, a plausible history, and a change feed
whose cursor paging, bounds, errors and injected faults behave as documented.

Figures are recomputed from what the API serves, walking the cursor chain as a client would.
"""

import base64
import re
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from egov_demo.simulators.ca.app import create_app
from egov_demo.simulators.ca.generator import Faults, build_dataset
from egov_demo.simulators.workdays import PUBLIC_HOLIDAYS
from fastapi.testclient import TestClient

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CERTIFICATES = "/api/v1/certificates"
END_OF_Q1_2019 = datetime.fromisoformat("2019-03-31T23:59:59.999999+07:00")
ACTIVE = {"organisation": 453, "person": 26}
MARCH_2019 = {"updated_since": "2019-03-01T00:00:00+07:00", "updated_before": "2019-04-01T00:00:00+07:00"}
MAX_PAGES = 500  # a chain that does not end is a failure, not a hang
FIELDS = {"serial", "holder_type", "holder_name", "agency_code", "issued_at", "expires_at", "revoked_at", "updated_at"}


@pytest.fixture(scope="module")
def ca():
    return build_dataset()


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture
def client(ca, faults) -> TestClient:
    return TestClient(create_app(ca, TOKEN, faults))


def walk(client: TestClient, limit: int = 1000, **bounds) -> tuple[list[dict], list[dict]]:
    """(every record of the chain in order, each page's body) following next_cursor until it runs out."""
    records, bodies, cursor = [], [], None
    for _ in range(MAX_PAGES):
        params = {**bounds, "limit": limit} | ({"cursor": cursor} if cursor else {})
        response = client.get(CERTIFICATES, params=params, headers=AUTH)
        assert response.status_code == 200, response.text
        body = response.json()
        records += body["data"]
        bodies.append(body)
        cursor = body["next_cursor"]
        assert body["has_more"] is (cursor is not None)
        if cursor is None:
            return records, bodies
    raise AssertionError(f"the cursor chain did not end within {MAX_PAGES} pages")


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def feed_order(records: list[dict]) -> list[tuple[datetime, str]]:
    return [(at(record["updated_at"]), record["serial"]) for record in records]


def latest_states(records: list[dict]) -> dict[str, dict]:
    """Each certificate as its last version in the feed leaves it."""
    return {record["serial"]: record for record in records}


def active_at(states: dict[str, dict], moment: datetime) -> Counter:
    return Counter(
        state["holder_type"]
        for state in states.values()
        if at(state["issued_at"]) <= moment < at(state["expires_at"])
        and (state["revoked_at"] is None or at(state["revoked_at"]) > moment)
    )


@pytest.fixture(scope="module")
def feed(ca) -> list[dict]:
    return walk(TestClient(create_app(ca, TOKEN)))[0]


def test_active_certificates_at_the_end_of_q1_2019_match_the_report(feed):
    active = active_at(latest_states(feed), END_OF_Q1_2019)
    assert dict(active) == ACTIVE
    assert sum(active.values()) == 479


def test_active_certificates_grow_through_2018_and_2019(feed):
    states = latest_states(feed)
    totals = [sum(active_at(states, at(f"{day}T00:00:00+07:00")).values())
              for day in ("2016-07-01", "2017-01-01", "2018-01-01", "2018-07-01", "2019-01-01", "2019-07-01",
                          "2020-01-01")]
    assert totals == sorted(totals) and len(set(totals)) == len(totals)
    assert totals[2] < 479 * 0.6 < totals[4]  # most of the quarter-end stock was issued in 2018-2019


def test_certificates_are_issued_at_a_plausible_pace_in_office_hours_on_working_days(feed):
    holidays = {first + timedelta(days=n) for first, last in PUBLIC_HOLIDAYS for n in range((last - first).days + 1)}
    issued = [at(state["issued_at"]) for state in latest_states(feed).values()]
    assert all(moment.weekday() < 5 and moment.date() not in holidays for moment in issued)
    assert all("07:30" <= moment.strftime("%H:%M") < "17:00" for moment in issued)
    per_day = Counter(moment.date() for moment in issued if moment.year == 2019)
    assert 300 < sum(per_day.values()) < 600 and max(per_day.values()) <= 10
    assert min(issued).date() >= date(2016, 1, 1) and max(issued).date() <= date(2019, 12, 31)


def test_records_are_well_formed(feed, client):
    agencies = {row["code"]: row["name"] for row in client.get("/api/v1/agencies", headers=AUTH).json()["data"]}
    assert all(set(record) == FIELDS for record in feed)
    states = latest_states(feed)
    assert all(re.fullmatch(r"[0-9A-F]{16}", serial) for serial in states)
    assert sum(record["revoked_at"] is None for record in feed) == len(states)  # one issuance per serial
    for state in states.values():
        issued, expires = at(state["issued_at"]), at(state["expires_at"])
        assert state["agency_code"] in agencies
        assert issued.utcoffset() == expires.utcoffset() == at(state["updated_at"]).utcoffset() == timedelta(hours=7)
        assert expires.year - issued.year in (1, 2, 3) and expires.timetz() == issued.timetz()
        assert state["revoked_at"] is None or issued <= at(state["revoked_at"]) <= at(state["updated_at"])
        if state["holder_type"] == "organisation":
            assert state["holder_name"] == agencies[state["agency_code"]]
        else:
            assert state["holder_type"] == "person" and not state["holder_name"].isascii()
            assert len(state["holder_name"].split()) >= 3


def test_every_change_is_a_version_issuance_first_then_revocation(feed):
    by_serial: dict[str, list[dict]] = {}
    for record in feed:
        by_serial.setdefault(record["serial"], []).append(record)
    revoked = 0
    for versions in by_serial.values():
        assert versions[0]["revoked_at"] is None and versions[0]["updated_at"] == versions[0]["issued_at"]
        assert len(versions) <= 2
        if len(versions) == 2:
            revoked += 1
            assert at(versions[1]["updated_at"]) >= at(versions[1]["revoked_at"])
            assert {k: v for k, v in versions[1].items() if k not in ("revoked_at", "updated_at")} == {
                k: v for k, v in versions[0].items() if k not in ("revoked_at", "updated_at")}
    late_entries = sum(record["revoked_at"] is not None and record["updated_at"] != record["revoked_at"]
                       for record in feed)
    assert 0 < late_entries < revoked / 2


def test_the_same_seed_gives_the_same_certificates(ca):
    assert build_dataset(ca.seed).certificates == ca.certificates
    assert build_dataset(ca.seed + 1).certificates != ca.certificates


@pytest.mark.parametrize("limit", [1000, 333, 50, 7])
def test_cursor_pages_serve_every_version_exactly_once_in_order(client, ca, limit):
    records, bodies = walk(client, limit)
    assert records == [version.record() for version in ca.versions()]
    keys = feed_order(records)
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert all(len(body["data"]) == limit for body in bodies[:-1]) and 0 < len(bodies[-1]["data"]) <= limit


def test_bounds_are_inclusive_from_and_exclusive_to(client, feed):
    march, _ = walk(client, 10, **MARCH_2019)
    since, before = (at(value) for value in MARCH_2019.values())
    assert march == [record for record in feed if since <= at(record["updated_at"]) < before]
    assert len(march) > 2 * 10
    same_instants_in_utc, _ = walk(client, 1000, updated_since="2019-02-28T17:00:00Z",
                                   updated_before="2019-03-31T17:00:00+00:00")
    assert same_instants_in_utc == march

    boundary = march[10]["updated_at"]
    from_boundary, _ = walk(client, updated_since=boundary, updated_before=MARCH_2019["updated_before"])
    up_to_boundary, _ = walk(client, updated_since=MARCH_2019["updated_since"], updated_before=boundary)
    assert from_boundary[0]["updated_at"] == boundary and from_boundary == march[10:]
    assert up_to_boundary == march[:10]


def test_a_feed_without_bounds_or_past_its_end_is_handled(client, feed):
    body = client.get(CERTIFICATES, params={"updated_since": "2025-01-01T00:00:00+07:00"}, headers=AUTH).json()
    assert body == {"data": [], "next_cursor": None, "has_more": False}
    first = client.get(CERTIFICATES, headers=AUTH).json()
    assert first["data"] == feed[:500] and first["has_more"]


@pytest.mark.parametrize("path", [CERTIFICATES, "/api/v1/agencies"])
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", TOKEN])
def test_requests_without_the_right_bearer_token_are_refused(client, path, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize("cursor", [
    "not-a-cursor!",
    b64("not json"),
    b64("[1, 2]"),
    b64('{"since": null, "before": null, "after": ["2019-03-01T08:00:00", "AB"], "page_from": null, "page": 1}'),
    b64('{"since": null, "before": null, "after": null, "page_from": null, "page": 1}'),
    b64('{"since": null, "before": null, "after": ["2019-03-01T08:00:00+07:00", "AB"], "page_from": null, '
        '"page": 0}'),
])
def test_a_cursor_that_does_not_decode_is_rejected(client, cursor):
    response = client.get(CERTIFICATES, params={"cursor": cursor}, headers=AUTH)
    assert response.status_code == 422 and "cursor" in response.json()["detail"]


def test_a_cursor_with_other_bounds_is_rejected(client):
    first = client.get(CERTIFICATES, params={**MARCH_2019, "limit": 10}, headers=AUTH).json()
    other = {**MARCH_2019, "updated_since": "2019-03-02T00:00:00+07:00"}
    for params in (other, {"updated_since": MARCH_2019["updated_since"]}, {}):
        response = client.get(CERTIFICATES, params={**params, "cursor": first["next_cursor"]}, headers=AUTH)
        assert response.status_code == 422 and "bounds" in response.json()["detail"]
    same = client.get(CERTIFICATES, params={**MARCH_2019, "cursor": first["next_cursor"]}, headers=AUTH)
    assert same.status_code == 200


@pytest.mark.parametrize("params", [
    {"updated_since": "2019-03-01T00:00:00"},
    {"updated_before": "2019-03-01"},
    {"updated_since": "yesterday"},
    {"updated_since": "2019-03-02T00:00:00+07:00", "updated_before": "2019-03-02T00:00:00+07:00"},
    {"limit": 0},
    {"limit": 1001},
])
def test_bad_bounds_and_limits_are_rejected(client, params):
    response = client.get(CERTIFICATES, params=params, headers=AUTH)
    assert response.status_code == 422 and response.json()["detail"]


def test_agencies_are_the_133_units(client, ca):
    first = client.get("/api/v1/agencies", params={"page_size": 100}, headers=AUTH).json()
    second = client.get("/api/v1/agencies", params={"page": 2, "page_size": 100}, headers=AUTH).json()
    rows = first["data"] + second["data"]
    assert first["total"] == 133 and second["next_page"] is None
    assert rows == [{"code": unit.code, "name": unit.name} for unit in ca.units]


def test_late_entry_moves_the_issuance_versions_of_that_day_by_three_days(client, faults, feed):
    day = next(at(r["issued_at"]).date() for r in feed if r["issued_at"] >= MARCH_2019["updated_since"])
    issued_that_day = [r for r in feed if r["revoked_at"] is None and at(r["issued_at"]).date() == day]
    faults.late_entry_on.add(day)
    served, _ = walk(client)
    moved = [r for r in served if r["revoked_at"] is None and at(r["issued_at"]).date() == day]
    assert [{**r, "updated_at": r["issued_at"]} for r in moved] == issued_that_day
    assert all(at(r["updated_at"]) == at(r["issued_at"]) + timedelta(days=3) for r in moved)
    assert len(served) == len(feed) and feed_order(served) == sorted(feed_order(served))
    next_day = day + timedelta(days=1)
    that_day, _ = walk(client, updated_since=f"{day}T00:00:00+07:00", updated_before=f"{next_day}T00:00:00+07:00")
    assert issued_that_day and not {r["serial"] for r in moved} & {r["serial"] for r in that_day}


def test_a_backdated_revocation_appears_as_a_new_version(client, faults, feed):
    target = next(state for state in latest_states(feed).values()
                  if state["revoked_at"] is None and at(state["issued_at"]).year == 2018)
    revoked_at = datetime.fromisoformat("2019-02-14T09:00:00+07:00")
    faults.backdated_revocations[target["serial"]] = revoked_at
    served, _ = walk(client)
    assert len(served) == len(feed) + 1
    (extra,) = [record for record in served if record not in feed]
    assert extra == {**target, "revoked_at": "2019-02-14T09:00:00+07:00", "updated_at": "2019-02-24T09:00:00+07:00"}
    assert feed_order(served) == sorted(feed_order(served))


def test_a_malformed_record_is_served_on_the_chosen_day(client, faults, feed):
    faults.malformed_on.add(date(2019, 3, 12))
    served, _ = walk(client, 100, **MARCH_2019)
    (extra,) = [record for record in served if record not in feed]
    assert extra["holder_type"] == "unknown" and extra["issued_at"] == "not a date"
    assert extra["updated_at"].startswith("2019-03-12") and feed_order(served) == sorted(feed_order(served))
    since, before = (at(value) for value in MARCH_2019.values())
    assert [r for r in served if r != extra] == [r for r in feed if since <= at(r["updated_at"]) < before]


def test_repeat_page_serves_a_page_twice_then_carries_on(client, faults, feed):
    faults.repeat_page = 2
    served, bodies = walk(client, 100)
    assert bodies[2]["data"] == bodies[1]["data"] and bodies[2]["next_cursor"] == bodies[1]["next_cursor"]
    assert served == feed[:200] + feed[100:200] + feed[200:]
    assert faults.repeat_page is None


def test_failing_requests_answer_503_until_the_budget_is_spent(client, faults):
    faults.fail_requests = 2
    responses = [client.get(CERTIFICATES, params={"limit": 1}, headers=AUTH) for _ in range(3)]
    assert [response.status_code for response in responses] == [503, 503, 200]
