"""Great Expectations suites, one module per guarded model.

Each module names the model it guards and gives, for a reporting period, the
query that selects the slice being published and the expectations on it.
Severity ``critical`` blocks publication; ``warning`` is reported and kept.
"""

from egov_expectations import fct_onestop_daily_closes, fct_onestop_dossiers_daily, rpt_report_figures

SUITES = (fct_onestop_dossiers_daily, fct_onestop_daily_closes, rpt_report_figures)
