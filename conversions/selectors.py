"""Reads of conversions, and the one representation of a conversion that leaves Retrack.

The store API, the partner feed (whose items are stored snapshots of this) and the back
office all show a conversion as `conversion_document` builds it.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet

from conversions.models import Conversion, ConversionStatus, ProductLine
from stores.models import EventKind


def conversions_with_relations() -> QuerySet[Conversion]:
    """Conversions with everything `conversion_document` reads, in a fixed number of queries."""
    return Conversion.objects.select_related(
        "click", "partner", "program__store", "event"
    ).prefetch_related(
        Prefetch("lines", queryset=ProductLine.objects.select_related("event").order_by("position"))
    )


def _iso(moment) -> str | None:
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
            "created_at": _iso(conversion.created_at),
            "updated_at": _iso(conversion.updated_at),
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
                "created_at": _iso(click.created_at),
            },
            "publisher": {
                "uuid": str(conversion.partner.uuid),
                "name": conversion.partner.name,
                "created_at": _iso(conversion.partner.created_at),
            },
            "advertiser": {"uuid": str(store.uuid), "name": store.name},
            "program": {"uuid": str(program.uuid), "name": program.name},
        }
    )
    return document


def auto_approve_at(conversion: Conversion) -> datetime | None:
    """When the auto-approval job will approve a pending conversion (created + the program's
    validation period, as `approve_due_conversions` counts it); None once decided."""
    if conversion.status != ConversionStatus.PENDING:
        return None
    return conversion.created_at + timedelta(days=conversion.program.validation_days)
