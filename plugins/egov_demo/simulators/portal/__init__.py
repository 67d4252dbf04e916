"""Simulator of the provincial web portal's content-management system (Cổng thông tin điện tử tỉnh Trà Vinh).

`generator` builds the portal's languages, its component sites and a deterministic history of what the
editors published on the main portal, calibrated to section 2.5 of the province's Q1/2019 report; `app` serves
them over HTTP.
"""
