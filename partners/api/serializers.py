"""Serializers of the partner API.

The feed's items are stored snapshots, sent as stored; the feed serializers only describe
them for the OpenAPI document, reusing the store API's description of a conversion.
"""

from rest_framework import serializers

from clicks.selectors import tracking_link
from conversions.api.serializers import ConversionDocument, NamedReference
from conversions.selectors import CHANGE_TYPES
from partners.selectors import FEED_DEFAULT_LIMIT, FEED_MAX_LIMIT
from retrack.lib.validation import BIGINT_MAX
from stores.models import Event, Program, Store


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


class FeedItemSerializer(ConversionDocument):
    """A conversion as the store API shows it, as it was right after one change."""

    change = serializers.IntegerField(
        help_text="This change's sequence number: increasing along the feed."
    )
    change_type = serializers.ChoiceField(
        choices=CHANGE_TYPES,
        help_text="What this change was: `created` (first tracked), `amended` (sums or lines "
        "changed, e.g. a partial return), `approved` (now payable), `rejected` (will not be "
        "paid; see `reason`). Accept values added later: treat an unknown one as `amended`.",
    )


class FeedItemEnvelope(serializers.Serializer):
    data = FeedItemSerializer()


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
        min_value=0,
        max_value=BIGINT_MAX,
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
        return tracking_link(self.context["partner"], program)


class PartnerProgramListSerializer(serializers.Serializer):
    data = PartnerProgramSerializer(many=True)


# `from` is a Python keyword, so the stats query's fields are declared as a mapping.
StatsQuerySerializer = type(
    "StatsQuerySerializer",
    (serializers.Serializer,),
    {
        "__doc__": "The partner stats' period and program.",
        "from": serializers.DateField(
            required=False,
            help_text="First UTC day, YYYY-MM-DD; default: 29 days before `to`.",
        ),
        "to": serializers.DateField(
            required=False, help_text="Last UTC day (included), YYYY-MM-DD; default: today."
        ),
        "program": serializers.UUIDField(
            required=False, help_text="Only this program (one you are admitted to)."
        ),
    },
)


class CommissionByStatus(serializers.Serializer):
    pending = serializers.IntegerField(help_text="Tracked, not yet payable. Minor units.")
    approved = serializers.IntegerField(help_text="Payable. Minor units.")
    rejected = serializers.IntegerField(help_text="Will not be paid. Minor units.")


class StatsRowSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The UTC day.")
    program = NamedReference()
    currency = serializers.CharField(help_text="The program's currency (of the commission).")
    clicks = serializers.IntegerField(help_text="Clicks that day, bots and link previews apart.")
    conversions = serializers.IntegerField(help_text="Conversions tracked that day.")
    commission = CommissionByStatus(
        help_text="Commission of that day's conversions, by their status now."
    )
    conversion_rate = serializers.FloatField(
        allow_null=True,
        help_text="Conversions per 100 clicks (a percentage), two decimals; null without clicks.",
    )


class StatsSerializer(serializers.Serializer):
    data = StatsRowSerializer(many=True, help_text="Oldest day first; each program every day.")


class WebhookEndpointSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    url = serializers.CharField()
    description = serializers.CharField()
    active = serializers.BooleanField(
        help_text="False once deactivated after 3 days of failed deliveries."
    )
    created_at = serializers.DateTimeField()


class NewWebhookEndpointSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (`whsec_…`), shown in this answer only: keep it."
    )


class WebhookEndpointEnvelope(serializers.Serializer):
    data = NewWebhookEndpointSerializer()


class WebhookEndpointListSerializer(serializers.Serializer):
    data = WebhookEndpointSerializer(many=True)


class WebhookDeliverySerializer(serializers.Serializer):
    event_id = serializers.UUIDField(
        help_text="The `webhook-id` header: the same on every attempt."
    )
    type = serializers.CharField(source="event_type", help_text="e.g. `conversion.approved`.")
    status = serializers.ChoiceField(choices=["pending", "delivered", "failed"])
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)


class WebhookDeliveryListSerializer(serializers.Serializer):
    data = WebhookDeliverySerializer(many=True, help_text="The latest deliveries, newest first.")
