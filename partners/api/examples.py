"""Examples for the partner API's OpenAPI document."""

from drf_spectacular.utils import OpenApiExample

from conversions.api import docs
from partners.api.cursors import CURSOR_INVALID_MESSAGE

# The same documents as the store API's examples: a feed item is one plus `change`.
_CREATED = {**docs.TRANSACTION_DOCUMENT, "change": 1041, "change_type": "created"}
_REJECTED = {
    **docs.TRANSACTION_DOCUMENT,
    "change": 1042,
    "change_type": "rejected",
    "status": "rejected",
    "reason": "Order cancelled",
    "auto_approve_at": None,
    "updated_at": "2026-11-22T14:02:51.870000Z",
}
_LEAD = {**docs.LEAD_DOCUMENT, "change": 1043, "change_type": "created"}

_NEXT_CURSOR = (
    "eyJwIjoiNWI3ZTFmMjAzYzRkNGU1ZjhhOWIwYzFkMmUzZjRhNWIiLCJzIjoxMDQzfQ"
    ":QNFJP78IoBoqIMAfmot7U6tHTnF-MPuyu6fm5J8qbrE"
)

FEED_PAGE = OpenApiExample(
    "A page",
    summary="An order created, then rejected; then a lead",
    value={
        "data": [_CREATED, _REJECTED, _LEAD],
        "next_cursor": _NEXT_CURSOR,
        "has_more": False,
    },
    response_only=True,
    status_codes=["200"],
)

CONVERSION = OpenApiExample(
    "A rejected order",
    value={"data": _REJECTED},
    response_only=True,
    status_codes=["200"],
)

FEED_UP_TO_DATE = OpenApiExample(
    "Up to date",
    summary="Nothing new yet: call again later with the same cursor",
    value={"data": [], "next_cursor": _NEXT_CURSOR, "has_more": False},
    response_only=True,
    status_codes=["200"],
)

CURSOR_INVALID = OpenApiExample(
    "Bad cursor",
    value={
        "error": {
            "code": "cursor_invalid",
            "message": CURSOR_INVALID_MESSAGE,
            "fields": {"cursor": [CURSOR_INVALID_MESSAGE]},
        }
    },
    response_only=True,
    status_codes=["400"],
)

LIMIT_INVALID = OpenApiExample(
    "Bad limit",
    value={
        "error": {
            "code": "invalid",
            "message": "The request has invalid fields: limit.",
            "fields": {"limit": ["Ensure this value is less than or equal to 1000."]},
        }
    },
    response_only=True,
    status_codes=["400"],
)

_PROGRAM = docs.TRANSACTION_DOCUMENT["program"]
_PUBLISHER = docs.TRANSACTION_DOCUMENT["publisher"]

PROGRAMS = OpenApiExample(
    "Programs",
    value={
        "data": [
            {
                **_PROGRAM,
                "store": docs.TRANSACTION_DOCUMENT["advertiser"],
                "currency": "SEK",
                "landing_url": "https://www.awesome-store.example/",
                "allowed_domains": ["awesome-store.example"],
                "attribution_days": 30,
                "validation_days": 45,
                "events": [
                    {
                        "uuid": docs.NEWSLETTER,
                        "name": "Newsletter",
                        "kind": "lead",
                        "percent": None,
                        "fixed_amount": 4000,
                    },
                    {
                        "uuid": docs.SHOES,
                        "name": "Shoes",
                        "kind": "transaction",
                        "percent": "8",
                        "fixed_amount": None,
                    },
                ],
                "tracking_link": "https://retrack.example/track/v2/click"
                f"?publisher={_PUBLISHER['uuid']}&program={_PROGRAM['uuid']}&ref={{ref}}",
            }
        ]
    },
    response_only=True,
    status_codes=["200"],
)


WEBHOOK_REQUEST = OpenApiExample(
    "A cashback site's endpoint",
    value={"url": "https://hooks.refunder.example/retrack", "description": "cashback"},
    request_only=True,
)
WEBHOOK_REGISTERED = OpenApiExample(
    "Registered",
    value={
        "data": {
            "uuid": "4f0c9a51-8a7e-4b8e-9a31-2c7d5e6f8a90",
            "url": "https://hooks.refunder.example/retrack",
            "description": "cashback",
            "active": True,
            "created_at": "2026-11-29T06:29:17.407413Z",
            "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw/SQMbnbFzE4=",
        }
    },
    response_only=True,
    status_codes=["201"],
)
