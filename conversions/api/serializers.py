"""Serializers that describe the store API's answers in the OpenAPI document.

Requests are described by the declarations that parse them (`conversions.payloads`);
answers are built by `conversions.selectors.conversion_document`, whose shape the tests
hold these to.
"""

from rest_framework import serializers

from conversions.commission import FIXED_PER_CONVERSION, FIXED_PER_UNIT, PERCENT_OF_NET
from conversions.models import ConversionSource, ConversionStatus, ReportOutcome, ReportSource
from retrack.lib.validation import BIGINT_MAX, INT32_MAX
from stores.models import EventKind

REPORTS_DEFAULT_LIMIT = 50
REPORTS_MAX_LIMIT = 200

_MINOR_UNITS = "Integer in minor units (öre, cents): 10100 means 101.00."


def _amount(help_text: str = "") -> serializers.IntegerField:
    """Money in minor units, bounded as stored (a BIGINT)."""
    return serializers.IntegerField(
        min_value=0, max_value=BIGINT_MAX, help_text=f"{help_text} {_MINOR_UNITS}".strip()
    )


class EventReference(serializers.Serializer):
    uuid = serializers.UUIDField()
    name = serializers.CharField()


class ProductLineDocument(serializers.Serializer):
    event = EventReference()
    reference = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField(min_value=1, max_value=INT32_MAX)
    price = _amount()
    vat = _amount()
    commission = _amount()


class CommissionEntry(serializers.Serializer):
    line = serializers.IntegerField(
        allow_null=True, help_text="Index into products; null for the order or the lead."
    )
    event = EventReference()
    method = serializers.ChoiceField(choices=[PERCENT_OF_NET, FIXED_PER_UNIT, FIXED_PER_CONVERSION])
    base = serializers.IntegerField(
        min_value=0,
        max_value=BIGINT_MAX,
        help_text="Net amount in minor units (percent_of_net), units (fixed_per_unit), 1.",
    )
    rate = serializers.CharField(
        help_text="Decimal string: the percentage, or minor units per unit/conversion."
    )
    result = _amount("Rounded half up, once.")


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
    order_sum = _amount()
    vat_sum = _amount()
    commission = _amount()
    commission_breakdown = CommissionEntry(many=True)
    currency = serializers.CharField()
    vouchers = serializers.ListField(child=serializers.CharField())
    products = ProductLineDocument(many=True)
    event = EventReference()
    source = serializers.ChoiceField(choices=ConversionSource.choices)
    test = serializers.BooleanField(help_text="Made on a test click (contract section 8).")
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


class TestClickDocument(serializers.Serializer):
    uuid = serializers.UUIDField(help_text="The test click's UUID.")
    test = serializers.BooleanField()
    url = serializers.URLField(help_text="Where the tracking link would send the shopper.")


class TestClickEnvelope(serializers.Serializer):
    data = TestClickDocument()


class ReportsQuery(serializers.Serializer):
    cursor = serializers.UUIDField(
        required=False, help_text="The `next_cursor` of the previous page, for older reports."
    )
    limit = serializers.IntegerField(
        required=False, default=REPORTS_DEFAULT_LIMIT, min_value=1, max_value=REPORTS_MAX_LIMIT
    )
    outcome = serializers.ChoiceField(choices=ReportOutcome.choices, required=False)
    source = serializers.ChoiceField(choices=ReportSource.choices, required=False)
    program = serializers.UUIDField(required=False)


class ReportDocument(serializers.Serializer):
    uuid = serializers.UUIDField()
    received_at = serializers.DateTimeField()
    source = serializers.ChoiceField(choices=ReportSource.choices)
    kind = serializers.CharField(allow_null=True)
    outcome = serializers.ChoiceField(choices=ReportOutcome.choices)
    code = serializers.CharField(allow_null=True, help_text="The refusal's code, or null.")
    message = serializers.CharField()
    status_code = serializers.IntegerField(
        help_text="What the API answered, or would have answered a browser report."
    )
    program = serializers.UUIDField(allow_null=True)
    click = serializers.CharField(allow_null=True, help_text="As sent.")
    order_number = serializers.CharField(required=False, allow_null=True)
    reference = serializers.CharField(required=False, allow_null=True)
    conversion = serializers.UUIDField(allow_null=True)
    test = serializers.BooleanField()
    payload = serializers.CharField(help_text="The body as received, at most 8 KB.")


class ReportPage(serializers.Serializer):
    data = ReportDocument(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    has_more = serializers.BooleanField()
