"""Staging reads from a raw payload only the fields the source registry declares for that entity, and casts
each to the column type the registry's kind declares.

PostgreSQL raises nothing for a key a record does not have: ``payload ->> 'recieved'`` is null on every
row, and the facts built on it count nothing. And a cast narrower than the loader's range (``::smallint`` of a
field the loader accepts up to 2,147,483,647) fails in staging on a record the loader let through, blocking the
whole period. Here the staging SQL and the sources YAML are read as text (no dbt, no database) and every key a
model reads, and every cast, is checked against ``egov.core.sources`` (whose kinds are ``egov.core.fields``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from egov.core.fields import FieldRule
from egov.core.sources import CONNECTOR_FIELDS, MALFORMED_FIELD, SOURCES, Entity, Source

STAGING = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "staging"

#: What a staging model may read beyond the registry's fields: where in a dropped file a record came from, which
#: each file connector adds to the records it delivers (``CONNECTOR_FIELDS``, with their kinds), without its
#: note on a record it could not read: such a record never reaches raw.
DELIVERY_FIELDS_BY_CONNECTOR: dict[str, frozenset[str]] = {
    connector: frozenset(added) - {MALFORMED_FIELD} for connector, added in CONNECTOR_FIELDS.items()
}

_LITERAL = r"'((?:[^']|'')*)'"
_LITERALS = rf"(?:array\s*\[[^\]]*\]|{_LITERAL})"
_PAYLOAD = r'(?<![\w"])(?:"?\w+"?\s*\.\s*)?"?payload"?(?![\w"])'
#: Every way a model can name a top-level key of the payload; each one's named group holds the literal(s).
_KEY_READS = (
    # payload ->> 'k', payload -> 'k', payload ? 'k', payload ?| array['a', 'b'], payload ?& ...
    rf"{_PAYLOAD}\s*(?:->>|->|\?\||\?&|\?)\s*(?P<keys>{_LITERALS})",
    # payload #>> '{k,nested}', payload #> '{k}': the path's first element is the key.
    rf"{_PAYLOAD}\s*#>>?\s*(?P<path>{_LITERAL})",
    # payload['k']
    rf"{_PAYLOAD}\s*\[\s*(?P<subscript>{_LITERAL})\s*\]",
    # jsonb_extract_path_text(payload, 'k', 'nested'), json_extract_path(payload, 'k'): the first is the key.
    rf"\bjsonb?_extract_path(?:_text)?\s*\(\s*{_PAYLOAD}\s*,\s*(?P<first>{_LITERAL})",
    # jsonb_exists(payload, 'k'), jsonb_exists_any(payload, array['a', 'b']), jsonb_exists_all(...)
    rf"\bjsonb_exists(?:_any|_all)?\s*\(\s*{_PAYLOAD}\s*,\s*(?P<exists>{_LITERALS})",
    # payload @> '{"k": "v"}': the document's top-level keys.
    rf"{_PAYLOAD}\s*@>\s*(?P<document>{_LITERAL})",
)
_KEY_READ = re.compile("|".join(f"(?:{pattern})" for pattern in _KEY_READS), re.IGNORECASE)
_PAYLOAD_MENTION = re.compile(_PAYLOAD, re.IGNORECASE)
# String literals are matched first so that a '--' inside one is not taken for a comment.
_COMMENT_OR_STRING = re.compile(r"('(?:[^']|'')*')|--[^\n]*|/\*.*?\*/|\{#.*?#\}", re.DOTALL)
_SOURCE_CALL = re.compile(r"""\bsource\s*\(\s*(['"])(?P<source>.+?)\1\s*,\s*(['"])(?P<table>.+?)\3\s*\)""")


def _strings(literals: str) -> list[str]:
    return [value.replace("''", "'") for value in re.findall(_LITERAL, literals)]


def _keys_of(match: re.Match) -> list[str]:
    groups = match.groupdict()
    if groups["keys"] or groups["exists"]:
        return _strings(groups["keys"] or groups["exists"])
    if groups["path"]:
        return [_strings(groups["path"])[0].strip("{}").split(",")[0].strip().strip('"')]
    if groups["document"]:
        return list(json.loads(_strings(groups["document"])[0]))
    return _strings(groups["subscript"] or groups["first"])


@dataclass(frozen=True)
class PayloadReads:
    keys: frozenset[str]
    #: Mentions of the payload that name no key this test understands (the whole payload, jsonb_each, ...).
    unrecognised: tuple[str, ...]


def read_payload_keys(sql: str) -> PayloadReads:
    """The top-level payload keys a SQL text reads, and the payload mentions that are no key read."""
    code = _COMMENT_OR_STRING.sub(lambda m: m.group(1) or " ", sql)
    # The same text with the strings' contents blanked, position for position: 'payload' in a string is no use.
    blanked = re.sub(_LITERAL, lambda m: "'" + " " * (len(m.group(0)) - 2) + "'", code)
    keys: set[str] = set()
    understood: set[int] = set()
    for match in _KEY_READ.finditer(code):
        keys.update(_keys_of(match))
        understood.add(_PAYLOAD_MENTION.search(blanked, match.start(), match.end()).start())
    unrecognised = tuple(code[m.start():].split("\n", 1)[0].strip() for m in _PAYLOAD_MENTION.finditer(blanked)
                         if m.start() not in understood)
    return PayloadReads(frozenset(keys), unrecognised)


#: ``payload ->> 'k'``, and the type it is cast to if it is cast: ``(payload ->> 'k')::integer``.
_TEXT_READ = re.compile(
    rf"(?P<open>\(\s*)?{_PAYLOAD}\s*->>\s*{_LITERAL}(?(open)\s*\)\s*::\s*(?P<type>[a-z_][a-z0-9_]*))", re.IGNORECASE)
#: PostgreSQL's other names for the types the registry's kinds give (``FieldKind.column_type``).
_TYPE_NAMES = {"int": "integer", "int4": "integer", "int8": "bigint", "int2": "smallint", "bool": "boolean",
               "varchar": "text"}


def read_casts(sql: str) -> dict[str, frozenset[str]]:
    """For each payload key read as text, the types it is cast to ("text" where it is read without a cast)."""
    code = _COMMENT_OR_STRING.sub(lambda m: m.group(1) or " ", sql)
    casts: dict[str, set[str]] = {}
    for match in _TEXT_READ.finditer(code):
        key = match.group(2).replace("''", "'")  # the literal's group: _PAYLOAD's groups do not capture
        cast = (match.group("type") or "text").lower()
        casts.setdefault(key, set()).add(_TYPE_NAMES.get(cast, cast))
    return {key: frozenset(types) for key, types in casts.items()}


@dataclass(frozen=True)
class StagingModel:
    name: str
    relation: str
    reads: PayloadReads
    casts: dict[str, frozenset[str]]


def _source_relations() -> dict[tuple[str, str], str]:
    """(source name, table name) -> schema.identifier, from the staging folders' sources YAML."""
    relations = {}
    for path in sorted(STAGING.rglob("_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                schema = source.get("schema", source["name"])
                relations[source["name"], table["name"]] = f"{schema}.{table.get('identifier', table['name'])}"
    return relations


def _staging_models() -> list[StagingModel]:
    relations = _source_relations()
    models = []
    for path in sorted(STAGING.rglob("*.sql")):
        sql = path.read_text()
        calls = [(call["source"], call["table"]) for call in _SOURCE_CALL.finditer(sql)]
        assert len(calls) == 1, f"{path.name}: a staging model reads one source table, found {calls}"
        assert calls[0] in relations, f"{path.name}: source{calls[0]} is not declared in a _*__sources.yml"
        models.append(StagingModel(path.stem, relations[calls[0]], read_payload_keys(sql), read_casts(sql)))
    return models


REGISTRY: dict[str, tuple[Source, Entity]] = {
    source.raw_table(entity): (source, entity) for source in SOURCES.values() for entity in source.entities
}
MODELS = _staging_models()
MODELS_OVER_RAW = [model for model in MODELS if model.relation in REGISTRY]


def test_staging_models_are_found_and_those_reading_a_payload_read_a_raw_table_of_the_registry():
    assert {REGISTRY[model.relation][0].key for model in MODELS_OVER_RAW} == set(SOURCES)
    unknown_raw = [(model.name, model.relation) for model in MODELS
                   if model.relation.startswith("raw.") and model.relation not in REGISTRY]
    assert unknown_raw == [], "raw tables the registry does not declare"
    payload_elsewhere = [model.name for model in MODELS if model.relation not in REGISTRY and
                         (model.reads.keys or model.reads.unrecognised)]
    assert payload_elsewhere == [], "these read a payload of a table that is not a registry raw table"


def test_every_staging_model_over_a_raw_table_reads_at_least_one_payload_key():
    keyless = [model.name for model in MODELS_OVER_RAW if not model.reads.keys]
    assert keyless == [], "no payload key found in these: is the key reader missing the way they read it?"


def test_staging_reads_the_payload_only_in_ways_this_test_understands():
    unchecked = {model.name: model.reads.unrecognised for model in MODELS if model.reads.unrecognised}
    assert unchecked == {}, "payload uses that name no key: teach read_payload_keys, or read the keys one by one"


@pytest.mark.parametrize("model", MODELS_OVER_RAW, ids=lambda model: model.name)
def test_every_payload_key_a_staging_model_reads_is_a_field_of_its_entity_in_the_registry(model):
    source, entity = REGISTRY[model.relation]
    delivery = DELIVERY_FIELDS_BY_CONNECTOR.get(source.connector, frozenset())
    undeclared = sorted(model.reads.keys - set(entity.fields) - delivery)
    assert undeclared == [], (f"{model.name} reads {undeclared} from {model.relation}; the registry declares "
                              f"{sorted(entity.fields)} for {source.key}.{entity.name} and its {source.connector} "
                              f"connector adds {sorted(delivery)}")


@pytest.mark.parametrize("model", MODELS_OVER_RAW, ids=lambda model: model.name)
def test_every_payload_field_a_staging_model_casts_is_cast_to_the_column_type_of_its_registry_kind(model):
    """The loader accepts a value only within its kind's range (an integer up to 2,147,483,647 for ``int``, a
    bigint's for ``bigint``...), so a narrower cast here would fail on an accepted record, and a wider one would
    let the loader refuse what staging can hold: each cast must be exactly the kind's ``column_type``."""
    source, entity = REGISTRY[model.relation]
    declared = {**entity.fields, **CONNECTOR_FIELDS.get(source.connector, {})}
    wrong = {key: sorted(types) for key, types in model.casts.items() if key in declared
             and types != {FieldRule.of(key, declared[key]).kind.column_type}}
    assert wrong == {}, (f"{model.name} casts {wrong}; the registry declares "
                         f"{ {key: declared[key] for key in wrong} } (egov.core.fields.KINDS gives each its type)")


def test_the_staging_models_cast_the_fields_the_loader_checks_for_range_and_form():
    cast = {(model.relation, key) for model in MODELS_OVER_RAW for key, types in model.casts.items()
            if types != {"text"}}
    assert len(cast) >= 30, "the cast reader finds almost no casts: has the staging SQL's style changed?"


@pytest.mark.parametrize(("sql", "casts"), [
    ("select (payload ->> 'count')::integer, payload ->> 'code' from source", {"count": {"integer"}, "code": {"text"}}),
    ("select ( payload->>'n' ) :: int8, (payload ->> 'd')::date, case payload ->> 'k' when 'a' then 1 end",
     {"n": {"bigint"}, "d": {"date"}, "k": {"text"}}),
    ("select (payload ->> 'x')::smallint -- (payload ->> 'x')::integer\n, (payload ->> 'x') from source",
     {"x": {"smallint", "text"}}),
])
def test_the_cast_reader_finds_each_payload_keys_type(sql, casts):
    assert read_casts(sql) == {key: frozenset(types) for key, types in casts.items()}


@pytest.mark.parametrize(("sql", "keys"), [
    ("select payload ->> 'received' from source", {"received"}),
    ("select payload->>'received', payload -> 'unit' ->> 'code' from source", {"received", "unit"}),
    ("select (payload ->> 'Số đơn')::int, \"source\".\"payload\"->>'it''s' from source", {"Số đơn", "it's"}),
    ("select source.payload\n    ->> 'date' from source", {"date"}),
    ("select 1 from source where payload ? 'revoked_at' or payload ?| array['a', 'b']", {"revoked_at", "a", "b"}),
    ("select payload #>> '{holder,name}', payload['serial'] from source", {"holder", "serial"}),
    ("select jsonb_extract_path_text(payload, 'code', 'x'), jsonb_exists(payload, 'y') from source", {"code", "y"}),
    ("select 1 from source where payload @> '{\"channel\": \"online\"}'", {"channel"}),
    ("select payload ->> 'kept' -- payload ->> 'commented'\n/* payload ->> 'gone' */ from source", {"kept"}),
    ("select payload_size, '-- payload' as note, payload ->> 'x' from source", {"x"}),
])
def test_the_key_reader_finds_every_way_sql_names_a_payload_key(sql, keys):
    assert read_payload_keys(sql) == PayloadReads(frozenset(keys), ())


@pytest.mark.parametrize("sql", [
    "select payload from source",
    "select key from source, jsonb_each_text(payload)",
    "select payload ->> lower('CODE') from source",
])
def test_the_key_reader_reports_a_payload_use_it_cannot_check(sql):
    assert read_payload_keys(sql).unrecognised
