"""Serializers that describe the store API in the OpenAPI document.

They are documentation only: requests are parsed and checked once, in the domain
(`conversions.payloads`), and responses are `conversions.selectors.conversion_document`.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conversions.commission import FIXED_PER_CONVERSION, FIXED_PER_UNIT, PERCENT_OF_NET
from conversions.models import REFERENCE_MAX_LENGTH, ConversionSource, ConversionStatus
from conversions.payloads import MAX_PRODUCT_LINES, MAX_VOUCHERS, REASON_MAX_LENGTH
from stores.models import EventKind

_MINOR_UNITS = "Integer in minor units (öre, cents): 10100 means 101.00."


def _amount(help_text: str, **kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, help_text=f"{help_text} {_MINOR_UNITS}", **kwargs)


def _text(help_text: str, **kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=REFERENCE_MAX_LENGTH, help_text=help_text, **kwargs)


@extend_schema_field({"type": "string", "pattern": "^rejected$", "example": "rejected"})
class RejectedStatusField(serializers.CharField):
    """A store may only reject; inlined so it does not clash with the status enum."""


class ProductLineRequest(serializers.Serializer):
    event = serializers.UUIDField(help_text="The line's event: it earns at this event's rate.")
    reference = _text("The product's SKU.", required=False)
    name = _text("The product's name.", required=False)
    quantity = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    price = _amount("Unit price, VAT included.")
    vat = _amount("The VAT in the unit price (at most the price).")


class TransactionRequest(serializers.Serializer):
    event = serializers.UUIDField(help_text="The order's event (a transaction event).")
    click = serializers.UUIDField(help_text="The click UUID from the `retrack_click` cookie.")
    orderNumber = _text("The store's order number; unique per program.")  # noqa: N815
    orderSum = _amount("The order's total, VAT included.")  # noqa: N815
    vatSum = _amount("The VAT in orderSum (at most orderSum).")  # noqa: N815
    currency = serializers.RegexField(
        r"^[A-Z]{3}$", help_text="ISO-4217, and the program's currency."
    )
    products = ProductLineRequest(
        many=True,
        required=False,
        max_length=MAX_PRODUCT_LINES,
        help_text="Optional lines. When sent, Σ quantity × price must equal orderSum and "
        "Σ quantity × vat must equal vatSum (send shipping or fees as a line).",
    )
    voucher = _text("A voucher code used on the order.", required=False)
    vouchers = serializers.ListField(
        child=_text("A voucher code."),
        required=False,
        max_length=MAX_VOUCHERS,
        help_text="Several voucher codes (instead of `voucher`).",
    )


class LeadRequest(serializers.Serializer):
    event = serializers.UUIDField(help_text="The lead's event (a lead event).")
    click = serializers.UUIDField(help_text="The click UUID from the `retrack_click` cookie.")
    reference = _text("The store's reference for the lead; unique per program.")
    voucher = _text("A voucher code.", required=False)


class TransactionAmendment(serializers.Serializer):
    orderSum = _amount("The new total.", required=False)  # noqa: N815
    vatSum = _amount("The new VAT.", required=False)  # noqa: N815
    products = ProductLineRequest(
        many=True,
        required=False,
        help_text="The new lines, replacing all old ones; sums left out follow the lines.",
    )
    status = RejectedStatusField(required=False, help_text="Only `rejected`, with a reason.")
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH, required=False, help_text="Why it is rejected."
    )


class LeadAmendment(serializers.Serializer):
    status = RejectedStatusField(help_text="Only `rejected`.")
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, help_text="Why it is rejected.")


class EventReference(serializers.Serializer):
    uuid = serializers.UUIDField()
    name = serializers.CharField()


class ProductLineDocument(serializers.Serializer):
    event = EventReference()
    reference = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    price = serializers.IntegerField(help_text=_MINOR_UNITS)
    vat = serializers.IntegerField(help_text=_MINOR_UNITS)
    commission = serializers.IntegerField(help_text=_MINOR_UNITS)


class CommissionEntry(serializers.Serializer):
    line = serializers.IntegerField(
        allow_null=True, help_text="Index into products; null for the order or the lead."
    )
    event = EventReference()
    method = serializers.ChoiceField(choices=[PERCENT_OF_NET, FIXED_PER_UNIT, FIXED_PER_CONVERSION])
    base = serializers.IntegerField(
        help_text="Net amount in minor units (percent_of_net), units (fixed_per_unit), 1."
    )
    rate = serializers.CharField(
        help_text="Decimal string: the percentage, or minor units per unit/conversion."
    )
    result = serializers.IntegerField(help_text="Rounded half up, once. " + _MINOR_UNITS)


class ClickDocument(serializers.Serializer):
    uuid = serializers.UUIDField()
    ref = serializers.CharField()
    ref2 = serializers.CharField()
    ref3 = serializers.CharField()
    deeplink = serializers.CharField()
    ip_address = serializers.IPAddressField(allow_null=True)
    browser = serializers.CharField(help_text="The visitor's User-Agent.")
    referer = serializers.CharField()
    country = serializers.CharField(help_text="ISO-3166 alpha-2, or empty.")
    created_at = serializers.DateTimeField()


class PublisherDocument(serializers.Serializer):
    uuid = serializers.UUIDField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()


class NamedReference(serializers.Serializer):
    uuid = serializers.UUIDField()
    name = serializers.CharField()


# What each status means to whoever is paid on it (README, "Statuses for partners").
STATUSES_EXPLAINED = (
    "`pending`: tracked; the store may still amend or reject it; pay nothing yet. "
    "`approved`: final; the commission is payable. "
    "`rejected`: final; nothing is payable; `reason` says why (the store's words)."
)


class ConversionDocument(serializers.Serializer):
    uuid = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=EventKind.choices)
    status = serializers.ChoiceField(choices=ConversionStatus.values, help_text=STATUSES_EXPLAINED)
    reason = serializers.CharField(help_text="Why it was rejected or approved; may be empty.")
    order_number = serializers.CharField(required=False, help_text="Transactions only.")
    reference = serializers.CharField(required=False, help_text="Leads only.")
    order_sum = serializers.IntegerField(help_text=_MINOR_UNITS)
    vat_sum = serializers.IntegerField(help_text=_MINOR_UNITS)
    commission = serializers.IntegerField(help_text=_MINOR_UNITS)
    commission_breakdown = CommissionEntry(many=True)
    currency = serializers.CharField()
    vouchers = serializers.ListField(child=serializers.CharField())
    products = ProductLineDocument(many=True)
    event = EventReference()
    source = serializers.ChoiceField(choices=ConversionSource.choices)
    auto_approve_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When a pending conversion becomes approved (payable) by the periodic job "
        "unless the store rejects it first; null once approved or rejected.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    click = ClickDocument()
    publisher = PublisherDocument()
    advertiser = NamedReference()
    program = NamedReference()


class ConversionEnvelope(serializers.Serializer):
    data = ConversionDocument()


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. `click_expired`.")
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Each offending field, named as sent (`products[1].quantity`).",
    )


class ErrorEnvelope(serializers.Serializer):
    error = ErrorDetail()
