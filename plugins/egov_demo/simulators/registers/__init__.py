"""Simulator of the licensing and inspection registers of Trà Vinh's Department of Information and Communications.

`generator` builds the registers' entries calibrated to the department's Q1/2019 report, and `workbook` delivers
them the way the department does: one Excel workbook a month, laid out for people rather than machines, with
the faults such workbooks have.
"""
