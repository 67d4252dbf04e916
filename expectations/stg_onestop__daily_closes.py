"""The one-stop units' daily closes as typed by staging: closed by units of the system, once a day each."""

from egov.core.periods import Period
from egov_expectations.references import ONESTOP_UNITS, Code, known_codes, unique_key
from egov_expectations.suite import Suite, table_slice

TABLE = "staging.stg_onestop__daily_closes"


def expectations(period: Period) -> list:
    return [
        known_codes("daily close", [Code("agency_code", "unit", ONESTOP_UNITS)]),
        unique_key(["report_date", "agency_code"], "one daily close per unit and day"),
    ]


SUITE = Suite(name="stg_onestop__daily_closes", table=TABLE, layer="staging",
              slice_query=table_slice(TABLE, "report_date"), expectations=expectations)
