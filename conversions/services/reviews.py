"""Writes of the review of held conversions: an operator clears their flags."""

from django.db import transaction
from django.utils import timezone

from conversions.models import ChangeAction, Conversion, ConversionFlag, ConversionStatus
from conversions.refusals import ConversionRefused
from conversions.services.decisions import clean_reason
from conversions.services.history import record_change


def clear_flags(conversion: Conversion, *, actor: str, reason: str) -> Conversion:
    """Clear every open flag of a pending conversion, saying why; kept in its history.

    The flags stay, marked cleared by `actor`; the history (and so the partner's feed)
    records a `reviewed` change, after which the conversion is auto-approvable again unless
    its program still waits for the store's confirmation. A conversion without open flags
    is left as it is. 409 `conversion_not_pending` when it is already decided.
    """
    reason = clean_reason(reason, True)
    now = timezone.now()
    with transaction.atomic():
        locked = Conversion.objects.select_for_update().get(pk=conversion.pk)
        if locked.status != ConversionStatus.PENDING:
            raise ConversionRefused(
                409,
                "conversion_not_pending",
                f"The conversion is already {locked.status}; only a pending conversion's "
                "flags can be cleared.",
            )
        open_flags = ConversionFlag.objects.filter(conversion=locked, cleared_at__isnull=True)
        codes = sorted(open_flags.values_list("code", flat=True))
        if not codes:
            return locked
        open_flags.update(cleared_at=now, cleared_by=actor)
        locked.updated_at = now
        locked.save(update_fields=["updated_at"])
        change = record_change(
            locked,
            action=ChangeAction.REVIEWED,
            actor=actor,
            changes={"flags": [codes, []]},
            reason=reason,
        )
    return change.conversion
