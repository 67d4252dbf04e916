"""The report figures of the period: every required figure present, once, and not negative."""

import great_expectations as gx

from egov.periods import Period

MODEL = "reporting.rpt_report_figures"

#: Figures this release must carry; later sources extend the list.
REQUIRED_FIGURES = [
    "onestop_dossiers_received",
    "onestop_dossiers_resolved",
    "onestop_units_province",
    "onestop_units_district",
    "onestop_units_commune",
    "onestop_procedures",
    "online_services_level34",
    "online_services_level3",
    "online_services_level4",
    "level3_dossiers_direct",
    "level3_dossiers_online",
    "level4_dossiers_direct",
    "level4_dossiers_online",
]


def slice_query(period: Period) -> str:
    return f"select * from {MODEL} where period = '{period.label}'"


def expectations(period: Period) -> list:
    return [
        gx.expectations.ExpectColumnDistinctValuesToContainSet(
            column="figure_id", value_set=REQUIRED_FIGURES,
            description=f"every required figure of {period.label} is present"),
        gx.expectations.ExpectColumnValuesToBeUnique(
            column="figure_id", description="each figure once"),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="figure_value", description="no empty figure"),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="figure_value", min_value=0, description="no negative figure"),
    ]
