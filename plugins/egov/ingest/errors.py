"""What an extract fails with when it cannot load a source's records, always naming what failed.

The connectors raise these while they read a source, and the loader's schema check raises
:class:`SchemaDriftError` on the records they read: both sides import them from here, below both.
The distinction decides what Airflow does next: a :class:`SourceUnavailable` task is retried later,
a :class:`SourceDataError` fails at once, since a retry would meet the same data.
"""

from __future__ import annotations


class SourceUnavailable(RuntimeError):
    """The source did not answer usefully after all retries, or a delivery is missing."""


class SourceDataError(ValueError):
    """The source answered with data that cannot be loaded as it is; retrying will not help."""


class SchemaDriftError(SourceDataError):
    """The source renamed, dropped or added a field, column or sheet the registry names."""
