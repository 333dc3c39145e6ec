"""How the OpenAPI document describes claims: the claim's fields, pages and examples."""

from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

from conversions.api.examples import CLICK, SHOES, TRANSACTION_DOCUMENT
from conversions.api.serializers import NamedReference
from conversions.claims.models import ClaimStatus
from conversions.claims.selectors import CLAIMS_DEFAULT_LIMIT, CLAIMS_MAX_LIMIT
from stores.models import EventKind

_MINOR_UNITS = "Integer in minor units (öre, cents): 10100 means 101.00."

CLAIM_STATUSES_EXPLAINED = (
    "`open`: waiting for the store's decision. `accepted`: the store has recorded the "
    "conversion (`conversion`); follow it in the conversion feed, where it starts as "
    "`pending`. `declined`: nothing will be tracked; `decision_reason` says why."
)


class ClaimDocument(serializers.Serializer):
    uuid = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ClaimStatus.values, help_text=CLAIM_STATUSES_EXPLAINED)
    kind = serializers.ChoiceField(choices=EventKind.choices)
    program = NamedReference()
    publisher = NamedReference(help_text="The partner that filed the claim.")
    click = serializers.UUIDField(help_text="The click the shopper came through.")
    order_number = serializers.CharField(required=False, help_text="Transactions only.")
    reference = serializers.CharField(required=False, help_text="Leads only.")
    order_sum = serializers.IntegerField(allow_null=True, help_text=f"Claimed. {_MINOR_UNITS}")
    vat_sum = serializers.IntegerField(allow_null=True, help_text=f"Claimed. {_MINOR_UNITS}")
    currency = serializers.CharField()
    ordered_at = serializers.DateTimeField()
    note = serializers.CharField()
    decision_reason = serializers.CharField(help_text="Why it was declined; empty otherwise.")
    conversion = serializers.UUIDField(
        allow_null=True, help_text="The conversion recorded on acceptance, else null."
    )
    change = serializers.IntegerField(
        help_text="The number of the claim's latest change: the partner's list is in this order."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ClaimEnvelope(serializers.Serializer):
    data = ClaimDocument()


class ClaimPage(serializers.Serializer):
    data = ClaimDocument(many=True)
    next_cursor = serializers.CharField(
        help_text="Pass as `cursor` to continue; on an empty page it keeps the same position."
    )
    has_more = serializers.BooleanField(help_text="True when more claims are ready right now.")


class PartnerClaimsQuery(serializers.Serializer):
    cursor = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="The `next_cursor` of the previous page, exactly as returned. Absent or "
        "empty: from the first claim.",
    )
    limit = serializers.IntegerField(
        required=False,
        default=CLAIMS_DEFAULT_LIMIT,
        min_value=1,
        max_value=CLAIMS_MAX_LIMIT,
        help_text=f"Claims per page, 1 to {CLAIMS_MAX_LIMIT}.",
    )


class StoreClaimsQuery(PartnerClaimsQuery):
    status = serializers.ChoiceField(
        choices=ClaimStatus.values,
        required=False,
        help_text="Only claims in this status, e.g. `open` for those waiting for you.",
    )


# The store API's example shop, program, partner and click (conversions.api.examples).
_PROGRAM = TRANSACTION_DOCUMENT["program"]
_PUBLISHER = {key: TRANSACTION_DOCUMENT["publisher"][key] for key in ("uuid", "name")}
OPEN_CLAIM = {
    "uuid": "019a8c31-52e4-7d10-8a3b-7c2d4e5f6a01",
    "status": "open",
    "kind": "transaction",
    "program": _PROGRAM,
    "publisher": _PUBLISHER,
    "click": CLICK,
    "order_number": "692549563",
    "order_sum": 1625,
    "vat_sum": 325,
    "currency": "SEK",
    "ordered_at": "2026-11-20T14:03:00Z",
    "note": "Paid by invoice; the shopper has the confirmation e-mail.",
    "decision_reason": "",
    "conversion": None,
    "change": 2051,
    "created_at": "2026-11-24T09:12:40.118000Z",
    "updated_at": "2026-11-24T09:12:40.118000Z",
}
ACCEPTED_CLAIM = {
    **OPEN_CLAIM,
    "status": "accepted",
    "conversion": "019a8d02-77aa-7c01-b2e3-0f1e2d3c4b5a",
    "change": 2107,
    "updated_at": "2026-11-25T08:30:02.004000Z",
}
DECLINED_CLAIM = {
    **OPEN_CLAIM,
    "status": "declined",
    "decision_reason": "The order was returned in full.",
    "change": 2108,
    "updated_at": "2026-11-25T08:31:15.550000Z",
}

FILE_CLAIM_EXAMPLE = OpenApiExample(
    "A missed order",
    value={
        "program": _PROGRAM["uuid"],
        "click": OPEN_CLAIM["click"],
        "kind": "transaction",
        "orderNumber": "692549563",
        "orderSum": 1625,
        "vatSum": 325,
        "currency": "SEK",
        "orderedAt": "2026-11-20T14:03:00Z",
        "note": OPEN_CLAIM["note"],
    },
    request_only=True,
)
ACCEPT_EXAMPLE = OpenApiExample(
    "Accept",
    value={
        "status": "accepted",
        "event": SHOES,
        "orderSum": 1625,
        "vatSum": 325,
    },
    request_only=True,
)
DECLINE_EXAMPLE = OpenApiExample(
    "Decline",
    value={"status": "declined", "reason": "The order was returned in full."},
    request_only=True,
)


def claim_example(name: str, claim: dict, status_code: str) -> OpenApiExample:
    return OpenApiExample(
        name, value={"data": claim}, response_only=True, status_codes=[status_code]
    )
