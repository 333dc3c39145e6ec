"""The store API's examples: the worked example's bodies and answers, and each refusal.

The OpenAPI document shows them (`conversions.api.docs`); `tests/api/test_documented_
examples.py` sends each to a real server and checks that the answers are these.
"""

CLICK = "0190d7a6-3b3c-7a21-9c5e-2f6b8e1d4a70"
SHOES = "3f0b1c3e-2a4f-4b7e-9d11-6a8f1e2c4d50"
SOCKS = "8a2d4e6f-1b3c-4d5e-8f70-9a1b2c3d4e5f"
NEWSLETTER = "c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f"
TRANSACTION_UUID = "0190d7b1-5e2a-7c3d-8b4f-1a2b3c4d5e6f"
LEAD_UUID = "0190d7b2-6f3b-7d4e-9c50-2b3c4d5e6f70"

_CLICK_DOCUMENT = {
    "uuid": CLICK,
    "ref": "38315327",
    "ref2": "",
    "ref3": "",
    "deeplink": "https://www.awesome-store.example/shoes",
    "ip_address": "192.0.2.10",
    "browser": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120",
    "referer": "https://www.refunder.se/",
    "country": "SE",
    "created_at": "2026-11-20T09:12:44.120000Z",
}
_COMMON = {
    "event": {"uuid": SHOES, "name": "Shoes"},
    "source": "api",
    "test": False,
    "auto_approve_at": "2027-01-04T09:30:02.511000Z",
    "created_at": "2026-11-20T09:30:02.511000Z",
    "updated_at": "2026-11-20T09:30:02.511000Z",
    "click": _CLICK_DOCUMENT,
    "publisher": {
        "uuid": "5b7e1f20-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
        "name": "Refunder SE",
        "created_at": "2026-01-02T08:00:00Z",
    },
    "advertiser": {"uuid": "6c8f2a31-4d5e-4f60-9bac-1d2e3f4a5b6c", "name": "Awesome Store"},
    "program": {"uuid": "7d9a3b42-5e6f-4071-acbd-2e3f4a5b6c7d", "name": "Awesome Store SE"},
}

TRANSACTION_BODY = {
    "event": SHOES,
    "click": CLICK,
    "orderNumber": "692549563",
    "orderSum": 1625,
    "vatSum": 325,
    "currency": "SEK",
    "products": [
        {
            "event": SHOES,
            "reference": "SKU-SHOE-42",
            "name": "Running shoe",
            "quantity": 1,
            "price": 1250,
            "vat": 250,
        },
        {
            "event": SOCKS,
            "reference": "SKU-SOCK",
            "name": "Sock",
            "quantity": 3,
            "price": 125,
            "vat": 25,
        },
    ],
    "voucher": "SUMMER10",
}

TRANSACTION_DOCUMENT = {
    "uuid": TRANSACTION_UUID,
    "kind": "transaction",
    "status": "pending",
    "reason": "",
    "order_number": "692549563",
    "order_sum": 1625,
    "vat_sum": 325,
    "commission": 118,
    "commission_breakdown": [
        {
            "line": 0,
            "event": {"uuid": SHOES, "name": "Shoes"},
            "method": "percent_of_net",
            "base": 1000,
            "rate": "8",
            "result": 80,
        },
        {
            "line": 1,
            "event": {"uuid": SOCKS, "name": "Socks"},
            "method": "percent_of_net",
            "base": 300,
            "rate": "12.5",
            "result": 38,
        },
    ],
    "currency": "SEK",
    "vouchers": ["SUMMER10"],
    "products": [
        {
            "event": {"uuid": SHOES, "name": "Shoes"},
            "reference": "SKU-SHOE-42",
            "name": "Running shoe",
            "quantity": 1,
            "price": 1250,
            "vat": 250,
            "commission": 80,
        },
        {
            "event": {"uuid": SOCKS, "name": "Socks"},
            "reference": "SKU-SOCK",
            "name": "Sock",
            "quantity": 3,
            "price": 125,
            "vat": 25,
            "commission": 38,
        },
    ],
    **_COMMON,
}

LEAD_BODY = {"event": NEWSLETTER, "click": CLICK, "reference": "member-1001", "voucher": "WELCOME"}

LEAD_DOCUMENT = {
    "uuid": LEAD_UUID,
    "kind": "lead",
    "status": "pending",
    "reason": "",
    "reference": "member-1001",
    "order_sum": 0,
    "vat_sum": 0,
    "commission": 4000,
    "commission_breakdown": [
        {
            "line": None,
            "event": {"uuid": NEWSLETTER, "name": "Newsletter"},
            "method": "fixed_per_conversion",
            "base": 1,
            "rate": "4000",
            "result": 4000,
        }
    ],
    "currency": "SEK",
    "vouchers": ["WELCOME"],
    "products": [],
    **_COMMON,
    "event": {"uuid": NEWSLETTER, "name": "Newsletter"},
}


