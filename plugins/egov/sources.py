"""The declarative registry of agency systems the warehouse extracts from.

One entry per source system. DAGs are generated from this list
(``dags/egov_extract.py``), so adding a source is one entry here plus a
connector class in ``egov.connectors``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

INT = "int"
TEXT = "text"
DATE = "date"
OPTIONAL_DATE = "date?"
OPTIONAL_TEXT = "text?"
TIMESTAMP = "timestamp"


@dataclass(frozen=True)
class Entity:
    """One resource of a source, landed in its own raw table."""

    name: str
    path: str
    fields: dict[str, str]
    #: Field that dates a record; windowed entities are extracted and replaced per day.
    date_field: str | None = None
    #: Longest window the source accepts in one request.
    max_window: timedelta = timedelta(days=366)

    @property
    def windowed(self) -> bool:
        return self.date_field is not None


@dataclass(frozen=True)
class Source:
    key: str
    system: str
    description: str
    interface: str
    connection_id: str
    entities: tuple[Entity, ...]
    owner: str = "data-engineering"
    tags: tuple[str, ...] = field(default=())

    def raw_table(self, entity: Entity) -> str:
        return f"raw.{self.key}__{entity.name}"


ONESTOP = Source(
    key="onestop",
    system="onestop_public_service_system",
    description=(
        "Provincial one-stop-shop and online public service system (Hệ thống Một cửa điện tử và "
        "Dịch vụ công trực tuyến): units, procedure catalogue, daily dossier counts and unit daily closes."
    ),
    interface="http",
    connection_id="onestop_api",
    entities=(
        Entity(
            "units",
            "/api/v1/units",
            {"code": TEXT, "name": TEXT, "level": TEXT, "parent_code": TEXT,
             "admin_unit_code": TEXT, "onboarded_on": DATE},
        ),
        Entity(
            "procedures",
            "/api/v1/procedures",
            {"code": TEXT, "name": TEXT, "field": TEXT, "tier": TEXT, "agency_code": OPTIONAL_TEXT,
             "service_level": INT, "valid_from": DATE, "valid_to": OPTIONAL_DATE},
        ),
        Entity(
            "dossier_counts",
            "/api/v1/dossier-counts",
            {"date": DATE, "unit_code": TEXT, "procedure_code": TEXT, "channel": TEXT,
             "event": TEXT, "count": INT},
            date_field="date",
        ),
        Entity(
            "daily_closes",
            "/api/v1/daily-closes",
            {"date": DATE, "unit_code": TEXT, "received": INT, "resolved": INT,
             "pending_end_of_day": INT, "closed_at": TIMESTAMP},
            date_field="date",
        ),
    ),
    tags=("onestop", "http"),
)

SOURCES: dict[str, Source] = {source.key: source for source in (ONESTOP,)}


def get_source(key: str) -> Source:
    try:
        return SOURCES[key]
    except KeyError:
        raise KeyError(f"unknown source {key!r}; known: {', '.join(sorted(SOURCES))}") from None
