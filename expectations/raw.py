"""Raw landing tables, one suite per table, generated from the source registry (``egov.core.sources``).

The loader already quarantines records that break the registry's rules; these suites check again what reached
raw, so that a loader bug or a hand-made insert cannot reach a release: every registry field (and every field
the connector adds) present with its kind and within its kind's range, ISO form and length, as
``egov.core.fields`` declares them once for the loader and for these suites alike; no field a source may not
send; one record per key. The slice is the period's records (by their local day); a snapshot entity is judged
whole.
"""

from __future__ import annotations

import great_expectations as gx

from egov.core.periods import Period
from egov.core.sources import MALFORMED_FIELD, RESERVED_PREFIX, SOURCES, Entity, Source
from egov_expectations.suite import Suite, days_of


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _value(field: str) -> str:
    return f"payload -> {_literal(field)}"


def _text(field: str) -> str:
    return f"(payload ->> {_literal(field)})"


def _kind_violations(entity: Entity) -> str:
    """SQL: a row per (record, field) whose value is missing or breaks the field's rule. The same rules as the
    loader's: each kind writes its own condition (``FieldKind.sql_condition``). No regex quantifiers in braces:
    GX fills {batch} with str.format."""
    checks = [f"select record_index, {_literal(rule.name)} as field, {_value(rule.name)} as value "
              f"from {{batch}} where not coalesce(({rule.sql_condition(_value(rule.name), _text(rule.name))}), false)"
              for rule in (*entity.rules, *entity.delivery_rules)]
    return "\nunion all\n".join(checks)


def _reserved_fields(entity: Entity) -> str:
    """SQL: a row per (record, field) of a field starting with RESERVED_PREFIX that the connector did not add."""
    added = [name for name in entity.connector_fields if name != MALFORMED_FIELD]
    allowed = f" and field not in ({', '.join(map(_literal, added))})" if added else ""
    # A payload that is not an object (only a hand-made insert could make one) has no fields, not an error.
    keys = "jsonb_object_keys(case when jsonb_typeof(payload) = 'object' then payload else jsonb_build_object() end)"
    return (f"select record_index, field from {{batch}} cross join lateral {keys} as field "
            f"where starts_with(field, {_literal(RESERVED_PREFIX)}){allowed}")


def _duplicate_keys(entity: Entity) -> str:
    # Each key field under its own name, so that a failure names the repeated key (not "?column?").
    named = ", ".join(f'{_text(field)} as "{field.replace(chr(34), chr(34) * 2)}"' for field in entity.key)
    key = ", ".join(_text(field) for field in entity.key)
    return (f"select {named}, count(*) as records from {{batch}} group by {key} having count(*) > 1")


def _suite(source: Source, entity: Entity) -> Suite:
    table = source.raw_table(entity)

    def slice_query(period: Period) -> str:
        where = days_of("record_date", period) if entity.windowed else "true"
        return f"select record_index, record_date, batch_id, payload from {table} where {where}"

    def expectations(period: Period) -> list:
        found: list[gx.expectations.Expectation] = [
            gx.expectations.UnexpectedRowsExpectation(
                unexpected_rows_query=_kind_violations(entity),
                description=f"every record of {table} carries the registry's fields with their kinds and ranges"),
            gx.expectations.UnexpectedRowsExpectation(
                unexpected_rows_query=_duplicate_keys(entity),
                description=f"one record of {table} per {', '.join(entity.key)}"),
            gx.expectations.UnexpectedRowsExpectation(
                unexpected_rows_query=_reserved_fields(entity),
                description=f"no record of {table} holds a field reserved to the connectors"),
        ]
        if entity.windowed:
            found.append(gx.expectations.ExpectColumnValuesToNotBeNull(
                column="record_date", description=f"every record of {table} is dated"))
        else:
            found.append(gx.expectations.ExpectTableRowCountToBeBetween(
                min_value=1, description=f"the reference snapshot {table} is loaded"))
        return found

    return Suite(name=table.replace(".", "__"), table=table, layer="raw", slice_query=slice_query,
                 expectations=expectations)


SUITES = tuple(_suite(source, entity) for source in SOURCES.values() for entity in source.entities)
