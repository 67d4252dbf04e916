"""The one-stop system's dossier counts as typed by staging: known codes, counts that can be summed."""

import great_expectations as gx

from egov.core.periods import Period
from egov_expectations.suite import Suite, table_slice

TABLE = "staging.stg_onestop__dossier_counts"


def expectations(period: Period) -> list:
    # Anti-joins written as joins: GX aliases {batch} itself unless the query joins.
    unknown_procedures = """
        select counts.procedure_code, count(*) as records
        from {batch} as counts
        left join (select distinct procedure_code from staging.stg_onestop__procedures) as procedures
            on procedures.procedure_code = counts.procedure_code
        where procedures.procedure_code is null
        group by counts.procedure_code
    """
    unknown_units = """
        select counts.agency_code, count(*) as records
        from {batch} as counts
        left join staging.stg_onestop__units as units on units.agency_code = counts.agency_code
        where units.agency_code is null
        group by counts.agency_code
    """
    return [
        gx.expectations.ExpectColumnValuesToNotBeNull(column="dossier_count", description="every count is a number"),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="dossier_count", min_value=0, description="no negative dossier counts at the source"),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="event_code", value_set=["received", "resolved_on_time", "resolved_late"],
            description="known dossier events"),
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=unknown_procedures,
            description="every procedure counted is in the system's procedure catalogue"),
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=unknown_units, description="every unit counted is in the system's unit list"),
    ]


SUITE = Suite(name="stg_onestop__dossier_counts", table=TABLE, layer="staging",
              slice_query=table_slice(TABLE, "report_date"), expectations=expectations)
