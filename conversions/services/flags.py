"""Writes of flags: raising them on a conversion, and clearing them.

A flag is cleared by the store's own values replacing a browser's (`limit_exceeded`), or
by an operator's review (`clear_flags`), which the conversion's history records.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from conversions.models import (
    ChangeAction,
    Conversion,
    ConversionFlag,
    ConversionStatus,
    FlagCode,
)
from conversions.payloads import parse_reason
from conversions.refusals import ConversionRefused
from conversions.services.history import record_change
from conversions.trust import RaisedFlag
from retrack.lib.plain_sql import insert_instances


def raise_flags(
    conversion: Conversion, flags: Iterable[RaisedFlag], now: datetime
) -> list[ConversionFlag]:
    """Store the flags on the conversion; a code already open on it stays as it is.

    The partial unique constraint (one open flag per code) decides, not a prior read.
    Returns the flags as built, one per code (for a new conversion: its open flags).
    """
    rows: dict[str, ConversionFlag] = {}
    for flag in flags:
        rows.setdefault(
            flag.code,
            ConversionFlag(
                conversion=conversion, code=flag.code, reason=flag.reason, raised_at=now
            ),
        )
    if rows:
        insert_instances(list(rows.values()), ignore_conflicts=True)
    return list(rows.values())


def clear_limit_exceeded_flags(conversion: Conversion, *, actor: str, now: datetime) -> None:
    """Clear the `limit_exceeded` flags raised on a browser's values, now the store's own
    values (within the limits, or refused) replace them."""
    ConversionFlag.objects.filter(
        conversion=conversion, code=FlagCode.LIMIT_EXCEEDED, cleared_at__isnull=True
    ).update(cleared_at=now, cleared_by=actor)


def clear_flags(conversion: Conversion, *, actor: str, reason: str) -> Conversion:
    """Clear every open flag of a pending conversion, saying why; kept in its history.

    The flags stay, marked cleared by `actor`; the history (and so the partner's feed)
    records a `reviewed` change, after which the conversion is auto-approvable again unless
    its program still waits for the store's confirmation. A conversion without open flags
    is left as it is. 409 `conversion_not_pending` when it is already decided.
    """
    reason = parse_reason(reason, required=True)
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
