"""The report's words, numbers, dates and names in Vietnamese or English.

The words are catalogues, one JSON file a language (``egov/data/report_<lang>.json``):

    text             the report's sentences and headings, by key (``t("title", period=…)``)
    sections         the headings of part 2 of the seed report (Báo cáo số 298/BC-STTTT-VP), by report_section
    levels           the names of a trace's levels
    units            what the catalogue's units are called, as CLDR plural forms ("one", "other")
    units_by_source  the same for a unit that means something else in one source system
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from egov.core.config import DATA_DIR, LOCAL_TIMEZONE
from egov.publication.report.data import ChartCheck, Figure
from egov.publication.trace import TracedBatch

LANGUAGES = ("vi", "en")

ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


@cache
def catalogue(lang: str) -> dict:
    """The words of ``lang``, read once from its JSON file."""
    return json.loads((DATA_DIR / f"report_{lang}.json").read_text(encoding="utf-8"))


def format_value(value: Decimal | int | None, unit: str | None, lang: str) -> str:
    """A figure as the report prints it: 38.751 and 93,7 % in Vietnamese, 38,751 and 93.7% in English."""
    if value is None:
        return "–"
    value = Decimal(value)
    if unit == "share":
        percent = f"{(value * 100).quantize(Decimal('0.1'), ROUND_HALF_UP):,.1f}"
        return f"{_vietnamese_separators(percent)} %" if lang == "vi" else f"{percent}%"
    exponent = value.normalize().as_tuple().exponent
    decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    shown = f"{value:,.{decimals}f}"
    return _vietnamese_separators(shown) if lang == "vi" else shown


def _vietnamese_separators(english: str) -> str:
    return english.translate(str.maketrans(",.", ".,"))


class Language:
    """The words, numbers, dates and names of one language; templates call it as ``t``."""

    def __init__(self, lang: str):
        if lang not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
        self.lang = lang
        self._words = catalogue(lang)

    def __call__(self, key: str, **values: object) -> str:
        return self._words["text"][key].format(**values)

    def value(self, value: Decimal | int | None, unit: str | None) -> str:
        return format_value(value, unit, self.lang)

    def unit(self, figure: Figure) -> str:
        forms = (self._words["units_by_source"].get(figure.source_system, {}).get(figure.unit)
                 or self._words["units"].get(figure.unit))
        if forms is None:
            return figure.unit
        return forms.get("one", forms["other"]) if figure.value == 1 else forms["other"]

    def name(self, figure: Figure) -> str:
        return (figure.name_vi if self.lang == "vi" else figure.name_en) or figure.figure_id

    def wording(self, figure: Figure) -> str:
        return figure.quote_vi if self.lang == "vi" else figure.meaning_en

    def section(self, section: str | None) -> str:
        if section is None:
            return self("section_other")
        title = self._words["sections"].get(section)
        return f"{section}. {title}" if title else self("section_unknown", section=section)

    def period(self, label: str) -> str:
        year, _, quarter = label.partition("Q")
        if self.lang == "vi":
            return f"quý {ROMAN[int(quarter)]}/{year}" if quarter else f"năm {year}"
        return f"Q{quarter} {year}" if quarter else f"the year {year}"

    def days(self, start: date, end: date) -> str:
        """A half-open range of days as its first and last day."""
        last = end - timedelta(days=1)
        if self.lang == "vi":
            return f"{start:%d/%m/%Y} – {last:%d/%m/%Y}"
        return f"{start:%Y-%m-%d} – {last:%Y-%m-%d}"

    def month(self, month: date) -> str:
        if self.lang == "vi":
            return f"Tháng {month.month:02d}/{month.year}"
        return f"{ENGLISH_MONTHS[month.month - 1]} {month.year}"

    def moment(self, moment: datetime | str | None) -> str:
        """A time in the province's time zone; a string that is not an ISO time is shown as it is."""
        if moment is None:
            return "–"
        if isinstance(moment, str):
            text = moment
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                return text
        if moment.tzinfo is not None:
            moment = moment.astimezone(LOCAL_TIMEZONE)
        if self.lang == "vi":
            return f"{moment:%H:%M:%S} ngày {moment:%d/%m/%Y} (giờ Việt Nam)"
        return f"{moment:%Y-%m-%d %H:%M:%S} ({LOCAL_TIMEZONE.key})"

    def level(self, level: str) -> str:
        return self._words["levels"].get(level, level)

    def mark(self, ok: bool | None) -> str:
        return "–" if ok is None else ("✓" if ok else "✗")

    def reconciled(self, ok: bool | None) -> str:
        if ok is None:
            return "–"
        return f"✓ {self('reconciled')}" if ok else f"✗ {self('not_reconciled')}"

    def window(self, batch: TracedBatch) -> str:
        return self("snapshot") if batch.window_start is None else f"{batch.window_start} .. {batch.window_end}"

    def check(self, check: ChartCheck) -> str:
        figures = " + ".join(check.figure_ids)
        warehouse = self.value(check.warehouse, check.unit)
        if check.released is None:
            return self("check_unavailable", figures=figures, warehouse=warehouse)
        released = self.value(check.released, check.unit)
        key = "check_ok" if check.matches else "check_changed"
        return self(key, figures=figures, warehouse=warehouse, released=released)
