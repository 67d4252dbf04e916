"""The portal's language list as typed by staging: the reference of publications' languages, each code once."""

from egov.core.periods import Period
from egov_expectations.references import unique_key
from egov_expectations.suite import Suite, whole_table

TABLE = "staging.stg_portal__languages"


def expectations(period: Period) -> list:
    return [unique_key(["language_code"], "one language per code in the portal's language list")]


SUITE = Suite(name="stg_portal__languages", table=TABLE, layer="staging", slice_query=whole_table(TABLE),
              expectations=expectations)
