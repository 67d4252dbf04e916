"""The CA's agency list as typed by staging: the reference of certificates' agencies, itself made of the
warehouse's agencies, each once."""

from egov.core.periods import Period
from egov_expectations.references import AGENCIES, Code, known_codes, unique_key
from egov_expectations.suite import Suite, whole_table

TABLE = "staging.stg_ca__agencies"


def expectations(period: Period) -> list:
    return [
        known_codes("CA agency", [Code("agency_code", "code", AGENCIES)]),
        unique_key(["agency_code"], "one agency per code in the CA's agency list"),
    ]


SUITE = Suite(name="stg_ca__agencies", table=TABLE, layer="staging", slice_query=whole_table(TABLE),
              expectations=expectations)
