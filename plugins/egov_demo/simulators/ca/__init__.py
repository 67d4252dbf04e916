"""Simulator of the digital-signature certificates (chứng thư số) the CA issues to Trà Vinh's agencies and staff.

`generator` builds a deterministic certificate history calibrated to the province's Q1/2019 report, and `app`
serves it over HTTP as a change feed paged with an ``updated_at`` cursor.
"""
