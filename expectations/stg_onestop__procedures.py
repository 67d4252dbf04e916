"""The one-stop system's procedure catalogue as typed by staging: versions that do not overlap in their key, each
province-tier procedure handled by a unit of the system."""

from egov.core.periods import Period
from egov_expectations.references import ONESTOP_LEVELS, ONESTOP_UNITS, Code, known_codes, unique_key
from egov_expectations.suite import Suite, whole_table

TABLE = "staging.stg_onestop__procedures"


def expectations(period: Period) -> list:
    return [
        # District and commune procedures have no handling agency (null): every unit of the tier handles them.
        known_codes("procedure", [Code("procedure_tier", "tier", ONESTOP_LEVELS),
                                  Code("agency_code", "handling agency", ONESTOP_UNITS)]),
        unique_key(["procedure_code", "valid_from"], "one catalogue version per procedure and first day"),
    ]


SUITE = Suite(name="stg_onestop__procedures", table=TABLE, layer="staging", slice_query=whole_table(TABLE),
              expectations=expectations)
