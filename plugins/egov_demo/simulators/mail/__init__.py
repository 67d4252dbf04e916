"""Simulator of Trà Vinh's official e-mail system (hộp thư điện tử công vụ, mail.travinh.gov.vn).

`generator` builds each unit's daily account counts calibrated to the province's Q1/2019 report, and `dropbox`
delivers them the way the mail administrators do: one CSV export a day dropped into a shared folder, with the
faults such hand-made deliveries have.
"""
