"""Record rules shared by the connectors and the loader: what a record is and when it can be loaded.

A record is one JSON object as a source sent it. The connectors add the fields the registry names for them
(where a delivered record came from, or that it could not be read); the loader judges each record by the
rules the registry declares for its entity (``egov.core.fields``: kind, range, ISO form, length, required
or optional), refuses fields starting with ``_`` that its connector did not add, refuses what PostgreSQL
cannot store (``egov.ingest.payloads``) and checks the requested window; and it refuses a load whose records
all lack a field the registry names.

A reason names the field, the rule and the offending value (shortened and escaped), so that it can be read and
stored whatever the source sent.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import overload

from egov.core import sources
from egov.core.config import LOCAL_TIMEZONE
from egov.core.fields import printable, quoted
from egov.ingest.errors import SchemaDriftError
from egov.ingest.payloads import escaped_json, unstorable

#: Where in a delivery a file connector says a record came from (file and line or row): not part of what
#: the record says, so two copies of one row in different files are still the same record.
DELIVERY_FIELDS = frozenset(name for added in sources.CONNECTOR_FIELDS.values() for name in added
                            if name != sources.MALFORMED_FIELD)
#: A connector's note that a record could not be read as the source's layout says (kept, then quarantined).
MALFORMED_FIELD = sources.MALFORMED_FIELD
#: A reason lists at most this many problems of one record, then says how many more there are.
MAX_PROBLEMS = 5


def _hashable(value: object) -> object:
    try:
        hash(value)
    except TypeError:  # a list or an object where the key wants a code: kept apart from any code by its tag
        return ("json", escaped_json(value))
    return value


@overload
def record_key(entity: sources.Entity, record: dict) -> tuple: ...
@overload
def record_key(entity: sources.Entity, record: object) -> tuple | None: ...
def record_key(entity: sources.Entity, record: object) -> tuple | None:
    """The values of the entity's key fields, hashable whatever the source put there."""
    if not isinstance(record, dict):
        return None
    key = tuple(map(record.get, entity.key))
    try:
        hash(key)
    except TypeError:
        return tuple(map(_hashable, key))
    return key


def _extra_field_problem(name: object, value: object) -> str | None:
    """Why a field the registry does not name cannot be kept in the payload; None if it can."""
    if isinstance(name, str) and name.startswith(sources.RESERVED_PREFIX):
        return (f"field {quoted(name)} is not the source's to send: fields starting with "
                f"{sources.RESERVED_PREFIX!r} are the connectors' own")
    return unstorable({name: value})


def _problems(entity: sources.Entity, record: dict) -> list[str]:
    problems = [problem for rule in (*entity.rules, *entity.delivery_rules)
                if (problem := rule.problem(record.get(rule.name))) is not None]
    known = entity.fields.keys() | entity.connector_fields.keys()
    problems += [problem for name, value in record.items()
                 if name not in known and (problem := _extra_field_problem(name, value)) is not None]
    return problems


def record_day(entity: sources.Entity, record: dict) -> date:
    """The local day that dates a record: its date field, or its timestamp read in the province's time zone
    (a timestamp without an offset is taken as local time)."""
    if entity.date_field is None:
        raise ValueError(f"{entity.name} has no date field: its records carry no day")
    value = record[entity.date_field]
    if entity.fields[entity.date_field].rstrip("?") == sources.DATE:
        return date.fromisoformat(value)
    moment = datetime.fromisoformat(value)
    return moment.astimezone(LOCAL_TIMEZONE).date() if moment.tzinfo else moment.date()


def rejection_reason(entity: sources.Entity, record: object, window: tuple[date, date] | None) -> str | None:
    """Why ``record`` cannot be loaded, or None if it can: readable, printable and storable, naming the field."""
    if not isinstance(record, dict):
        return f"record is not an object: {quoted(record)}"
    if MALFORMED_FIELD in record and MALFORMED_FIELD in entity.connector_fields:
        return f"{MALFORMED_FIELD}: {printable(str(record[MALFORMED_FIELD]))[:500]}"
    problems = _problems(entity, record)
    if problems:
        more = f"; and {len(problems) - MAX_PROBLEMS} more" if len(problems) > MAX_PROBLEMS else ""
        return "; ".join(problems[:MAX_PROBLEMS]) + more
    if window is not None and entity.date_field:
        day = record_day(entity, record)
        if not window[0] <= day < window[1]:
            return f"{entity.date_field} {day} is outside the requested window {window[0]}..{window[1]}"
    return None


def _names(names: set, shown: int = 40) -> str:
    """Field names for a message, sorted and escaped; a source that sends thousands is not listed in full."""
    listed = sorted(printable(str(name)) for name in names)
    more = f" and {len(listed) - shown} more" if len(listed) > shown else ""
    return ", ".join(listed[:shown]) + more


def check_schema(source: sources.Source, entity: sources.Entity, records: list) -> None:
    """Refuse a load in which a registry field is missing from every record: the source renamed or dropped it,
    and quarantining every record one by one (or reading an optional one as empty) would hide that."""
    objects = [record for record in records if isinstance(record, dict)]
    unseen = set(entity.fields)
    for record in objects:
        unseen.difference_update(record.keys())
        if not unseen:
            return  # usually at the first record, rather than after reading the keys of every one
    if not objects:
        return
    present = set().union(*(record.keys() for record in objects))
    # Optional fields too: a renamed revoked_at would otherwise read as "never revoked" everywhere.
    missing = [name for name in entity.fields if name not in present]
    if missing:
        raise SchemaDriftError(
            f"{source.key}.{entity.name}: no record has {', '.join(map(repr, missing))}; the source renamed or "
            f"dropped it. Fields received: {_names(present)}. Update the registry in egov.core.sources "
            "and the staging model once the change is understood."
        )


_REMEMBERED = (str, int)


class RecordChecker:
    """``rejection_reason`` and ``record_day`` for the records of one load, with what repeats across records
    worked out once: a string or integer already found valid for its field (a date, a code, a count) is not
    checked again, and each date string is read as a day once. A day's thousands of records share one date."""

    def __init__(self, entity: sources.Entity, window: tuple[date, date] | None):
        self.entity, self.window = entity, window
        #: Each field with its rule and the strings and integers already found valid for it.
        self._fields = [(rule.name, rule, set[object]()) for rule in (*entity.rules, *entity.delivery_rules)]
        self._known = entity.fields.keys() | entity.connector_fields.keys() - {MALFORMED_FIELD}
        self._days: dict[str, date] = {}

    def _well_formed(self, record: dict) -> bool:
        for name, rule, valid in self._fields:
            value = record.get(name)
            # Exactly str or int: True equals 1, and a bool is no integer here.
            remembered = value.__class__ in _REMEMBERED
            if remembered and value in valid:
                continue
            if rule.problem(value) is not None:
                return False
            if remembered:
                valid.add(value)
        # Usually a record has only the registry's fields (a set operation in C); others are judged one by one.
        return self._known.issuperset(record) or all(
            name in self._known or _extra_field_problem(name, value) is None for name, value in record.items())

    def day(self, record: dict) -> date:
        value = record[self.entity.date_field]
        day = self._days.get(value)
        if day is None:
            day = self._days[value] = record_day(self.entity, record)
        return day

    def reason(self, record: object) -> str | None:
        """What ``rejection_reason`` answers; it words the reason when there is one."""
        if (
            isinstance(record, dict)
            and self._well_formed(record)
            and (self.window is None or not self.entity.date_field
                 or self.window[0] <= self.day(record) < self.window[1])
        ):
            return None
        return rejection_reason(self.entity, record, self.window)
