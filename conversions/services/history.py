"""A conversion's history and its partner's feed: every change ends in `record_change`."""

from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from conversions.models import ChangeAction, Conversion, ConversionChange
from conversions.selectors import change_type, conversion_document, conversions_with_relations
from partners.webhooks.dispatch import request_sequencing_on_commit
from partners.webhooks.services import has_active_webhook_endpoints
from retrack.lib.plain_sql import insert_instances
from retrack.metrics import count_conversion


def record_change(
    conversion: Conversion,
    *,
    action: ChangeAction,
    actor: str,
    changes: dict[str, Any] | None = None,
    reason: str = "",
    document: dict[str, Any] | None = None,
    partner_has_webhooks: bool | None = None,
) -> ConversionChange:
    """Append a change to the conversion's history, for its partner's feed.

    Call it inside the transaction that changed the conversion, holding the conversion's
    row (locked by the change, or new): its id is then taken after every earlier change of
    the conversion committed, which keeps the conversion's changes in order. It takes no
    shared lock: the change is written with `sequence` (and the snapshot's `change`) unset,
    and the sequencer numbers it once committed (`conversions.services.sequencing`, which
    explains why the feed still never skips). When the partner has webhook endpoints, the
    commit asks a worker to number it at once, and that run writes its deliveries.

    The snapshot is the conversion re-read from the database, unless the caller passes the
    `document` it built from the very rows it just wrote (the create path, to save a read).
    Likewise whether the partner has an active webhook endpoint is read here unless the
    caller read it already (`partner_has_webhooks`, with the click: `reported_click`).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_change must run inside the transaction that made the change")
    fresh = conversion
    if document is None:
        fresh = conversions_with_relations().get(pk=conversion.pk)
        document = conversion_document(fresh)
    snapshot = dict(document)
    # Set by the sequencer; the key is here already so that it keeps its place.
    snapshot["change"] = None
    snapshot["change_type"] = change_type(action)
    if action != ChangeAction.AMENDED:
        # Counted once committed: a rolled-back change entered no status.
        transaction.on_commit(partial(count_conversion, snapshot["status"]))
    # The change holds the freshly read conversion, relations loaded, for callers to answer.
    change = ConversionChange(
        conversion=fresh,
        partner_id=conversion.partner_id,
        action=action,
        actor=actor,
        reason=reason,
        changes=changes or {},
        snapshot=snapshot,
        test=conversion.test,
        created_at=timezone.now(),
    )
    insert_instances([change])  # plain SQL: every change of every conversion pays for it
    if conversion.test:
        return change
    if partner_has_webhooks is None:
        partner_has_webhooks = has_active_webhook_endpoints(conversion.partner_id)
    if partner_has_webhooks:
        request_sequencing_on_commit()
    return change
