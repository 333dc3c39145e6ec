"""A conversion's history and its partner's feed: every change ends in `record_change`."""

from functools import partial
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from conversions.models import ChangeAction, ChangeCounter, Conversion, ConversionChange
from conversions.selectors import change_type, conversion_document, conversions_with_relations
from partners.webhooks.services import record_conversion_change_deliveries
from retrack.lib.plain_sql import insert_instances
from retrack.metrics import count_conversion

# An upsert, so that a counter row lost to `manage.py flush` (or a test's) is remade.
_NEXT_SEQUENCE_SQL = (
    f"INSERT INTO {ChangeCounter._meta.db_table} AS counter (id, last_sequence) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET last_sequence = counter.last_sequence + 1 "
    "RETURNING last_sequence"
)


def next_change_sequence() -> int:
    """The next change sequence number, locking the counter until this transaction commits.

    Shared by every feed a partner polls (conversions, claims): take it as the last write
    of the changing transaction, so that sequence order is commit order (see
    `record_change`).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a change sequence must be taken inside the changing transaction")
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_SEQUENCE_SQL)
        (sequence,) = cursor.fetchone()
    return sequence


def record_change(
    conversion: Conversion,
    *,
    action: ChangeAction,
    actor: str,
    changes: dict[str, Any] | None = None,
    reason: str = "",
    document: dict[str, Any] | None = None,
) -> ConversionChange:
    """Append a change to the conversion's history and to its partner's feed.

    Call it as the last write of the transaction that changed the conversion. Taking the
    next sequence number locks the counter row until that transaction commits, so a later
    sequence number is only ever handed out after the earlier one is committed: sequence
    order is commit order, and a feed reader that has seen sequence N can never later find
    a new change below N. The lock is held only for the last two statements and the commit.

    The snapshot is the conversion re-read from the database, unless the caller passes the
    `document` it built from the very rows it just wrote (the create path, to save a read).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_change must run inside the transaction that made the change")
    fresh = conversion
    if document is None:
        fresh = conversions_with_relations().get(pk=conversion.pk)
        document = conversion_document(fresh)
    snapshot = dict(document)
    snapshot["change"] = next_change_sequence()
    snapshot["change_type"] = change_type(action)
    if action != ChangeAction.AMENDED:
        # Counted once committed: a rolled-back change entered no status.
        transaction.on_commit(partial(count_conversion, snapshot["status"]))
    # The change holds the freshly read conversion, relations loaded, for callers to answer.
    change = ConversionChange(
        conversion=fresh,
        partner_id=conversion.partner_id,
        sequence=snapshot["change"],
        action=action,
        actor=actor,
        reason=reason,
        changes=changes or {},
        snapshot=snapshot,
        test=conversion.test,
        created_at=timezone.now(),
    )
    insert_instances([change])  # plain SQL: every change of every conversion pays for it
    # The webhook outbox: its deliveries commit with the change, or not at all.
    record_conversion_change_deliveries(change)
    return change
