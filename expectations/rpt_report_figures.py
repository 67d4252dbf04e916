"""The report figures of the period: every figure of the report present, once, known and not negative."""

import csv

import great_expectations as gx

from egov import config
from egov.periods import Period

MODEL = "reporting.rpt_report_figures"
CATALOGUE = config.DBT_PROJECT_DIR / "seeds" / "report_figure_catalogue.csv"


def required_figures() -> list[str]:
    """Every figure of the department's report (the dbt seed that lays the report out)."""
    with CATALOGUE.open(encoding="utf-8") as handle:
        return [row["figure_id"] for row in csv.DictReader(handle)]


def slice_query(period: Period) -> str:
    return f"select * from {MODEL} where period = '{period.label}'"


def expectations(period: Period) -> list:
    return [
        gx.expectations.ExpectColumnDistinctValuesToContainSet(
            column="figure_id", value_set=required_figures(),
            description=f"every required figure of {period.label} is present"),
        gx.expectations.ExpectColumnValuesToBeUnique(
            column="figure_id", description="each figure once"),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="figure_value", description="no empty figure"),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="figure_value", min_value=0, description="no negative figure"),
    ]