# Each refusal code the store API gives: its status, when, and an example's message/fields.
REFUSALS: dict[str, tuple[int, str, str, dict]] = {
    "invalid": (
        400,
        "a field is missing or wrong; each is named in `fields`",
        "The request has invalid fields: products[1].quantity, vatSum.",
        {
            "vatSum": ["must not be more than the orderSum"],
            "products[1].quantity": ["must be at least 1"],
        },
    ),
    "ambiguous": (
        400,
        "the key exists in several of the store's programs: add `?program=<uuid>`",
        "byOrderNumber exists in several of your programs; add ?program=<uuid>.",
        {"program": ["is required when the key exists in several programs"]},
    ),
    "program_not_found": (
        422,
        "the program is not one of the store's",
        "None of your programs has this UUID.",
        {"program": ["is not one of your programs"]},
    ),
    "parameter_unknown": (
        400,
        "a query parameter the call does not know, named in `fields`",
        "Unknown query parameter: outcomes.",
        {"outcomes": ["is not a parameter of this call"]},
    ),
    "not_authenticated": (
        401,
        "no token, or an unknown or revoked one",
        "The token is unknown or has been revoked.",
        {},
    ),
    "permission_denied": (
        403,
        "a partner token: this API takes store tokens",
        "This call takes a store token; a partner token is refused here.",
        {},
    ),
    "not_found": (404, "not one of the calling store's conversions", "No such conversion.", {}),
    "duplicate_conflict": (
        409,
        "the key exists with different data: change it with PATCH",
        "A transaction with this orderNumber already exists with different data; to "
        f"change it, call PATCH /api/v2/transactions/{TRANSACTION_UUID}.",
        {"orderNumber": ["already exists with different data"]},
    ),
    "idempotency_key_conflict": (
        409,
        "the Idempotency-Key was already used for a different report",
        "This Idempotency-Key was already used for a different report "
        f"(conversion {TRANSACTION_UUID}).",
        {"Idempotency-Key": ["was already used for a different report"]},
    ),
    "conversion_not_pending": (
        409,
        "the conversion is already approved or rejected",
        "The conversion is already approved; only a pending conversion can be changed.",
        {},
    ),
    "payload_too_large": (
        413,
        "the body is over 1 MB",
        "The body is larger than the server accepts.",
        {},
    ),
    "unsupported_media_type": (
        415,
        "the body is not `application/json`",
        'Unsupported media type "text/plain" in request.',
        {},
    ),
    "click_not_found": (
        422,
        "no click has this UUID",
        "No click has this UUID.",
        {"click": ["is not a known click"]},
    ),
    "click_not_yours": (
        422,
        "the click belongs to another store's program",
        "The click belongs to another store's program.",
        {"click": ["belongs to another store's program"]},
    ),
    "click_expired": (
        422,
        "the click is older than the program's attribution window",
        "The click is older than the program's attribution window (30 days).",
        {"click": ["is older than the attribution window"]},
    ),
    "event_invalid": (
        422,
        "an event is not one of the click's program, or of the wrong kind",
        "Each event must be a transaction event of the click's program.",
        {"products[0].event": ["is not a transaction event of the click's program"]},
    ),
    "currency_mismatch": (
        422,
        "the currency is not the program's",
        "The program's currency is SEK, not NOK.",
        {"currency": ["must be SEK"]},
    ),
}

PARTIAL_RETURN = {
    "products": [
        TRANSACTION_BODY["products"][0],
        {**TRANSACTION_BODY["products"][1], "quantity": 1},
    ]
}
_SHOE_LINE, _SOCK_LINE = TRANSACTION_DOCUMENT["products"]
_SHOE_SHARE, _SOCK_SHARE = TRANSACTION_DOCUMENT["commission_breakdown"]
RETURNED = {
    **TRANSACTION_DOCUMENT,
    "order_sum": 1375,
    "vat_sum": 275,
    "commission": 93,
    "commission_breakdown": [_SHOE_SHARE, {**_SOCK_SHARE, "base": 100, "result": 13}],
    "products": [_SHOE_LINE, {**_SOCK_LINE, "quantity": 1, "commission": 13}],
    "updated_at": "2026-11-22T14:05:40.004000Z",
}

CANCELLED = {
    **TRANSACTION_DOCUMENT,
    "status": "rejected",
    "reason": "Order cancelled by the customer",
    "auto_approve_at": None,
    "updated_at": "2026-11-22T14:05:40.004000Z",
}

PROGRAM = "7d9a3b42-5e6f-4071-acbd-2e3f4a5b6c7d"
TEST_CLICK = "0190d7b1-0c2d-7e3f-8a4b-5c6d7e8f9a0b"
TEST_CLICK_BODY = {"program": PROGRAM, "deeplink": "https://www.store.example/shoes?size=42"}
TEST_CLICK_DOCUMENT = {
    "uuid": TEST_CLICK,
    "test": True,
    "url": "https://www.store.example/retrack?click="
    f"{TEST_CLICK}&deeplink=https%3A%2F%2Fwww.store.example%2Fshoes%3Fsize%3D42",
}
