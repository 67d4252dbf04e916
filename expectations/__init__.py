"""Great Expectations suites, one module per guarded model.

Each module declares a :class:`~egov_expectations.suite.Suite`: the table it guards, the query that
selects the slice a period's release depends on, and the expectations on it. Severity ``critical``
blocks publication; ``warning`` is reported and kept. Raw tables' suites are generated from the
source registry (``raw``), one per table; the others are written by hand.
"""

from egov_expectations import (
    coverage,
    fct_onestop_daily_closes,
    fct_onestop_dossiers_daily,
    raw,
    rpt_indicator_period,
    rpt_report_figures,
    stg_ca__certificate_versions,
    stg_mail__accounts_daily,
    stg_onestop__dossier_counts,
)

SUITES = (
    coverage.SUITE,
    *raw.SUITES,
    stg_onestop__dossier_counts.SUITE,
    stg_ca__certificate_versions.SUITE,
    stg_mail__accounts_daily.SUITE,
    fct_onestop_dossiers_daily.SUITE,
    fct_onestop_daily_closes.SUITE,
    rpt_indicator_period.SUITE,
    rpt_report_figures.SUITE,
)
