"""The one-stop simulator's HTTP API: bearer token, paging, date-range rules and injected faults."""

from datetime import date

import pytest
from egov_demo.simulators.onestop.app import create_app
from egov_demo.simulators.onestop.generator import Faults, build_dataset
from fastapi.testclient import TestClient

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MARCH_WEEK = {"from_date": "2019-03-04", "to_date": "2019-03-10"}


@pytest.fixture(scope="module")
def onestop():
    return build_dataset()


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture
def client(onestop, faults) -> TestClient:
    return TestClient(create_app(onestop, TOKEN, faults))


def all_pages(client: TestClient, path: str, page_size: int, **params) -> tuple[list[dict], list[dict]]:
    """(rows of every page in order, the envelopes without their data)."""
    rows, envelopes, page = [], [], 1
    while page is not None:
        response = client.get(path, params={**params, "page": page, "page_size": page_size}, headers=AUTH)
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body.pop("data")
        envelopes.append(body)
        page = body["next_page"]
    return rows, envelopes


def test_health_needs_no_token(client):
    response = client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/api/v1/units", "/api/v1/procedures", "/api/v1/dossier-counts",
                                  "/api/v1/daily-closes"])
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN, "Bearer "])
def test_requests_without_the_right_bearer_token_are_refused(client, path, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get(path, params=MARCH_WEEK, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "detail" in response.json()


def test_pages_cover_every_dossier_count_exactly_once_in_order(client, onestop):
    rows, envelopes = all_pages(client, "/api/v1/dossier-counts", 997, **MARCH_WEEK)
    expected = onestop.dossier_counts(date(2019, 3, 4), date(2019, 3, 10))
    assert len(expected) > 3 * 997
    assert rows == expected
    total = len(expected)
    assert [e["page"] for e in envelopes] == list(range(1, len(envelopes) + 1))
    assert all(e["total"] == total and e["page_size"] == 997 for e in envelopes)
    assert envelopes[0]["total_pages"] == len(envelopes) == -(-total // 997)
    assert envelopes[-1]["next_page"] is None


def test_pages_cover_units_and_daily_closes(client, onestop):
    units, envelopes = all_pages(client, "/api/v1/units", 50)
    assert len(envelopes) == 3 and len({u["code"] for u in units}) == len(units) == 133
    closes, _ = all_pages(client, "/api/v1/daily-closes", 100, **MARCH_WEEK)
    assert closes == onestop.daily_closes(date(2019, 3, 4), date(2019, 3, 10))
    assert len({(c["date"], c["unit_code"]) for c in closes}) == 7 * 133


def test_a_page_past_the_last_is_empty(client):
    body = client.get("/api/v1/units", params={"page": 99}, headers=AUTH).json()
    assert body["data"] == [] and body["total"] == 133 and body["next_page"] is None


def test_procedures_as_of_a_day_are_the_versions_in_force(client):
    rows, _ = all_pages(client, "/api/v1/procedures", 10_000, as_of="2019-03-31")
    assert len(rows) == 1_931
    assert {"code", "name", "field", "tier", "agency_code", "service_level", "valid_from", "valid_to"} <= set(rows[0])
    assert all(r["valid_from"] <= "2019-03-31" and (r["valid_to"] is None or r["valid_to"] > "2019-03-31")
               for r in rows)
    every_version, _ = all_pages(client, "/api/v1/procedures", 10_000)
    assert len(every_version) > len(rows)


@pytest.mark.parametrize(
    "params",
    [
        {"page_size": 0},
        {"page_size": 10_001},
        {"page": 0},
        {"page": "first"},
    ],
)
def test_invalid_paging_is_rejected(client, params):
    assert client.get("/api/v1/units", params=params, headers=AUTH).status_code == 422


def test_the_largest_page_size_is_accepted(client):
    assert client.get("/api/v1/units", params={"page_size": 10_000}, headers=AUTH).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"from_date": "2019-03-10", "to_date": "2019-03-04"},
        {"from_date": "2019-01-01", "to_date": "2020-01-02"},
        {"from_date": "2019-02-30", "to_date": "2019-03-04"},
        {"from_date": "yesterday", "to_date": "2019-03-04"},
        {"from_date": "2019-03-04"},
        {},
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/dossier-counts", "/api/v1/daily-closes"])
def test_bad_date_ranges_are_rejected(client, path, params):
    response = client.get(path, params=params, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_a_366_day_range_is_accepted(client):
    response = client.get("/api/v1/daily-closes", params={"from_date": "2019-01-01", "to_date": "2020-01-01",
                                                         "page_size": 1}, headers=AUTH)
    assert response.status_code == 200 and response.json()["total"] == 366 * 133


def test_days_outside_the_simulated_horizon_give_an_empty_page(client):
    for path in ("/api/v1/dossier-counts", "/api/v1/daily-closes"):
        body = client.get(path, params={"from_date": "2017-01-01", "to_date": "2017-12-31"}, headers=AUTH).json()
        assert body == {"data": [], "page": 1, "page_size": 1000, "total": 0, "total_pages": 0, "next_page": None}


def test_negative_count_fault_corrupts_the_first_record_of_the_day(client, onestop, faults):
    faults.negative_count_on.add(date(2019, 3, 6))
    rows, envelopes = all_pages(client, "/api/v1/dossier-counts", 500, **MARCH_WEEK)
    truth = onestop.dossier_counts(date(2019, 3, 4), date(2019, 3, 10))
    differing = [i for i, (sent, true) in enumerate(zip(rows, truth, strict=True)) if sent != true]
    first_of_day = next(i for i, row in enumerate(truth) if row["date"] == "2019-03-06")
    assert differing == [first_of_day]
    assert rows[first_of_day] == {**truth[first_of_day], "count": -5}
    assert envelopes[0]["total"] == len(truth)


def test_malformed_fault_adds_one_unparseable_record(client, onestop, faults):
    faults.malformed_on.add(date(2019, 3, 6))
    rows, envelopes = all_pages(client, "/api/v1/dossier-counts", 500, **MARCH_WEEK)
    truth = onestop.dossier_counts(date(2019, 3, 4), date(2019, 3, 10))
    assert envelopes[0]["total"] == len(rows) == len(truth) + 1
    (extra,) = [row for row in rows if row not in truth]
    assert extra["date"] == "2019-03-06" and extra["count"] == "abc" and "channel" not in extra
    outside = client.get("/api/v1/dossier-counts", params={"from_date": "2019-03-07", "to_date": "2019-03-07"},
                         headers=AUTH).json()
    assert all(isinstance(row["count"], int) for row in outside["data"])


def test_failing_requests_answer_503_until_the_budget_is_spent(client, faults):
    faults.fail_requests = 2
    assert client.get("/api/v1/units").status_code == 401  # refused before it can use up a failure
    assert client.get("/health").status_code == 200
    first, second = (client.get("/api/v1/dossier-counts", params=MARCH_WEEK, headers=AUTH) for _ in range(2))
    assert first.status_code == second.status_code == 503
    assert first.headers["Retry-After"] == "1"
    assert client.get("/api/v1/dossier-counts", params=MARCH_WEEK, headers=AUTH).status_code == 200
    assert faults.fail_requests == 0
