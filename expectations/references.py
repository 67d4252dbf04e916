"""What the staging suites check of the codes and business keys a source's rows carry.

Every code is looked up in a reference list: the source's own when it has one (the one-stop system's units and
procedures, the CA's agencies, the portal's languages), otherwise the warehouse's dimension (agencies,
administrative units). One expectation per table reports every unknown code of every kind at once, each row
naming the column, the code and the list it is missing from, so that the gate stays at one query per table
and its failure names the cause. Business keys are unique by the source's own numbering rule: a register or an
issuer numbers from 1 again every January, so a number is unique within the year of its date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import great_expectations as gx

from egov.core.periods import Period


@dataclass(frozen=True)
class Reference:
    """A list codes are looked up in: a query yielding its codes as ``code``, and how a failure names it."""

    name: str
    query: str


AGENCIES = Reference("the agency dimension", "select agency_code as code from marts.dim_agency")
ADMIN_UNITS = Reference("the administrative units", "select admin_unit_code as code from marts.dim_admin_unit")
DISTRICTS = Reference("the districts' official names",
                      "select admin_unit_name as code from marts.dim_admin_unit where admin_level = 'district'")
CHANNELS = Reference("the channel dimension", "select channel_code as code from marts.dim_channel")
ONESTOP_UNITS = Reference("the one-stop system's unit list",
                          "select agency_code as code from staging.stg_onestop__units")
ONESTOP_PROCEDURES = Reference("the one-stop system's procedure catalogue",
                               "select distinct procedure_code as code from staging.stg_onestop__procedures")
CA_AGENCIES = Reference("the CA's agency list", "select agency_code as code from staging.stg_ca__agencies")
#: The one-stop system's levels of unit and of procedure (its own fixed list: the API documents no other).
ONESTOP_LEVELS = Reference("the levels province, district and commune",
                           "select unnest(array['province', 'district', 'commune']) as code")
PORTAL_LANGUAGES = Reference("the portal's language list",
                             "select language_code as code from staging.stg_portal__languages")


@dataclass(frozen=True)
class Code:
    """A column of codes, what a failure calls it, and the list its codes must be in."""

    column: str
    label: str
    reference: Reference
    #: SQL condition on the row (alias ``checked``): only the codes of rows meeting it are looked up.
    applies: str = "true"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def unknown_codes_query(codes: Sequence[Code]) -> str:
    """SQL over ``{batch}``: one row per (column, code) not in its list, with the rows carrying it; nulls are
    left to the not-null checks. Each anti-join is written as a join: GX aliases {batch} itself unless the query
    joins."""
    return "\nunion all\n".join(
        f"select {_literal(code.column)} as code_column, checked.{code.column}::text as code, "
        f"{_literal(code.reference.name)} as reference, count(*) as records "
        f"from {{batch}} as checked left join ({code.reference.query}) as known on known.code = checked.{code.column} "
        f"where checked.{code.column} is not null and known.code is null and ({code.applies}) "
        f"group by checked.{code.column}"
        for code in codes)


def known_codes(subject: str, codes: Sequence[Code],
                description: str | None = None) -> gx.expectations.UnexpectedRowsExpectation:
    """Every code of ``codes`` in its list, as one expectation described, unless ``description`` says otherwise,
    as "every document's sender agency is in the agency dimension"."""
    claims = [f"{code.label} is in {code.reference.name}" for code in codes]
    return gx.expectations.UnexpectedRowsExpectation(
        unexpected_rows_query=unknown_codes_query(codes),
        description=description or f"every {subject}'s {'; its '.join(claims)}")


def unique_key(columns: Sequence[str], description: str) -> gx.expectations.UnexpectedRowsExpectation:
    """No two rows of the slice share ``columns`` (a snapshot's slice is the whole table)."""
    key = ", ".join(columns)
    return gx.expectations.UnexpectedRowsExpectation(
        unexpected_rows_query=f"select {key}, count(*) as records from {{batch}} group by {key} having count(*) > 1",
        description=description)


def numbering_years(period: Period) -> tuple[date, date]:
    """The first day of the period's first year, and the first day after its last year."""
    return date(period.start.year, 1, 1), date(period.last_day.year + 1, 1, 1)


def unique_within_year(table: str, columns: Sequence[str], date_column: str, period: Period,
                       description: str) -> gx.expectations.UnexpectedRowsExpectation:
    """No number of the slice given twice in the year of its date, the other time in or out of the slice: the
    whole year is read from ``table``, since a repeat in June makes a January number of Q1 doubtful too."""
    first_day, after_last = numbering_years(period)
    year_of = f"extract(year from entries.{date_column})::int"
    key = ", ".join(f"entries.{column}" for column in columns)
    matches = " and ".join(f"sliced.{column} = entries.{column}" for column in columns)
    query = f"""
        select {key}, {year_of} as numbering_year, count(*) as records
        from {table} as entries
        inner join (select distinct {', '.join(columns)}, extract(year from {date_column})::int as numbering_year
                    from {{batch}}) as sliced
            on {matches} and sliced.numbering_year = {year_of}
        where entries.{date_column} >= '{first_day}' and entries.{date_column} < '{after_last}'
        group by {key}, {year_of}
        having count(*) > 1
    """
    return gx.expectations.UnexpectedRowsExpectation(unexpected_rows_query=query, description=description)
