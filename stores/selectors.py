"""Reads of stores' programs and events."""

from collections.abc import Collection
from uuid import UUID

from retrack.lib.plain_sql import ModelColumns, cache_relation, fetch_rows, prepared
from stores.models import Event, Program

_EVENT = ModelColumns(Event, "e")


def program_events(program: Program, uuids: Collection[UUID]) -> dict[UUID, Event]:
    """Those of `uuids` that are events of `program`, by UUID, each knowing its program.

    Hand-written SQL: the store API reads a report's events on every request, and the
    equivalent queryset costs several times the statement (bench/RESULTS.md). Read afresh
    each time, so a changed rate prices the very next report.
    """
    if not uuids:
        return {}
    uuid_field = Event._meta.get_field("uuid")
    placeholders = ", ".join(["%s"] * len(uuids))
    sql = (
        f"SELECT {_EVENT.select} FROM {_EVENT.table} "
        f'WHERE e."program_id" = %s AND e."uuid" IN ({placeholders})'
    )
    params = [program.pk, *(prepared(uuid_field, value) for value in uuids)]
    found = {}
    for row in fetch_rows(sql, params):
        event = _EVENT.build(row)
        cache_relation(event, "program", program)
        found[event.uuid] = event
    return found
