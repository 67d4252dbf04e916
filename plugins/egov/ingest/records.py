"""Record rules shared by the connectors and the loader: what a record is and when it can be loaded.

A record is one JSON object as a source sent it. The connectors add the fields named here (where a
delivered record came from, or that it could not be read); the loader judges each record by the
registry's field kinds, its key and the requested window, and refuses a load whose records all lack
a field the registry names.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import overload

from egov.core import sources
from egov.core.config import LOCAL_TIMEZONE
from egov.ingest.errors import SchemaDriftError

#: Where in a delivery a file connector says a record came from (file and line or row): not part of what
#: the record says, so two copies of one row in different files are still the same record.
DELIVERY_FIELDS = frozenset({"_file", "_line", "_row"})
#: A connector's note that a record could not be read as the source's layout says (kept, then quarantined).
MALFORMED_FIELD = "_malformed"


@overload
def record_key(entity: sources.Entity, record: dict) -> tuple: ...
@overload
def record_key(entity: sources.Entity, record: object) -> tuple | None: ...
def record_key(entity: sources.Entity, record: object) -> tuple | None:
    return tuple(map(record.get, entity.key)) if isinstance(record, dict) else None


def _check_value(kind: str, value: object) -> str | None:
    optional = kind.endswith("?")
    kind = kind.rstrip("?")
    if value is None:
        return None if optional else "is missing"
    if kind == sources.INT:
        is_int = isinstance(value, int) and not isinstance(value, bool)
        return None if is_int else f"is not an integer: {value!r}"
    if kind == sources.BOOL:
        return None if isinstance(value, bool) else f"is not true or false: {value!r}"
    if not isinstance(value, str):
        return f"is not a string: {value!r}"
    try:
        if kind == sources.DATE:
            date.fromisoformat(value)
        elif kind == sources.TIMESTAMP:
            datetime.fromisoformat(value)
    except ValueError:
        return f"is not a valid {kind}: {value!r}"
    return None


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
    """Why ``record`` cannot be loaded, or None if it can."""
    if not isinstance(record, dict):
        return f"record is not an object: {type(record).__name__}"
    if record.get(MALFORMED_FIELD):
        return record[MALFORMED_FIELD]
    problems = [
        f"{name} {problem}"
        for name, kind in entity.fields.items()
        if (problem := _check_value(kind, record.get(name)))
    ]
    if problems:
        return "; ".join(problems)
    if window is not None and entity.date_field:
        day = record_day(entity, record)
        if not window[0] <= day < window[1]:
            return f"{entity.date_field} {day} is outside the requested window {window[0]}..{window[1]}"
    return None


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
            f"dropped it. Fields received: {', '.join(sorted(present))}. Update the registry in egov.core.sources "
            "and the staging model once the change is understood."
        )


class RecordChecker:
    """``rejection_reason`` and ``record_day`` for the records of one load, with what repeats across records
    worked out once: a string already found to be a valid date (or code, or name) of its kind is not parsed
    again, and each date string is read as a day once. A day's thousands of records share one date."""

    def __init__(self, entity: sources.Entity, window: tuple[date, date] | None):
        self.entity, self.window = entity, window
        #: Each field with its kind and the strings already found valid for it.
        self._fields: list[tuple[str, str, set[str]]] = [(name, kind, set()) for name, kind in entity.fields.items()]
        self._days: dict[str, date] = {}

    def _well_formed(self, record: dict) -> bool:
        for name, kind, valid in self._fields:
            value = record.get(name)
            string = value if isinstance(value, str) else None
            if string is not None and string in valid:
                continue
            if _check_value(kind, value) is not None:
                return False
            if string is not None:
                valid.add(string)
        return True

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
            and not record.get(MALFORMED_FIELD)
            and self._well_formed(record)
            and (self.window is None or not self.entity.date_field
                 or self.window[0] <= self.day(record) < self.window[1])
        ):
            return None
        return rejection_reason(self.entity, record, self.window)
