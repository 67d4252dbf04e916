"""The mail system's daily export as typed by staging: each agency's mailbox count carries over day to day."""

import great_expectations as gx

from egov.core.periods import Period
from egov_expectations.references import AGENCIES, Code, known_codes, unique_key
from egov_expectations.suite import Suite, table_slice

TABLE = "staging.stg_mail__accounts_daily"


def expectations(period: Period) -> list:
    # Yesterday's total plus today's created minus closed is today's total; the first day of the
    # slice is compared with the export of the day before it, when that was loaded.
    broken_carry_over = f"""
        select today.agency_code, today.report_date, yesterday.accounts_total as previous_total,
               today.accounts_created, today.accounts_closed, today.accounts_total
        from {{batch}} as today
        inner join {TABLE} as yesterday
            on yesterday.agency_code = today.agency_code and yesterday.report_date = today.report_date - 1
        where yesterday.accounts_total + today.accounts_created - today.accounts_closed <> today.accounts_total
    """
    return [
        # The mail system exports no agency list of its own: its units are the warehouse's agencies.
        known_codes("export line", [Code("agency_code", "agency", AGENCIES)]),
        unique_key(["report_date", "agency_code"], "one export line per agency and day"),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="accounts_created", min_value=0, description="no negative mailboxes created"),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="accounts_closed", min_value=0, description="no negative mailboxes closed"),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="accounts_total", min_value=0, description="no negative mailbox totals"),
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=broken_carry_over,
            description="each agency's total carries over: yesterday's + created − closed = today's"),
    ]


SUITE = Suite(name="stg_mail__accounts_daily", table=TABLE, layer="staging",
              slice_query=table_slice(TABLE, "report_date"), expectations=expectations)
