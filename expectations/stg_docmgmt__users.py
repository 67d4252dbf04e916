"""The document-management system's accounts as typed by staging: each of a known agency, with a sign-in name
of its own. The system has no agency list of its own that it exports: its units are the warehouse's agencies."""

from egov.core.periods import Period
from egov_expectations.references import AGENCIES, Code, known_codes, unique_key
from egov_expectations.suite import Suite, whole_table

TABLE = "staging.stg_docmgmt__users"


def expectations(period: Period) -> list:
    return [
        known_codes("account", [Code("agency_code", "agency", AGENCIES)]),
        unique_key(["username"], "one account per sign-in name"),
    ]


SUITE = Suite(name="stg_docmgmt__users", table=TABLE, layer="staging", slice_query=whole_table(TABLE),
              expectations=expectations)
