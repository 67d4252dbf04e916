"""What the fuzz suite asserts of every generated batch, and the counts it reports.

A batch goes through the real connector and the real loader into the test database. Then:

- the only exceptions allowed are SourceDataError and SourceUnavailable, and only from a batch into which the
  suite put a page- or file-level fault: a batch whose pages are sound loads, whatever its records hold;
- every record is either loaded or quarantined (nothing lost, nothing invented);
- the staging model of the entity, its SQL run over the batch's accepted rows, casts every one of them, and the
  entity's GX raw suite, its queries run over the same rows, finds nothing: the loader accepted nothing that a
  later layer refuses;
- every quarantine reason is non-empty, printable and names a field.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import psycopg
import yaml

from egov.core.config import DBT_PROJECT_DIR
from egov.core.periods import parse_period
from egov.core.sources import DOCMGMT, MAIL, ONESTOP, PORTAL, REGISTERS, Entity, Source
from egov.ingest.connectors.base import Connector
from egov.ingest.errors import SourceDataError, SourceUnavailable
from egov.ingest.loader import LoadResult, load_batch
from egov_expectations.raw import SUITES

#: The seed of every fuzz test: the same examples on every run unless EGOV_FUZZ_SEED says otherwise.
SEED = int(os.environ.get("EGOV_FUZZ_SEED", "20190103"))
STAGING = DBT_PROJECT_DIR / "models" / "staging"
_SOURCE_CALL = re.compile(r"""\{\{\s*source\(\s*'(?P<source>[^']+)'\s*,\s*'(?P<table>[^']+)'\s*\)\s*\}\}""")


@dataclass(frozen=True)
class Offer:
    """One generated batch, as an interface offers it to its connector."""

    #: The registry source it imitates (its staging model and raw suite judge what is accepted).
    original: Source
    #: The same source under a key of the suite's own, so that its raw tables are the suite's.
    source: Source
    entity: Entity
    window: tuple[date, date] | None
    connector: Connector
    payloads: int
    records: int
    #: The page- or file-level fault put in, if any: only such a batch may be refused.
    fault: str | None = None


@dataclass
class Tally:
    """Counts of one interface kind, printed at the end of the session."""

    batches: int = 0
    payloads: int = 0
    records: int = 0
    accepted: int = 0
    quarantined: int = 0
    faults: int = 0
    refusals: int = 0
    refused_as: Counter = field(default_factory=Counter)
    #: How many quarantined records broke each rule (a record can break several).
    broken_rules: Counter = field(default_factory=Counter)


#: The rules a reason can name, each by a phrase only its reasons hold (egov.core.fields, egov.ingest).
RULES = (("missing", " is missing"), ("not an integer", "is not an integer"), ("integer range", ", not in "),
         ("not a string", "is not a string"), ("too long", "characters long, more than"),
         ("NUL or surrogate", "PostgreSQL cannot store (a NUL"), ("not a bool", "is not true or false"),
         ("not ISO", "in the ISO form"), ("no such day", "is not a valid"),
         ("day for a moment", "a day without a time of day"), ("years", "outside the days"),
         ("reserved field", "is not the source's to send"), ("NaN or Infinity", "a number JSON and jsonb do not have"),
         ("not JSON", "which is not a JSON value"), ("too deep", "nests more than"),
         ("field name", "the field name"), ("window", "outside the requested window"), ("duplicate key", "(same "),
         ("connector note", "_malformed: "), ("kept escaped", "(kept escaped"))


TALLIES: dict[str, Tally] = {}


def _staging_models() -> dict[str, str]:
    """Each staging model's SQL by the raw table it reads (``schema.table``)."""
    relations = {}
    for path in STAGING.rglob("_*__sources.yml"):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                relations[source["name"], table["name"]] = (
                    f"{source.get('schema', source['name'])}.{table.get('identifier', table['name'])}")
    models = {}
    for path in STAGING.rglob("stg_*.sql"):
        text = path.read_text()
        call = _SOURCE_CALL.search(text)
        if call and relations.get((call["source"], call["table"]), "").startswith("raw."):
            models[relations[call["source"], call["table"]]] = text
    return models


STAGING_MODELS = _staging_models()


def load_and_judge(loader: psycopg.Connection, gate: psycopg.Connection, kind: str, offer: Offer) -> LoadResult | None:
    """Load ``offer`` as the loader's role, then hold it to everything this module promises, read as the gate's
    role (which runs the raw suites); None if it was refused."""
    tally = TALLIES.setdefault(kind, Tally())
    tally.batches += 1
    tally.payloads += offer.payloads
    tally.records += offer.records
    tally.faults += offer.fault is not None
    try:
        result = load_batch(loader, offer.source, offer.entity, offer.window,
                            offer.connector.pages(offer.entity, offer.window), accept_shrink=True)
    except (SourceDataError, SourceUnavailable) as refused:
        assert offer.fault is not None, (f"a batch of sound pages was refused because of its records: "
                                         f"{type(refused).__name__}: {refused}")
        tally.refusals += 1
        tally.refused_as[offer.fault] += 1
        return None
    tally.accepted += result.row_count
    tally.quarantined += result.rejected_count
    if offer.fault is None:
        assert result.row_count + result.rejected_count == offer.records, (
            f"{offer.records} records sent, {result.row_count} loaded and {result.rejected_count} quarantined")
    _check_later_layers_accept(gate, offer, result)
    _check_reasons(gate, tally, offer.entity, result)
    return result


