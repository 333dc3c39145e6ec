"""Deciding a pending conversion: approve, reject, and the job that auto-approves.

A decision is one conditional UPDATE (still pending?) and its `record_change`, in one short
transaction: of two racing decisions exactly one applies, and it is recorded once.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from conversions.models import ChangeAction, Conversion, ConversionStatus
from conversions.payloads import parse_reason
from conversions.refusals import ConversionRefused
from conversions.services.history import record_change
from stores.models import Program

AUTO_APPROVAL_ACTOR = "system:auto-approval"


def refuse_unless_pending(conversion: Conversion) -> None:
    """409 `conversion_not_pending` unless the conversion can still be changed."""
    if conversion.status != ConversionStatus.PENDING:
        raise ConversionRefused(
            409,
            "conversion_not_pending",
            f"The conversion is already {conversion.status}; only a pending conversion "
            "can be changed.",
        )


def approve_conversion(conversion: Conversion, *, actor: str, reason: str = "") -> Conversion:
    """Approve a pending conversion; 409 `conversion_not_pending` otherwise."""
    return _decide(
        conversion, ConversionStatus.APPROVED, actor, parse_reason(reason, required=False)
    )


def reject_conversion(conversion: Conversion, *, actor: str, reason: str) -> Conversion:
    """Reject a pending conversion with a reason; 409 `conversion_not_pending` otherwise."""
    return _decide(
        conversion, ConversionStatus.REJECTED, actor, parse_reason(reason, required=True)
    )


def _decide(conversion: Conversion, status: ConversionStatus, actor: str, reason: str):
    now = timezone.now()
    with transaction.atomic():
        # Conditional on still pending: of two racing decisions, exactly one applies.
        updated = Conversion.objects.filter(
            pk=conversion.pk, status=ConversionStatus.PENDING
        ).update(status=status, status_reason=reason, updated_at=now)
        if not updated:
            current = Conversion.objects.filter(pk=conversion.pk).values_list("status", flat=True)
            conversion.status = current.first() or conversion.status
            refuse_unless_pending(conversion)
        conversion.status = status
        conversion.status_reason = reason
        conversion.updated_at = now
        action = (
            ChangeAction.APPROVED if status == ConversionStatus.APPROVED else ChangeAction.REJECTED
        )
        change = record_change(
            conversion,
            action=action,
            actor=actor,
            changes={"status": [ConversionStatus.PENDING.value, status.value]},
            reason=reason,
        )
    return change.conversion


def approve_due_conversions(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Approve every pending conversion whose program's validation period has passed.

    Each approval is its own short transaction and is conditional on the conversion still
    being pending, so the job can be rerun or run twice at once: a conversion is approved
    (and recorded) exactly once. Returns how many this run approved.
    """
    now = now or timezone.now()
    approved = 0
    for program in Program.objects.only("pk", "validation_days").order_by("pk"):
        cutoff = now - timedelta(days=program.validation_days)
        reason = f"Validation period of {program.validation_days} days passed."
        last_pk = 0
        while True:
            batch = list(
                Conversion.objects.filter(
                    program=program,
                    status=ConversionStatus.PENDING,
                    created_at__lte=cutoff,
                    pk__gt=last_pk,
                )
                .order_by("pk")
                .only("pk", "partner_id", "status")[:batch_size]
            )
            if not batch:
                break
            for conversion in batch:
                try:
                    _decide(conversion, ConversionStatus.APPROVED, AUTO_APPROVAL_ACTOR, reason)
                except ConversionRefused:
                    continue  # decided meanwhile by the store, an operator or another run
                approved += 1
            last_pk = batch[-1].pk
    return approved
