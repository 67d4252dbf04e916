"""What every connector shares: the protocol it follows, the pages it yields, the endpoint it is built from.

A connector yields pages of records for one entity and one window; it knows nothing of the warehouse.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock
from typing import Protocol, TypeVar

from egov.core import config
from egov.core.sources import Entity
from egov.ingest.errors import SourceDataError, SourceUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

#: A record's values may nest lists and objects this deep at most. A registry field holds a scalar, so any nesting
#: is already wrong; but a payload nested near Python's recursion limit (1,000 frames, fewer the deeper the call
#: stack) would make the JSON encoder that stores the raw payload raise RecursionError instead of storing it.
MAX_NESTING = 64


class Connector(Protocol):
    def pages(self, entity: Entity, window: tuple[date, date] | None) -> Iterator[Page]:
        """Every page of ``entity``: for ``window`` [start, end) if it is dated, else the whole snapshot."""


class ConnectorClass(Protocol):
    def from_endpoint(self, endpoint: Endpoint) -> Connector:
        """A connector for the source that ``endpoint`` (an Airflow connection's fields) describes."""


@dataclass(frozen=True)
class Endpoint:
    """Where a source is and how to sign in: the fields of an Airflow connection."""

    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = None
    schema: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_connection(cls, connection: dict) -> Endpoint:
        """The endpoint of an Airflow connection in its JSON form (an ``AIRFLOW_CONN_*`` value)."""
        return cls(connection.get("host"), connection.get("port"), connection.get("login"),
                   connection.get("password"), connection.get("schema"), connection.get("extra") or {})


@dataclass(frozen=True)
class Page:
    #: What was asked for: a request URL, a query, or a file with its SHA-256.
    request: str
    records: list[dict]


def check_nesting(where: str, records: list[dict]) -> None:
    """Refuse the page if a record's value nests lists or objects more than ``MAX_NESTING`` deep."""
    for index, record in enumerate(records):
        for name, value in record.items():
            if isinstance(value, (dict, list)) and _deeper_than(value, MAX_NESTING):
                raise SourceDataError(f"{where}: record {index} field {name!r} nests lists or objects more than "
                                      f"{MAX_NESTING} deep")


def _deeper_than(value: dict | list, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` levels, found without recursion (the point is a deep value)."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, clock.min, config.LOCAL_TIMEZONE)


def with_retries(what: str, attempt: Callable[[], tuple[T | None, str]], max_attempts: int, backoff_s: float) -> T:
    """Call ``attempt`` until it returns a result, sleeping backoff_s, 2·backoff_s, … between tries."""
    for number in range(1, max_attempts + 1):
        result, problem = attempt()
        if result is not None:
            return result
        if number == max_attempts:
            raise SourceUnavailable(f"{what} failed after {number} attempts: {problem}")
        delay = backoff_s * 2 ** (number - 1)
        log.warning("%s: %s; retry %d/%d in %.1fs", what, problem, number, max_attempts - 1, delay)
        time.sleep(delay)
    raise AssertionError("unreachable")
