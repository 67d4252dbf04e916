"""Great Expectations suites, one module per guarded model.

Each module declares a :class:`~egov_expectations.suite.Suite`: the table it guards, the query that
selects the slice a period's release depends on, and the expectations on it. Severity ``critical``
blocks publication; ``warning`` is reported and kept. Raw tables' suites are generated from the
source registry (``raw``), one per table; the registers' staging suites from one declaration of their sheets
(``stg_registers``); the others are written by hand. Every staging model of every source has a blocking suite
that checks its codes against their reference lists and its business keys (``references``).
"""

from egov_expectations import (
    coverage,
    fct_onestop_daily_closes,
    fct_onestop_dossiers_daily,
    raw,
    rpt_indicator_period,
    rpt_report_figures,
    stg_ca__agencies,
    stg_ca__certificate_versions,
    stg_docmgmt__documents,
    stg_docmgmt__users,
    stg_mail__accounts_daily,
    stg_onestop__daily_closes,
    stg_onestop__dossier_counts,
    stg_onestop__procedures,
    stg_onestop__units,
    stg_portal__languages,
    stg_portal__publications,
    stg_portal__sites,
    stg_registers,
)

SUITES = (
    coverage.SUITE,
    *raw.SUITES,
    stg_onestop__units.SUITE,
    stg_onestop__procedures.SUITE,
    stg_onestop__dossier_counts.SUITE,
    stg_onestop__daily_closes.SUITE,
    stg_docmgmt__users.SUITE,
    stg_docmgmt__documents.SUITE,
    stg_mail__accounts_daily.SUITE,
    stg_ca__agencies.SUITE,
    stg_ca__certificate_versions.SUITE,
    stg_portal__languages.SUITE,
    stg_portal__sites.SUITE,
    stg_portal__publications.SUITE,
    *stg_registers.SUITES,
    fct_onestop_dossiers_daily.SUITE,
    fct_onestop_daily_closes.SUITE,
    rpt_indicator_period.SUITE,
    rpt_report_figures.SUITE,
)
