"""Raw landing tables, one suite per table, generated from the source registry (``egov.core.sources``).

The loader already quarantines records that miss a field or carry the wrong kind of value; these
suites check again what reached raw, so that a loader bug or a hand-made insert cannot reach a
release: every registry field present with its kind, one record per key, no negative integers.
The slice is the period's records (by their local day); a snapshot entity is judged whole.
"""

from __future__ import annotations

import great_expectations as gx

from egov.core.periods import Period
from egov.core.sources import BOOL, DATE, INT, SOURCES, TEXT, TIMESTAMP, Entity, Source
from egov_expectations.suite import Suite, days_of

# How a value of each kind looks in the payload, as the loader's checks accept it: {v} is the jsonb value,
# {t} its text. No regex quantifiers in braces: GX fills {batch} with str.format.
_DAY = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
_KIND_CONDITIONS = {
    INT: "jsonb_typeof({v}) = 'number' and ({t})::numeric = trunc(({t})::numeric)",
    BOOL: "jsonb_typeof({v}) = 'boolean'",
    TEXT: "jsonb_typeof({v}) = 'string'",
    DATE: f"jsonb_typeof({{v}}) = 'string' and {{t}} ~ '^{_DAY}$'",
    TIMESTAMP: f"jsonb_typeof({{v}}) = 'string' and {{t}} ~ '^{_DAY}[T ][0-9][0-9]:[0-9][0-9]'",
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _value(field: str) -> str:
    return f"payload -> {_literal(field)}"


def _text(field: str) -> str:
    return f"payload ->> {_literal(field)}"


def _kind_violations(entity: Entity) -> str:
    """SQL: a row per (record, field) whose value is missing or not of the field's kind."""
    checks = []
    for field, kind in entity.fields.items():
        optional = kind.endswith("?")
        condition = _KIND_CONDITIONS[kind.rstrip("?")].format(v=_value(field), t=_text(field))
        if optional:
            condition = f"coalesce(jsonb_typeof({_value(field)}), 'null') = 'null' or ({condition})"
        checks.append(f"select record_index, {_literal(field)} as field, {_value(field)} as value "
                      f"from {{batch}} where not coalesce(({condition}), false)")
    return "\nunion all\n".join(checks)


def _duplicate_keys(entity: Entity) -> str:
    key = ", ".join(_text(field) for field in entity.key)
    return (f"select {key}, count(*) as records from {{batch}} group by {key} having count(*) > 1")


def _negative_integers(entity: Entity) -> str | None:
    fields = [field for field, kind in entity.fields.items() if kind.rstrip("?") == INT]
    if not fields:
        return None
    return "\nunion all\n".join(
        f"select record_index, {_literal(field)} as field, {_value(field)} as value from {{batch}} "
        f"where jsonb_typeof({_value(field)}) = 'number' and ({_text(field)})::numeric < 0"
        for field in fields)


def _suite(source: Source, entity: Entity) -> Suite:
    table = source.raw_table(entity)

    def slice_query(period: Period) -> str:
        where = days_of("record_date", period) if entity.windowed else "true"
        return f"select record_index, record_date, batch_id, payload from {table} where {where}"

    def expectations(period: Period) -> list:
        found: list[gx.expectations.Expectation] = [
            gx.expectations.UnexpectedRowsExpectation(
                unexpected_rows_query=_kind_violations(entity),
                description=f"every record of {table} carries the registry's fields with their kinds"),
            gx.expectations.UnexpectedRowsExpectation(
                unexpected_rows_query=_duplicate_keys(entity),
                description=f"one record of {table} per {', '.join(entity.key)}"),
        ]
        if entity.windowed:
            found.append(gx.expectations.ExpectColumnValuesToNotBeNull(
                column="record_date", description=f"every record of {table} is dated"))
        else:
            found.append(gx.expectations.ExpectTableRowCountToBeBetween(
                min_value=1, description=f"the reference snapshot {table} is loaded"))
        negatives = _negative_integers(entity)
        if negatives:
            found.append(gx.expectations.UnexpectedRowsExpectation(
                unexpected_rows_query=negatives, description=f"no negative integers in {table}"))
        return found

    return Suite(name=table.replace(".", "__"), table=table, layer="raw", slice_query=slice_query,
                 expectations=expectations)


SUITES = tuple(_suite(source, entity) for source in SOURCES.values() for entity in source.entities)
