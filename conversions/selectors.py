"""Reads of conversions, and the one representation of a conversion that leaves Retrack.

The store API, the partner feed (whose items are stored snapshots of this) and the back
office all show a conversion as `conversion_document` builds it.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet

from conversions.models import ChangeAction, Conversion, ConversionStatus, ProductLine
from stores.models import EventKind


def conversions_with_relations() -> QuerySet[Conversion]:
    """Conversions with everything `conversion_document` reads, in a fixed number of queries."""
    return Conversion.objects.select_related(
        "click", "partner", "program__store", "event"
    ).prefetch_related(
        Prefetch("lines", queryset=ProductLine.objects.select_related("event").order_by("position"))
    )


# What each action means to a partner (contract section 6, `change_type`). An action added
# later that is not listed reads as `amended`: the conversion changed, nothing was decided.
_CHANGE_TYPES = {
    ChangeAction.CREATED: "created",
    ChangeAction.AMENDED: "amended",
    ChangeAction.APPROVED: "approved",
    ChangeAction.REJECTED: "rejected",
}


CHANGE_TYPES = sorted(set(_CHANGE_TYPES.values()))


def change_type(action: ChangeAction | str) -> str:
    """The feed's and webhooks' `change_type` of a change with this action."""
    return _CHANGE_TYPES.get(action, "amended")


def auto_approve_at(conversion: Conversion) -> datetime | None:
    """When the auto-approval job approves this conversion unless it is rejected first.

    Its program's validation period after its creation (`approve_due_conversions` takes it
    on its first run from then on); None once approved or rejected.
    """
    if conversion.status != ConversionStatus.PENDING:
        return None
    return conversion.created_at + timedelta(days=conversion.program.validation_days)


def iso_utc(moment) -> str | None:
    """A time as the APIs write it: ISO-8601 in UTC with a Z; None stays None."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def conversion_document(
    conversion: Conversion, lines: list[ProductLine] | None = None
) -> dict[str, Any]:
    """The conversion as the contract (section 4) shows it, in snake_case.

    `lines`, when given, are the conversion's product lines (with their events) in order;
    otherwise they are read through `conversion.lines`.
    """
    if lines is None:
        lines = list(conversion.lines.all())
    click = conversion.click
    program = conversion.program
    store = program.store
    document: dict[str, Any] = {
        "uuid": str(conversion.uuid),
        # str(): an instance built in memory holds the enum members, not plain strings.
        "kind": str(conversion.kind),
        "status": str(conversion.status),
        "reason": conversion.status_reason,
    }
    if conversion.kind == EventKind.TRANSACTION:
        document["order_number"] = conversion.order_number
    else:
        document["reference"] = conversion.reference
    document.update(
        {
            "order_sum": conversion.order_sum,
            "vat_sum": conversion.vat_sum,
            "commission": conversion.commission,
            "commission_breakdown": conversion.commission_breakdown,
            "currency": conversion.currency,
            "vouchers": list(conversion.vouchers),
            "products": [
                {
                    "event": {"uuid": str(line.event.uuid), "name": line.event.name},
                    "reference": line.reference,
                    "name": line.name,
                    "quantity": line.quantity,
                    "price": line.price,
                    "vat": line.vat,
                    "commission": line.commission,
                }
                for line in lines
            ],
            "event": {"uuid": str(conversion.event.uuid), "name": conversion.event.name},
            "source": str(conversion.source),
            "auto_approve_at": iso_utc(auto_approve_at(conversion)),
            "created_at": iso_utc(conversion.created_at),
            "updated_at": iso_utc(conversion.updated_at),
            "click": {
                "uuid": str(click.uuid),
                "ref": click.ref,
                "ref2": click.ref2,
                "ref3": click.ref3,
                "deeplink": click.deeplink,
                "ip_address": click.ip_address,
                "browser": click.browser,
                "referer": click.referer,
                "country": click.country,
                "created_at": iso_utc(click.created_at),
            },
            "publisher": {
                "uuid": str(conversion.partner.uuid),
                "name": conversion.partner.name,
                "created_at": iso_utc(conversion.partner.created_at),
            },
            "advertiser": {"uuid": str(store.uuid), "name": store.name},
            "program": {"uuid": str(program.uuid), "name": program.name},
        }
    )
    return document
