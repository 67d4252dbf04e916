"""The one-stop system's unit list as typed by staging: the reference the system's other codes are checked
against, its own codes (the unit above, the administrative unit) in the administrative units."""

from egov.core.periods import Period
from egov_expectations.references import ADMIN_UNITS, ONESTOP_LEVELS, Code, known_codes, unique_key
from egov_expectations.suite import Suite, whole_table

TABLE = "staging.stg_onestop__units"


def expectations(period: Period) -> list:
    return [
        known_codes("unit", [Code("agency_level", "level", ONESTOP_LEVELS),
                             Code("parent_code", "parent unit", ADMIN_UNITS),
                             Code("admin_unit_code", "administrative unit", ADMIN_UNITS)]),
        unique_key(["agency_code"], "one unit per code in the one-stop system's unit list"),
    ]


SUITE = Suite(name="stg_onestop__units", table=TABLE, layer="staging", slice_query=whole_table(TABLE),
              expectations=expectations)
