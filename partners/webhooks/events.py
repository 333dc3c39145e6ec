"""What is pushed to partners: one event per feed item, typed and identified.

New kinds of events (claim decisions: `claim.accepted`, `claim.declined`) are built the
same way, as a WebhookEvent, and handed to `record_webhook_event`.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conversions.models import ConversionChange
from conversions.selectors import change_type as action_change_type
from conversions.selectors import is_partner_visible

# Event ids are derived from what they announce, so the same change always has the same
# id, on every endpoint and every attempt: receivers deduplicate by it.
_EVENT_NAMESPACE = uuid.UUID("5b0f7a53-3b0e-4c55-9d0e-7f2f1c3c8a21")


@dataclass(frozen=True)
class WebhookEvent:
    event_id: uuid.UUID
    type: str
    timestamp: datetime
    data: dict[str, Any]

    def body(self) -> str:
        """The JSON body every attempt sends, byte for byte."""
        document = {"type": self.type, "timestamp": self.timestamp.isoformat(), "data": self.data}
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def change_type(change: ConversionChange) -> str:
    """What the change was, as the feed's `change_type` says: created, amended, approved…"""
    return action_change_type(change.action)


def conversion_change_event(change: ConversionChange) -> WebhookEvent | None:
    """The event announcing a feed item, or None when the change is not for the partner.

    The changes pushed are the ones the partner's feed shows: `is_partner_visible` is the
    feed's own rule (test conversions are left out of both).
    """
    if not is_partner_visible(change):
        return None
    return WebhookEvent(
        event_id=uuid.uuid5(_EVENT_NAMESPACE, f"conversion-change:{change.sequence}"),
        type=f"conversion.{change_type(change)}",
        timestamp=change.created_at,
        data=change.snapshot,
    )


def claim_decision_event(claim: dict[str, Any], decided_at: datetime) -> WebhookEvent:
    """The event announcing a claim's decision: `claim.accepted` or `claim.declined`.

    `claim` is the claim as the partner API shows it (`claim_document`); its `change`
    number identifies the decision, so the event id is the same on every attempt.
    """
    return WebhookEvent(
        event_id=uuid.uuid5(_EVENT_NAMESPACE, f"claim-change:{claim['change']}"),
        type=f"claim.{claim['status']}",
        timestamp=decided_at,
        data=claim,
    )
