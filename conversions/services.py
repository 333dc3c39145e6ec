"""Writes to conversions. Every change of a conversion ends in `record_change`."""

from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from conversions.models import ChangeAction, ChangeCounter, Conversion, ConversionChange
from conversions.selectors import conversion_document, conversions_with_relations

_NEXT_SEQUENCE_SQL = (
    f"UPDATE {ChangeCounter._meta.db_table} SET last_sequence = last_sequence + 1 "
    "WHERE id = 1 RETURNING last_sequence"
)


def record_change(
    conversion: Conversion,
    *,
    action: ChangeAction,
    actor: str,
    changes: dict[str, Any] | None = None,
    reason: str = "",
) -> ConversionChange:
    """Append a change to the conversion's history and to its partner's feed.

    Call it as the last write of the transaction that changed the conversion. Taking the
    next sequence number locks the counter row until that transaction commits, so a later
    sequence number is only ever handed out after the earlier one is committed: sequence
    order is commit order, and a feed reader that has seen sequence N can never later find
    a new change below N. The lock is held only for the last two statements and the commit.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_change must run inside the transaction that made the change")
    fresh = conversions_with_relations().get(pk=conversion.pk)
    snapshot = conversion_document(fresh)
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_SEQUENCE_SQL)
        (sequence,) = cursor.fetchone()
    snapshot["change"] = sequence
    return ConversionChange.objects.create(
        conversion=conversion,
        partner_id=conversion.partner_id,
        sequence=sequence,
        action=action,
        actor=actor,
        reason=reason,
        changes=changes or {},
        snapshot=snapshot,
        created_at=timezone.now(),
    )
