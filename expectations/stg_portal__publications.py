"""The main portal's publication events as typed by staging: each in one of the portal's languages, of a known
kind."""

from egov.core.periods import Period
from egov_expectations.references import PORTAL_LANGUAGES, Code, Reference, known_codes
from egov_expectations.suite import Suite, table_slice

TABLE = "staging.stg_portal__publications"
EVENT_TYPES = ("news", "translation_en", "translation_km", "audio_bulletin", "citizen_question", "draft_for_comment",
               "legal_dissemination", "procedure_decision", "banner_removed")
KNOWN_EVENTS = Reference("the event types the report counts",
                         f"select unnest(array[{', '.join(repr(kind) for kind in EVENT_TYPES)}]) as code")


def expectations(period: Period) -> list:
    # The event id is the raw table's key, checked by its raw suite; staging adds no rule of its own.
    return [known_codes("publication", [Code("language_code", "language", PORTAL_LANGUAGES),
                                        Code("event_type", "event type", KNOWN_EVENTS)])]


SUITE = Suite(name="stg_portal__publications", table=TABLE, layer="staging",
              slice_query=table_slice(TABLE, "published_on"), expectations=expectations)
