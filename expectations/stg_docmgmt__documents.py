"""The documents agencies sent each other, as typed by staging: each sent by a known agency, each sender's
numbers given once a year (an issuer numbers its documents from 1 every January, Decree 30/2020)."""

import great_expectations as gx

from egov.core.periods import Period
from egov_expectations.references import AGENCIES, Code, known_codes, unique_within_year
from egov_expectations.suite import Suite, table_slice

TABLE = "staging.stg_docmgmt__documents"


def expectations(period: Period) -> list:
    return [
        known_codes("document", [Code("sender_agency_code", "sender agency", AGENCIES)]),
        # Staging reads the medium from the source's own codes (dien_tu, giay); any other code leaves it null, and
        # the document out of both the electronic and the paper counts.
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query="select document_id, document_number, sender_agency_code, sent_on from {batch} "
                                  "where medium is null",
            description="every document's medium is electronic (dien_tu) or paper (giay)"),
        unique_within_year(TABLE, ["sender_agency_code", "document_number"], "sent_on", period,
                           "no sender gives one document number twice in a year"),
    ]


SUITE = Suite(name="stg_docmgmt__documents", table=TABLE, layer="staging",
              slice_query=table_slice(TABLE, "sent_on"), expectations=expectations)
