"""The portal's component sites as typed by staging: each run by a known agency (or by none), each code once."""

from egov.core.periods import Period
from egov_expectations.references import AGENCIES, Code, known_codes, unique_key
from egov_expectations.suite import Suite, whole_table

TABLE = "staging.stg_portal__sites"


def expectations(period: Period) -> list:
    return [
        # Sites of offices outside the warehouse's agencies (the provincial people's committee's office) name none.
        known_codes("site", [Code("agency_code", "agency", AGENCIES)]),
        unique_key(["site_code"], "one site per site code"),
    ]


SUITE = Suite(name="stg_portal__sites", table=TABLE, layer="staging", slice_query=whole_table(TABLE),
              expectations=expectations)