def _accepted_rows(offer: Offer, result: LoadResult) -> str:
    return f"(select * from {offer.source.raw_table(offer.entity)} where batch_id = '{result.batch_id}')"


def _check_later_layers_accept(conn: psycopg.Connection, offer: Offer, result: LoadResult) -> None:
    """The staging cast and the raw suite, run over the rows the loader accepted, refuse none of them."""
    rows = _accepted_rows(offer, result)
    original_table = offer.original.raw_table(offer.entity)
    staging = _SOURCE_CALL.sub(rows, STAGING_MODELS[original_table])
    try:
        # row_to_json reads every column: PostgreSQL would not evaluate a cast whose column nobody reads.
        (cast,) = conn.execute(f"select count(*) from ({staging}) as model "
                               "where row_to_json(model) is not null").fetchone()
    except psycopg.Error as refused:
        sample = conn.execute(f"select record_index, payload from {rows} as accepted limit 5").fetchall()
        raise AssertionError(f"staging refuses rows the loader accepted: {refused}; accepted rows: {sample}") from None
    assert cast == result.row_count
    suite = next(suite for suite in SUITES if suite.table == original_table)
    for expectation in suite.expectations(parse_period("2019Q1")):
        query = getattr(expectation, "unexpected_rows_query", None)
        if query:
            found = conn.execute(query.format(batch=f"{rows} as batch")).fetchall()
            assert found == [], f"the raw suite's {expectation.description!r} refuses accepted rows: {found[:5]}"
    (undated,) = conn.execute(f"select count(*) from {rows} as accepted where record_date is null").fetchone()
    assert undated == 0 or not offer.entity.windowed


def _check_reasons(conn: psycopg.Connection, tally: Tally, entity: Entity, result: LoadResult) -> None:
    reasons = conn.execute("select record_index, reason from audit.rejected_records where batch_id = %s",
                           (result.batch_id,)).fetchall()
    assert len(reasons) == result.rejected_count
    names = (*entity.fields, *entity.connector_fields)
    tally.broken_rules.update(rule for rule, phrase in RULES for _, reason in reasons if phrase in reason)
    for index, reason in reasons:
        assert reason and reason.isprintable(), f"record {index}: the reason {reason!r} is not readable"
        assert reason.startswith(("field ", "the field name ")) or any(name in reason for name in names), (
            f"record {index}: the reason {reason!r} names no field")


def summary() -> list[str]:
    """The report's lines: the seed, then the counts of each interface kind."""
    lines = [f"payload fuzz: seed {SEED} (set EGOV_FUZZ_SEED to draw other payloads)",
             f"{'interface':<16}{'batches':>8}{'payloads':>9}{'records':>9}{'accepted':>9}{'quarant.':>9}"
             f"{'faults':>7}{'refused':>8}"]
    for kind, tally in TALLIES.items():
        lines.append(f"{kind:<16}{tally.batches:>8}{tally.payloads:>9}{tally.records:>9}{tally.accepted:>9}"
                     f"{tally.quarantined:>9}{tally.faults:>7}{tally.refusals:>8}")
        if tally.refused_as:
            lines.append(f"{'':<16}refused: " + ", ".join(f"{fault} {count}" for fault, count
                                                        in sorted(tally.refused_as.items())))
        lines.append(f"{'':<16}quarantined for: " + ", ".join(f"{rule} {count}" for rule, count
                                                                in tally.broken_rules.most_common()))
    return lines


def fuzz_source(original: Source, tag: str, **changes: object) -> Source:
    """``original`` under a key of the suite's own (``fz<tag>_<key>``), with ``changes``."""
    return Source(**{**original.__dict__, "key": f"fz{tag}_{original.key}", **changes})


#: The registry sources each interface imitates, by the tag of its raw tables.
IMITATED = {"http": (ONESTOP, PORTAL), "files": (MAIL, REGISTERS), "sql": (DOCMGMT,)}


def fuzz_raw_tables() -> list[str]:
    """Every raw table the suite loads into: ``egov db up`` makes one per registry entity, the suite its own."""
    return [fuzz_source(original, tag).raw_table(entity)
            for tag, originals in IMITATED.items() for original in originals for entity in original.entities]

