"""The CA's certificate versions as typed by staging: the dates a stock of active certificates is derived from."""

import great_expectations as gx

from egov.core.config import LOCAL_TIMEZONE
from egov.core.periods import Period
from egov_expectations.references import CA_AGENCIES, Code, known_codes
from egov_expectations.suite import Suite, days_of

TABLE = "staging.stg_ca__certificate_versions"


def slice_query(period: Period) -> str:
    local_day = f"(updated_at at time zone '{LOCAL_TIMEZONE.key}')::date"
    return f"select * from {TABLE} where {days_of(local_day, period)}"


def expectations(period: Period) -> list:
    return [
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="holder_type", value_set=["organisation", "person"], description="known holder types"),
        gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="expires_at", column_B="issued_at", or_equal=False,
            description="a certificate expires after it is issued"),
        gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="revoked_at", column_B="issued_at", or_equal=True, ignore_row_if="either_value_is_missing",
            description="a certificate is revoked only after it is issued"),
        known_codes("certificate", [Code("agency_code", "agency", CA_AGENCIES)]),
    ]


SUITE = Suite(name="stg_ca__certificate_versions", table=TABLE, layer="staging", slice_query=slice_query,
              expectations=expectations)
