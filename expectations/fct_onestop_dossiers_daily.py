"""Daily one-stop dossier facts of the period: typed, keyed, never negative."""

import great_expectations as gx
from great_expectations.expectations.metadata_types import FailureSeverity

from egov.core.periods import Period
from egov_expectations.suite import Suite, table_slice

TABLE = "marts.fct_onestop_dossiers_daily"
KEY = ["date_day", "agency_code", "procedure_code", "channel_code", "event_code"]


def expectations(period: Period) -> list:
    # Records the loader rejected from the batches this slice was built from: kept in
    # audit.rejected_records, and reported here so that nobody publishes without knowing.
    rejected_in_slice = """
        select rejected.batch_id, rejected.record_index, rejected.reason
        from audit.rejected_records as rejected
        where rejected.batch_id in (select distinct source_batch_id from {batch})
    """
    return [
        gx.expectations.ExpectTableRowCountToBeBetween(
            min_value=1, description=f"the period {period.label} has dossier facts at all"),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="dossier_count", min_value=0, description="no negative dossier counts"),
        gx.expectations.ExpectCompoundColumnsToBeUnique(
            column_list=KEY, description="one row per day, agency, procedure, channel and event"),
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="procedure_version_key",
            description="every procedure code is in the catalogue on the day of the event"),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="event_code", value_set=["received", "resolved_on_time", "resolved_late"],
            description="known events only"),
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=rejected_in_slice, severity=FailureSeverity.WARNING,
            description="no source records of the period were rejected at load"),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="channel_code", value_set=["in_person", "online", "postal"],
            description="known channels only"),
    ]


SUITE = Suite(name="fct_onestop_dossiers_daily", table=TABLE, layer="marts",
              slice_query=table_slice(TABLE, "date_day"), expectations=expectations)
