"""What a field of a record may hold: each kind of field declared once, and read three ways.

Every field of every entity in the source registry (``egov.core.sources``) has one of the kinds below. From
that one declaration:

- the loader (``egov.ingest.records``) asks :meth:`FieldKind.problem` of each value, and quarantines a record
  whose value breaks its kind, with a reason naming the field, the rule and the value;
- the GX raw suites (``expectations/raw.py``) check what reached ``raw`` with :meth:`FieldKind.sql_condition`,
  the same rule written in SQL;
- the staging models cast the payload's text to the kind's ``column_type``: ``tests/unit/test_staging_casts.py``
  holds every cast to the registry, so that a range here is the range of the column there.

So a value the loader accepts is one that the staging cast and the raw suite accept too; the fuzz suite
(``tests/fuzz``) checks that on thousands of malformed payloads. Both readings of a rule stay side by side in
one class, and regular expressions are written so that Python's ``re`` and PostgreSQL's ``~`` read them alike
(no ``\\d``, which is any Unicode digit in Python, and no braces, which GX's str.format would take for its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

#: Dates and timestamps outside these years are a typing error or a placeholder (0001-01-01, 9999-12-31), never
#: a day an agency worked; the bounds also keep every accepted moment far from Python's and PostgreSQL's limits,
#: so that reading one in another time zone cannot overflow.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)
#: Codes, names and titles are short; a free-text field longer than this is not a register entry but a pasted
#: document (or a source padding its answer), and it would be carried through every layer.
MAX_TEXT_LENGTH = 1000
#: How much of an offending value a reason quotes.
QUOTED_CHARACTERS = 60

_D = "[0-9]"
_ISO_DATE = f"{_D}{_D}{_D}{_D}-{_D}{_D}-{_D}{_D}"
# Hours and minutes, optional seconds with at most six decimals (PostgreSQL keeps microseconds and would round
# a seventh into the next second), an optional offset up to ±14:59 (PostgreSQL refuses ±16:00 and beyond,
# Python ±24:00).
_FRACTION = f"[.]{_D}({_D}({_D}({_D}({_D}({_D})?)?)?)?)?"
_ISO_TIMESTAMP = (f"{_ISO_DATE}[T ]([01]{_D}|2[0-3]):[0-5]{_D}(:[0-5]{_D}({_FRACTION})?)?"
                  f"(Z|[+-](0{_D}|1[0-4])(:?[0-5]{_D})?)?")
_INTEGER_TEXT = f"-?{_D}{_D}*"
#: Characters a PostgreSQL text or jsonb value cannot hold: NUL, and the halves of surrogate pairs, which are no
#: characters at all (a JSON "\ud800" without its partner) and have no UTF-8 form.
UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with every character that does not print (a control character, a lone surrogate) written as its
    Python escape: what a reason says must be readable, and storable."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


def quoted(value: object) -> str:
    """``value`` as a reason quotes it: short, escaped, and saying what it is when it is not a plain value."""
    if isinstance(value, str):
        if len(value) <= QUOTED_CHARACTERS:
            return printable(repr(value))
        return printable(repr(value[:QUOTED_CHARACTERS])) + f"… ({len(value):,} characters)"
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        # Python refuses to write an integer of more than 4,300 digits as text, and a reason needs none of them.
        return repr(value) if value.bit_length() <= 128 else f"an integer of {value.bit_length():,} bits"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return f"an object with {len(value)} field{'' if len(value) == 1 else 's'}"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    return f"a {printable(type(value).__name__)} value"


@dataclass(frozen=True)
class FieldKind:
    """A kind of value: what the loader accepts (:meth:`problem`), the same rule in SQL (:meth:`sql_condition`)
    and the PostgreSQL type staging casts it to."""

    name: str
    #: The type the staging models cast the payload's text to; ``text`` is read as it is, without a cast.
    column_type: str

    def problem(self, value: object) -> str | None:
        """What is wrong with ``value`` (not None) for this kind, worded to follow the field's name; None if fine."""
        raise NotImplementedError

    def sql_condition(self, value: str, text: str) -> str:
        """SQL, true when the jsonb ``value`` (whose text is ``text``) is a value this kind accepts. It never
        raises on a value it refuses: a cast comes only after a check that it will succeed."""
        raise NotImplementedError


@dataclass(frozen=True)
class IntegerKind(FieldKind):
    """A whole number within the range of its column: every integer a source sends here is a count or an
    identifier, so none is negative."""

    minimum: int = 0
    maximum: int = 2**31 - 1

    def problem(self, value: object) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"is not an integer: {quoted(value)}"
        if not self.minimum <= value <= self.maximum:
            return (f"is {quoted(value)}, not in {self.minimum:,}..{self.maximum:,} (counts and identifiers are "
                    f"never negative; staging reads it as {self.column_type})")
        return None

    def sql_condition(self, value: str, text: str) -> str:
        return (f"case when jsonb_typeof({value}) = 'number' and {text} ~ '^{_INTEGER_TEXT}$' "
                f"then ({text})::numeric between {self.minimum} and {self.maximum} else false end")


