from datetime import date

import pytest

from egov.core.periods import parse_period, quarter_of


@pytest.mark.parametrize(
    ("label", "start", "end"),
    [
        ("2019Q1", date(2019, 1, 1), date(2019, 4, 1)),
        ("2019q4", date(2019, 10, 1), date(2020, 1, 1)),
        ("2020", date(2020, 1, 1), date(2021, 1, 1)),
    ],
)
def test_periods_are_half_open_ranges(label, start, end):
    period = parse_period(label)
    assert (period.start, period.end) == (start, end)
    assert len(period.days()) == (end - start).days


@pytest.mark.parametrize("label", ["2019Q5", "Q1-2019", "19Q1", ""])
def test_bad_period_labels_are_refused_with_the_expected_form(label):
    with pytest.raises(ValueError, match="2019Q1"):
        parse_period(label)


def test_quarter_of_a_day():
    assert quarter_of(date(2019, 3, 31)).label == "2019Q1"
    assert quarter_of(date(2019, 4, 1)).label == "2019Q2"
