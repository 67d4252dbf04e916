"""What the fuzz suite sends: valid records of an entity, then broken the ways sources break them.

Values are drawn per field kind from two pools: the edges that real payloads cross (a count past int4, a
negative one, ``20190103``, a day where a moment is expected, a moment that overflows when read in another time
zone, 100 kB of text) and Hypothesis's own (any integer, float, NaN, ±Infinity, any text, lone surrogates and NUL
included, small lists and objects). A record's key fields are made unique by its number, so that every
duplicate in a batch is one the suite made on purpose.
"""

from __future__ import annotations

from datetime import date, datetime, time

from hypothesis import strategies as st

from egov.core.sources import Entity

INF, NAN = float("inf"), float("nan")

#: The edges each kind's values cross in real payloads; some are valid, so that the suite checks acceptance too.
EDGES: dict[str, list[object]] = {
    "int": [0, 2**31 - 1, -1, -5, 2**31, 2**63, 10**30, 10**400, 1.5, 1.0, "12", True, NAN, INF, -INF, [], {}],
    "smallint": [32767, 32768, -1, 70_000, 2.5],
    "bigint": [2**63 - 1, 2**63, -(2**63), -7, 10**40, 3.0e18],
    "text": ["", "x" * 1000, "x" * 1001, "x" * 100_000, "a\x00b", "\x00", "\ud800", "tail \udfff", "\ud83d",
             "\x01\x1f\x7f\x9f", "\u200b\u2028\u202e", "Phường 4 ខ្មែរ 😀", "'; drop table x; --", "\\N", "\\",
             "\t\r\n", 7, 0.5, True, ["a"], {"a": 1}],
    "bool": [True, False, "true", 1, 0, "yes", NAN],
    "date": ["2019-03-04", "20190304", "2019-3-4", "2019-02-30", "04/03/2019", "2019-03-04T10:00", "0001-01-01",
             "9999-12-31", "1899-12-31", "2200-01-01", " 2019-03-04", "2019-W10-1", "２０１９-03-04", "infinity",
             "", 20190304],
    "timestamp": ["2019-03-04T09:30:00+07:00", "2019-03-04 09:30", "2019-03-04T09:30:00Z", "2019-03-04",
                  "20190304T093000", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
                  "2019-03-04T24:00", "2019-03-04T09:30:00+16:00", "2019-03-04T09:30:00.1234567",
                  "2019-03-04T09:30:00,5", "2019-03-04T09:30:60", "epoch", "now", 1551666600],
}

_ANY_CHARACTER = st.characters(categories=["L", "M", "N", "P", "S", "Z", "Cc", "Cf", "Cs", "Co"])
#: Hypothesis's own values of any kind: the pools the edges do not think of.
ANY_VALUE = st.one_of(
    st.integers(), st.floats(), st.text(_ANY_CHARACTER, max_size=30), st.booleans(), st.none(),
    st.lists(st.integers() | st.text(_ANY_CHARACTER, max_size=5), max_size=3),
    st.dictionaries(st.text(_ANY_CHARACTER, max_size=5), st.floats() | st.none(), max_size=2),
)


