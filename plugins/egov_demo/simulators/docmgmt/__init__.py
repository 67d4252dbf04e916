"""Simulator of Trà Vinh's document-management system (phần mềm quản lý văn bản và điều hành).

`generator` builds deterministic user accounts and inter-agency documents calibrated to the province's Q1/2019
report, and `database` serves them the way the real product does: from its own PostgreSQL database, which the
warehouse reads over SQL with a read-only role.
"""
