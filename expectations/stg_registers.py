"""The department's registers as typed by staging, one suite per sheet, declared here together since the four
flow registers follow one rule: the department numbers licences, certificates, inspection decisions and
complaints from 1 every January, so a number is unique within the year of its date (the raw suites' key, number
and date, would let the same number through twice in one year). A flow sheet's slice is its entries dated in the
period; the data-network sheet's, the registers as of the period's month ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from egov.core.periods import Period
from egov_expectations.references import DISTRICTS, ONESTOP_UNITS, Code, known_codes, unique_within_year
from egov_expectations.suite import Suite, table_slice

#: The province's code (dbt's var province_code): the Party and state bodies outside the one-stop system that the
#: data-network register introduces to the warehouse are coded in its space, 84.<abbreviation>.
PROVINCE_CODE = "84"


@dataclass(frozen=True)
class FlowSheet:
    model: str
    #: What one entry is, as a failure names it.
    entry: str
    number: str
    dated_by: str
    codes: tuple[Code, ...] = ()

    @property
    def table(self) -> str:
        return f"staging.{self.model}"

    def expectations(self, period: Period) -> list:
        found = [unique_within_year(self.table, [self.number], self.dated_by, period,
                                    f"no {self.entry} number is given twice in a year (numbers restart every January)")]
        if self.codes:
            found.append(known_codes(self.entry, self.codes))
        return found

    def suite(self) -> Suite:
        return Suite(name=self.model, table=self.table, layer="staging",
                     slice_query=table_slice(self.table, self.dated_by), expectations=self.expectations)


FLOW_SHEETS = (
    FlowSheet("stg_registers__publishing_licences", "licence", "licence_number", "issued_on"),
    FlowSheet("stg_registers__game_point_certificates", "game-point certificate", "certificate_number", "issued_on",
              codes=(Code("district_name", "district", DISTRICTS),)),
    FlowSheet("stg_registers__inspections", "inspection decision", "decision_number", "inspected_on"),
    FlowSheet("stg_registers__complaints", "complaint", "complaint_number", "received_on"),
)

NETWORK_TABLE = "staging.stg_registers__data_network_agencies"


def network_expectations(period: Period) -> list:
    # One row per agency and month end is the raw table's key, checked by its raw suite.
    not_a_body_code = f"checked.agency_code !~ '^{PROVINCE_CODE}[.][A-Z]+$'"
    return [known_codes(
        "data-network agency", [Code("agency_code", "code", ONESTOP_UNITS, applies=not_a_body_code)],
        description=f"every data-network agency is in the one-stop system's unit list or is a provincial body coded "
                    f"{PROVINCE_CODE}.<abbreviation>")]


SUITES = (
    *(sheet.suite() for sheet in FLOW_SHEETS),
    Suite(name="stg_registers__data_network_agencies", table=NETWORK_TABLE, layer="staging",
          slice_query=table_slice(NETWORK_TABLE, "report_month_end"), expectations=network_expectations),
)
