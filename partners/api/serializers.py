"""Serializers of the partner API.

The feed's items are stored snapshots, sent as stored; the feed serializers below only
describe them for the OpenAPI document.
"""

from rest_framework import serializers

from conversions.models import ConversionSource, ConversionStatus
from partners.selectors import FEED_DEFAULT_LIMIT, FEED_MAX_LIMIT, partner_tracking_link
from stores.models import Event, EventKind, Program, Store


class FeedQuerySerializer(serializers.Serializer):
    cursor = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="The `next_cursor` of the previous page, exactly as returned. "
        "Absent or empty: from the first change.",
    )
    limit = serializers.IntegerField(
        required=False,
        default=FEED_DEFAULT_LIMIT,
        min_value=1,
        max_value=FEED_MAX_LIMIT,
        help_text=f"Items per page, 1 to {FEED_MAX_LIMIT}.",
    )


class _NamedSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    name = serializers.CharField()


class _FeedClickSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    ref = serializers.CharField(help_text="The partner's own reference from the tracking link.")
    ref2 = serializers.CharField()
    ref3 = serializers.CharField()
    deeplink = serializers.CharField()
    ip_address = serializers.IPAddressField(allow_null=True)
    browser = serializers.CharField()
    referer = serializers.CharField()
    country = serializers.CharField()
    created_at = serializers.DateTimeField()


class _FeedProductSerializer(serializers.Serializer):
    event = _NamedSerializer()
    reference = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    price = serializers.IntegerField(help_text="Unit price in minor units, VAT included.")
    vat = serializers.IntegerField(help_text="The VAT in the unit price, minor units.")
    commission = serializers.IntegerField()


class FeedItemSerializer(serializers.Serializer):
    change = serializers.IntegerField(
        help_text="This change's sequence number: increasing along the feed."
    )
    uuid = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=EventKind.choices)
    status = serializers.ChoiceField(choices=ConversionStatus.choices)
    reason = serializers.CharField(help_text="Why it was rejected or approved, if given.")
    order_number = serializers.CharField(required=False, help_text="Transactions only.")
    reference = serializers.CharField(required=False, help_text="Leads only.")
    order_sum = serializers.IntegerField(help_text="Minor units, VAT included.")
    vat_sum = serializers.IntegerField(help_text="Minor units.")
    commission = serializers.IntegerField(help_text="Minor units.")
    commission_breakdown = serializers.ListField(child=serializers.DictField())
    currency = serializers.CharField()
    vouchers = serializers.ListField(child=serializers.CharField())
    products = _FeedProductSerializer(many=True)
    event = _NamedSerializer()
    source = serializers.ChoiceField(choices=ConversionSource.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    click = _FeedClickSerializer()
    publisher = _NamedSerializer()
    advertiser = _NamedSerializer()
    program = _NamedSerializer()


class FeedPageSerializer(serializers.Serializer):
    data = FeedItemSerializer(many=True, help_text="Changes after the cursor, oldest first.")
    next_cursor = serializers.CharField(
        help_text="Pass as `cursor` to continue; on an empty page it keeps the same position."
    )
    has_more = serializers.BooleanField(help_text="True when more changes are ready right now.")


class _StoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Store
        fields = ["uuid", "name"]


class PartnerEventSerializer(serializers.ModelSerializer):
    percent = serializers.DecimalField(
        max_digits=6,
        decimal_places=3,
        normalize_output=True,
        allow_null=True,
        help_text="Commission as a percentage of the net amount (sum minus VAT), or null.",
    )
    fixed_amount = serializers.IntegerField(
        allow_null=True,
        help_text="Commission in minor units per lead or per product unit, or null.",
    )

    class Meta:
        model = Event
        fields = ["uuid", "name", "kind", "percent", "fixed_amount"]


class PartnerProgramSerializer(serializers.ModelSerializer):
    store = _StoreSerializer()
    allowed_domains = serializers.ListField(
        child=serializers.CharField(),
        help_text="Hosts a `deeplink` may point to (subdomains included); "
        "any other deeplink lands on `landing_url`.",
    )
    events = PartnerEventSerializer(many=True)
    tracking_link = serializers.SerializerMethodField(
        help_text="The partner's tracking link; replace `{ref}` with your own reference "
        "(URL-encoded). `ref2`, `ref3` and `deeplink` may be appended."
    )

    class Meta:
        model = Program
        fields = [
            "uuid",
            "name",
            "store",
            "currency",
            "landing_url",
            "allowed_domains",
            "attribution_days",
            "validation_days",
            "events",
            "tracking_link",
        ]

    def get_tracking_link(self, program: Program) -> str:
        return partner_tracking_link(self.context["partner"], program)


class PartnerProgramListSerializer(serializers.Serializer):
    data = PartnerProgramSerializer(many=True)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
