"""The one-stop system's dossier counts as typed by staging: known codes, counts that can be summed."""

import great_expectations as gx

from egov.core.periods import Period
from egov_expectations.references import CHANNELS, ONESTOP_PROCEDURES, ONESTOP_UNITS, Code, known_codes
from egov_expectations.suite import Suite, table_slice

TABLE = "staging.stg_onestop__dossier_counts"


def expectations(period: Period) -> list:
    # One count per day, unit, procedure, channel and event is the raw table's key, checked by its raw suite.
    return [
        gx.expectations.ExpectColumnValuesToNotBeNull(column="dossier_count", description="every count is a number"),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="dossier_count", min_value=0, description="no negative dossier counts at the source"),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="event_code", value_set=["received", "resolved_on_time", "resolved_late"],
            description="known dossier events"),
        known_codes("dossier count", [Code("agency_code", "unit", ONESTOP_UNITS),
                                      Code("procedure_code", "procedure", ONESTOP_PROCEDURES),
                                      Code("channel_code", "channel", CHANNELS)]),
    ]


SUITE = Suite(name="stg_onestop__dossier_counts", table=TABLE, layer="staging",
              slice_query=table_slice(TABLE, "report_date"), expectations=expectations)
