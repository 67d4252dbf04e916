"""Simulator of Trà Vinh's one-stop-shop and online public service system (Một cửa điện tử và DVC trực tuyến).

`units` lists who uses the system, `catalog` the administrative procedures it serves, `generator` builds a
deterministic dossier history calibrated to the province's Q1/2019 report, and `app` serves it over HTTP.
"""
