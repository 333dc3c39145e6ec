"""Writes to conversions: reports from stores, amendments and the status lifecycle.

One path for every source: the store API and the browser tag both call
`record_conversion`; the store API's PATCH, the back office and the auto-approval job call
`amend_transaction` / `amend_lead`, `approve_conversion` and `reject_conversion`. Every
change ends in `record_change`, inside the transaction that made it, so the conversion's
history and its partner's feed always follow.

- `history`: `record_change`, every change's entry in the history and the feed.
- `sequencing`: numbering committed changes, the feed's order (no lock on the write path).
- `recording`: `record_conversion`: attribution, pricing, replays and Idempotency-Key.
- `amending`: the store's PATCH of a pending transaction or lead.
- `decisions`: approve, reject, and approving conversions whose validation period passed.
- `flags`: raising the flags that hold a conversion for review, and clearing them.
- `pricing`: what recording and amending share: events, commission and product lines.
"""

from conversions.refusals import ConversionRefused
from conversions.services.amending import amend_lead, amend_transaction
from conversions.services.decisions import (
    AUTO_APPROVAL_ACTOR,
    approve_conversion,
    approve_due_conversions,
    reject_conversion,
)
from conversions.services.flags import clear_flags
from conversions.services.history import record_change
from conversions.services.recording import TAG_ACTOR, RecordedConversion, record_conversion
from conversions.services.sequencing import sequence_committed_changes

__all__ = [
    "AUTO_APPROVAL_ACTOR",
    "TAG_ACTOR",
    "ConversionRefused",
    "RecordedConversion",
    "amend_lead",
    "amend_transaction",
    "approve_conversion",
    "approve_due_conversions",
    "clear_flags",
    "record_change",
    "record_conversion",
    "reject_conversion",
    "sequence_committed_changes",
]
