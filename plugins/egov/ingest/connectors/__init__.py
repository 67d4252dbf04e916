"""Connectors: how records are fetched from each kind of agency interface.

A connector yields pages of records for one entity and one window; it knows nothing of the warehouse.
Each is built from an :class:`~egov.ingest.connectors.base.Endpoint` (what an Airflow connection holds)
by :func:`connector_for`, looked up by the name the source registry gives. One module per kind of
interface: ``http`` (JSON APIs), ``sql`` (another agency's PostgreSQL) and ``files`` (file drops), on
what they share in ``base``. Failures a connector cannot recover from raise
:class:`~egov.ingest.errors.SourceUnavailable` (worth retrying later: the source is down, a file has
not arrived) or :class:`~egov.ingest.errors.SourceDataError` (retrying cannot help: the source changed
its schema or sent inconsistent data), always naming what failed.

This module holds only the registry of connectors: the modules it imports never import it.
"""

from __future__ import annotations

from egov.ingest.connectors.base import Connector, ConnectorClass, Endpoint
from egov.ingest.connectors.files import CsvDropConnector, XlsxDropConnector
from egov.ingest.connectors.http import CursorApiConnector, HttpApiConnector
from egov.ingest.connectors.sql import PostgresKeysetConnector

CONNECTORS: dict[str, ConnectorClass] = {
    "http_paged": HttpApiConnector,
    "http_cursor": CursorApiConnector,
    "postgres_keyset": PostgresKeysetConnector,
    "csv_drop": CsvDropConnector,
    "xlsx_drop": XlsxDropConnector,
}


def connector_for(name: str, endpoint: Endpoint) -> Connector:
    try:
        connector_class = CONNECTORS[name]
    except KeyError:
        raise KeyError(f"unknown connector {name!r}; known: {', '.join(sorted(CONNECTORS))}") from None
    return connector_class.from_endpoint(endpoint)
