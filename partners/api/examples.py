"""Examples for the partner API's OpenAPI document."""

from drf_spectacular.utils import OpenApiExample

from partners.api.cursors import CURSOR_INVALID_MESSAGE

_CONVERSION = {
    "change": 1042,
    "uuid": "0195f0a2-6c1e-7d3a-9b1f-4c2e8a7d5e10",
    "kind": "transaction",
    "status": "pending",
    "reason": "",
    "order_number": "692549563",
    "order_sum": 10100,
    "vat_sum": 2020,
    "commission": 646,
    "commission_breakdown": [
        {
            "line": 0,
            "event": {"uuid": "0d7f3a52-2f7c-4d7e-9a51-6b1c0a9e4f21", "name": "Shoes"},
            "method": "percent_of_net",
            "base": 8080,
            "rate": "8",
            "result": 646,
        }
    ],
    "currency": "SEK",
    "vouchers": ["SUMMER10"],
    "products": [
        {
            "event": {"uuid": "0d7f3a52-2f7c-4d7e-9a51-6b1c0a9e4f21", "name": "Shoes"},
            "reference": "SKU-1001",
            "name": "Running shoe",
            "quantity": 1,
            "price": 10100,
            "vat": 2020,
            "commission": 646,
        }
    ],
    "event": {"uuid": "0d7f3a52-2f7c-4d7e-9a51-6b1c0a9e4f21", "name": "Shoes"},
    "source": "api",
    "created_at": "2025-03-18T09:41:07.512Z",
    "updated_at": "2025-03-18T09:41:07.512Z",
    "click": {
        "uuid": "0195f09e-1b2a-7c44-8e3d-2a9f6b1c7d08",
        "ref": "38315327",
        "ref2": "",
        "ref3": "",
        "deeplink": "https://www.awesome-store.example/shoes/running",
        "ip_address": "192.0.2.10",
        "browser": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0",
        "referer": "https://www.refunder.se/",
        "country": "SE",
        "created_at": "2025-03-18T09:12:44.031Z",
    },
    "publisher": {"uuid": "5b8a2c1e-3f4d-4e6a-8b7c-9d0e1f2a3b4c", "name": "Refunder SE"},
    "advertiser": {"uuid": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "name": "Awesome Store"},
    "program": {"uuid": "f0e1d2c3-b4a5-4968-8776-655443322110", "name": "Awesome Store SE"},
}

_NEXT_CURSOR = (
    "eyJwIjoiNWI4YTJjMWUzZjRkNGU2YThiN2M5ZDBlMWYyYTNiNGMiLCJzIjoxMDQzfQ"
    ":XXyvYvFSYirfj3Y6jFKVTERK284t3WtK3lpuO9WfpEI"
)

FEED_PAGE = OpenApiExample(
    "A page",
    summary="Two changes of one order: created, then rejected",
    value={
        "data": [
            _CONVERSION,
            {
                **_CONVERSION,
                "change": 1043,
                "status": "rejected",
                "reason": "Order cancelled",
                "updated_at": "2025-03-20T14:02:51.870Z",
            },
        ],
        "next_cursor": _NEXT_CURSOR,
        "has_more": False,
    },
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

PROGRAMS = OpenApiExample(
    "Programs",
    value={
        "data": [
            {
                "uuid": "f0e1d2c3-b4a5-4968-8776-655443322110",
                "name": "Awesome Store SE",
                "store": {"uuid": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "name": "Awesome Store"},
                "currency": "SEK",
                "landing_url": "https://www.awesome-store.example/",
                "allowed_domains": ["awesome-store.example"],
                "attribution_days": 30,
                "validation_days": 45,
                "events": [
                    {
                        "uuid": "9c4e7a10-5d2b-4f3e-8a61-7b0c2d9e1f34",
                        "name": "Newsletter",
                        "kind": "lead",
                        "percent": None,
                        "fixed_amount": 4000,
                    },
                    {
                        "uuid": "0d7f3a52-2f7c-4d7e-9a51-6b1c0a9e4f21",
                        "name": "Shoes",
                        "kind": "transaction",
                        "percent": "8",
                        "fixed_amount": None,
                    },
                ],
                "tracking_link": "https://retrack.example/track/v2/click?publisher="
                "5b8a2c1e-3f4d-4e6a-8b7c-9d0e1f2a3b4c&program="
                "f0e1d2c3-b4a5-4968-8776-655443322110&ref={ref}",
            }
        ]
    },
    response_only=True,
    status_codes=["200"],
)