def one_in(draw: st.DrawFn, times: int, faults: tuple[str, ...], spread: int) -> str | None:
    """One of ``faults`` once in about ``times`` draws, else None. Hypothesis favours the ends of a range (0, the
    first of a sample) and repeats its favourite values, so the drawn number is scrambled (Fibonacci hashing), and
    which fault comes also turns with ``spread``, a number of the batch's own (how many records it holds)."""
    scrambled = (draw(st.integers(0, 2**32 - 1)) * 0x9E3779B1) % 2**32
    if scrambled % times != times // 2:
        return None
    return faults[(scrambled // times + spread) % len(faults)]


def base_kind(entity: Entity, field: str) -> str:
    return entity.fields[field].removesuffix("?")


def valid_value(kind: str, field: str, number: int, day: date) -> object:
    """A value of ``kind`` that every rule accepts, different for every record ``number`` where it can be."""
    if kind in ("int", "smallint"):
        return number % 1000
    if kind == "bigint":
        return 10**12 + number
    if kind == "bool":
        return number % 2 == 0
    if kind == "date":
        return day.isoformat()
    if kind == "timestamp":
        return f"{day.isoformat()}T09:{number % 60:02d}:00+07:00"
    return f"{field[:10]} {number}"


def valid_record(entity: Entity, number: int, day: date, skip: frozenset[str] = frozenset()) -> dict:
    return {field: valid_value(base_kind(entity, field), field, number, day)
            for field in entity.fields if field not in skip}


def malformed_value(kind: str) -> st.SearchStrategy[object]:
    return st.one_of(st.sampled_from(EDGES[kind]), ANY_VALUE)


#: How a JSON record is broken, each as likely as the others.
JSON_BREAKAGES = ("value", "value", "value", "missing", "extra", "reserved", "unstorable_name", "duplicate")


@st.composite
def json_record(draw: st.DrawFn, entity: Entity, number: int, day: date, earlier: list[dict]) -> dict:
    """Record ``number`` of a JSON page: valid, or broken in one to three ways."""
    record = valid_record(entity, number, day)
    for _ in range(draw(st.integers(0, 3))):
        what = draw(st.sampled_from(JSON_BREAKAGES))
        field = draw(st.sampled_from(sorted(entity.fields)))
        if what == "value":
            record[field] = draw(malformed_value(base_kind(entity, field)))
        elif what == "missing":
            if draw(st.booleans()):
                record.pop(field, None)
            else:
                record[field] = None
        elif what == "extra":
            record[draw(st.text(_ANY_CHARACTER, min_size=1, max_size=8))] = draw(ANY_VALUE)
        elif what == "reserved":
            record[draw(st.sampled_from(["_malformed", "_file", "_line", "_row", "_", "_x"]))] = draw(ANY_VALUE)
        elif what == "unstorable_name":
            record[draw(st.sampled_from(["\x00", "a\x00", "\ud800", "k\udfff"]))] = 1
        elif earlier:  # a second record with the key of an earlier one, the rest as it is
            twin = draw(st.sampled_from(earlier))
            record.update({name: twin[name] for name in entity.key if name in twin})
    return record


#: Cell texts a CSV export holds where a number or a dd/mm/yyyy day is expected, and any text.
CSV_EDGES = ["-5", "2147483648", "99999999999999999999", "1.5", "1e3", "abc", "", " ", "٣", "+7", "0x10", "1,000",
             "20190306", "2019-03-06", "31/02/2019", "06/03/0001", "06/03/9999", "6/3/2019", "x" * 1001,
             "a\x00b", "\x01", "line\nbreak", 'quote"d', "comma, inside", "Phường 4 😀"]


def csv_cell() -> st.SearchStrategy[str]:
    no_surrogates = st.characters(categories=["L", "M", "N", "P", "S", "Z", "Cc", "Cf", "Co"])
    return st.one_of(st.sampled_from(CSV_EDGES), st.text(no_surrogates, max_size=20))


#: What an Excel cell holds where a register expects a number, a day or a text: openpyxl writes each of these.
XLSX_EDGES: list[object] = [-5, 2**31, 10**20, 1.5, 1e300, -0.0, True, "12", "", "abc", "20190304", "2019-3-4",
                            "31/02/2019", date(1, 1, 1), date(9999, 12, 31), datetime(2019, 3, 4, 10, 30),
                            time(9, 30), "x" * 1001, "#DIV/0!", "Phường 4 😀", None]


def xlsx_cell() -> st.SearchStrategy[object]:
    # openpyxl refuses to write control characters and surrogates: a workbook cannot hold them.
    printable = st.characters(categories=["L", "M", "N", "P", "S", "Zs"])
    return st.one_of(st.sampled_from(XLSX_EDGES), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                     st.text(printable, max_size=20), st.dates())