@dataclass(frozen=True)
class TextKind(FieldKind):
    max_length: int = MAX_TEXT_LENGTH

    def problem(self, value: object) -> str | None:
        if not isinstance(value, str):
            return f"is not a string: {quoted(value)}"
        if len(value) > self.max_length:
            return f"is {len(value):,} characters long, more than the {self.max_length:,} allowed: {quoted(value)}"
        unstorable = UNSTORABLE_CHARACTER.search(value)
        if unstorable:
            return (f"holds U+{ord(unstorable.group()):04X}, which PostgreSQL cannot store (a NUL or half a "
                    f"surrogate pair): {quoted(value)}")
        return None

    def sql_condition(self, value: str, text: str) -> str:
        return f"jsonb_typeof({value}) = 'string' and length({text}) <= {self.max_length}"


@dataclass(frozen=True)
class BoolKind(FieldKind):
    def problem(self, value: object) -> str | None:
        return None if isinstance(value, bool) else f"is not true or false: {quoted(value)}"

    def sql_condition(self, value: str, text: str) -> str:
        return f"jsonb_typeof({value}) = 'boolean'"


@dataclass(frozen=True)
class DayKind(FieldKind):
    """A calendar day, in ISO 8601's extended form only (2019-01-03, not 20190103 nor 2019-W01-4, which Python
    would read too), between EARLIEST_DAY and LATEST_DAY."""

    pattern: str = _ISO_DATE
    form: str = "YYYY-MM-DD"

    def _parse(self, text: str) -> date:
        return date.fromisoformat(text)

    def problem(self, value: object) -> str | None:
        if not isinstance(value, str):
            return f"is not a string: {quoted(value)}"
        if not re.fullmatch(self.pattern, value, re.ASCII):
            return f"is not a {self.name} in the ISO form {self.form}: {quoted(value)}"
        try:
            day = self._parse(value)
        except ValueError:
            return f"is not a valid {self.name}: {quoted(value)}"
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            return f"is {quoted(value)}, outside the days {EARLIEST_DAY}..{LATEST_DAY} a record can be about"
        return None

    def sql_condition(self, value: str, text: str) -> str:
        # pg_input_is_valid (PostgreSQL 16) says whether the cast would succeed (2019-02-30 matches the pattern).
        return (f"case when jsonb_typeof({value}) = 'string' and {text} ~ '^({self.pattern})$' "
                f"and pg_input_is_valid({text}, 'date') "
                f"then ({text})::date between '{EARLIEST_DAY}' and '{LATEST_DAY}' else false end")


@dataclass(frozen=True)
class TimestampKind(DayKind):
    """A moment: a day and a time of day, with or without an offset (without one it is local time), in ISO
    8601's extended form. A day alone is refused: it would be read as midnight, a moment nobody recorded."""

    pattern: str = _ISO_TIMESTAMP
    form: str = "YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z|±HH[:MM]]"

    def _parse(self, text: str) -> date:
        # The wall-clock day, offset aside: what the SQL condition compares too (a cast to timestamp drops it).
        return datetime.fromisoformat(text).date()

    def problem(self, value: object) -> str | None:
        if isinstance(value, str) and re.fullmatch(_ISO_DATE, value, re.ASCII):
            return f"is a day without a time of day where a timestamp is expected: {quoted(value)}"
        return super().problem(value)

    def sql_condition(self, value: str, text: str) -> str:
        return (f"case when jsonb_typeof({value}) = 'string' and {text} ~ '^({self.pattern})$' "
                f"and pg_input_is_valid({text}, 'timestamptz') "
                f"then ({text})::timestamp::date between '{EARLIEST_DAY}' and '{LATEST_DAY}' else false end")


#: Every kind a registry field can have, by the name the registry gives it; "?" after the name makes the field
#: optional (null or absent), e.g. "date?".
KINDS: dict[str, FieldKind] = {kind.name: kind for kind in (
    IntegerKind("int", "integer"),
    IntegerKind("smallint", "smallint", maximum=2**15 - 1),
    IntegerKind("bigint", "bigint", maximum=2**63 - 1),
    TextKind("text", "text"),
    BoolKind("bool", "boolean"),
    DayKind("date", "date"),
    TimestampKind("timestamp", "timestamptz"),
)}


@dataclass(frozen=True)
class FieldRule:
    """One field of an entity: its name, its kind, and whether it may be null or absent."""

    name: str
    kind: FieldKind
    optional: bool

    @classmethod
    def of(cls, name: str, declared: str) -> FieldRule:
        """The rule of field ``name`` declared as ``declared`` (a kind's name, "?" if optional)."""
        try:
            kind = KINDS[declared.removesuffix("?")]
        except KeyError:
            raise ValueError(f"field {name!r}: unknown kind {declared!r}; kinds are {', '.join(KINDS)}, "
                             "each with '?' if optional") from None
        return cls(name, kind, declared.endswith("?"))

    def problem(self, value: object) -> str | None:
        """Why ``value`` cannot be this field's, as a phrase starting with the field's name; None if it can."""
        if value is None:
            return None if self.optional else f"{printable(self.name)} is missing"
        problem = self.kind.problem(value)
        return None if problem is None else f"{printable(self.name)} {problem}"

    def sql_condition(self, value: str, text: str) -> str:
        condition = self.kind.sql_condition(value, text)
        if self.optional:
            condition = f"coalesce(jsonb_typeof({value}), 'null') = 'null' or ({condition})"
        return condition

