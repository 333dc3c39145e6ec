"""The OpenAPI description of each store API call: its answers and examples.

Request bodies are not described here: each is the pydantic declaration that parses it
(`conversions.payloads`). What is here is what a declaration cannot say: which refusals
each call can give (`_CODES` lists every code once), the headers, and the examples, which
`tests/api/test_openapi.py` sends to a real server.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from conversions.api.serializers import ConversionEnvelope, ErrorEnvelope
from conversions.payloads import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    LeadRejection,
    LeadRequest,
    TransactionPatch,
    TransactionRequest,
)

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


# Each refusal code: its status, when it is given, and an example answer's message/fields.
_CODES: dict[str, tuple[int, str, str, dict]] = {
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

_AUTH = ("not_authenticated", "permission_denied")
_BODY = ("payload_too_large", "unsupported_media_type")
_ATTRIBUTION = ("click_not_found", "click_not_yours", "click_expired", "event_invalid")

_LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.URI,
    OpenApiParameter.HEADER,
    response=[201],
    description="The stored conversion's own URL.",
)
_IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH},
    OpenApiParameter.HEADER,
    required=False,
    description=f"Optional, up to {IDEMPOTENCY_KEY_MAX_LENGTH} printable characters, unique per "
    "program: the same key with the same report answers the stored conversion (200); with a "
    "different report, 409 `idempotency_key_conflict`.",
)
_PROGRAM = OpenApiParameter(
    "program",
    OpenApiTypes.UUID,
    OpenApiParameter.QUERY,
    required=False,
    description="The program, when the key exists in several of the store's programs "
    "(otherwise 400 `ambiguous`).",
)


def _refusals(*codes: str) -> tuple[dict, list[OpenApiExample]]:
    """The error answers of a call that can refuse with `codes`, and an example of each."""
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(_CODES[code][0], []).append(code)
    responses = {
        status: OpenApiResponse(
            ErrorEnvelope, "; ".join(f"`{code}`: {_CODES[code][1]}" for code in listed) + "."
        )
        for status, listed in sorted(by_status.items())
    }
    examples = [
        OpenApiExample(
            code,
            value={"error": {"code": code, "message": message, "fields": fields}},
            response_only=True,
            status_codes=[str(status)],
        )
        for code in codes
        for status, _, message, fields in [_CODES[code]]
    ]
    return responses, examples


def _operation(
    operation_id: str, summary: str, tag: str, ok: dict, codes: tuple, examples: list, **rest
) -> dict:
    responses, error_examples = _refusals(*codes)
    return {
        "operation_id": operation_id,
        "summary": summary,
        "tags": [tag],
        "responses": {**ok, **responses},
        "examples": [*examples, *error_examples],
        **rest,
    }


def _created(what: str, document: dict) -> tuple[dict, OpenApiExample]:
    stored = OpenApiExample(
        "Stored", value={"data": document}, response_only=True, status_codes=["201", "200"]
    )
    return {
        201: OpenApiResponse(ConversionEnvelope, f"The {what} was stored."),
        200: OpenApiResponse(
            ConversionEnvelope, f"A replay: this {what} was already stored; it is returned."
        ),
    }, stored


_TRANSACTION_OK, _TRANSACTION_STORED = _created("transaction", TRANSACTION_DOCUMENT)
CREATE_TRANSACTION = _operation(
    "create_transaction",
    "Report a transaction (a purchase)",
    "store: transactions",
    _TRANSACTION_OK,
    ("invalid", *_AUTH, "duplicate_conflict", "idempotency_key_conflict", *_BODY)
    + (*_ATTRIBUTION, "currency_mismatch"),
    [
        OpenApiExample("The worked example", value=TRANSACTION_BODY, request_only=True),
        _TRANSACTION_STORED,
    ],
    description="Stores the transaction with its commission and answers it (201). "
    "Idempotent on (program, orderNumber): the same report again answers 200 with the "
    "stored record; a different report for the same order number answers 409 "
    "`duplicate_conflict` naming the PATCH call. Two identical racing requests store one.",
    request=TransactionRequest,
    parameters=[_IDEMPOTENCY_KEY, _LOCATION],
)

_LEAD_OK, _LEAD_STORED = _created("lead", LEAD_DOCUMENT)
CREATE_LEAD = _operation(
    "create_lead",
    "Report a lead (a sign-up)",
    "store: leads",
    _LEAD_OK,
    ("invalid", *_AUTH, "duplicate_conflict", "idempotency_key_conflict", *_BODY, *_ATTRIBUTION),
    [OpenApiExample("A newsletter sign-up", value=LEAD_BODY, request_only=True), _LEAD_STORED],
    description="Stores the lead with its event's fixed commission (201). Idempotent on "
    "(program, reference) as transactions are on their order number.",
    request=LeadRequest,
    parameters=[_IDEMPOTENCY_KEY, _LOCATION],
)


def _lookup(kind: str, parameter: str, document: dict, example_key: str) -> dict:
    return _operation(
        f"find_{kind}",
        f"Find the calling store's {kind} by {parameter[2:].lower()}",
        f"store: {kind}s",
        {200: ConversionEnvelope},
        ("invalid", "ambiguous", *_AUTH, "not_found"),
        [OpenApiExample("Found", value={"data": document}, response_only=True)],
        parameters=[
            OpenApiParameter(
                parameter,
                {"type": "string", "minLength": 1},
                OpenApiParameter.QUERY,
                required=True,
                description=f"e.g. {example_key}",
            ),
            _PROGRAM,
        ],
    )


FIND_TRANSACTION = _lookup("transaction", "byOrderNumber", TRANSACTION_DOCUMENT, "692549563")
FIND_LEAD = _lookup("lead", "byReference", LEAD_DOCUMENT, "member-1001")


def _get(kind: str, document: dict) -> dict:
    return _operation(
        f"get_{kind}",
        f"One of the calling store's {kind}s",
        f"store: {kind}s",
        {200: ConversionEnvelope},
        (*_AUTH, "not_found"),
        [OpenApiExample("Found", value={"data": document}, response_only=True)],
    )


GET_TRANSACTION = _get("transaction", TRANSACTION_DOCUMENT)
GET_LEAD = _get("lead", LEAD_DOCUMENT)

PARTIAL_RETURN = {
    "products": [
        TRANSACTION_BODY["products"][0],
        {**TRANSACTION_BODY["products"][1], "quantity": 1},
    ]
}
_SHOE_LINE, _SOCK_LINE = TRANSACTION_DOCUMENT["products"]
_SHOE_SHARE, _SOCK_SHARE = TRANSACTION_DOCUMENT["commission_breakdown"]
_RETURNED = {
    **TRANSACTION_DOCUMENT,
    "order_sum": 1375,
    "vat_sum": 275,
    "commission": 93,
    "commission_breakdown": [_SHOE_SHARE, {**_SOCK_SHARE, "base": 100, "result": 13}],
    "products": [_SHOE_LINE, {**_SOCK_LINE, "quantity": 1, "commission": 13}],
    "updated_at": "2026-11-22T14:05:40.004000Z",
}

_CANCELLED = {
    **TRANSACTION_DOCUMENT,
    "status": "rejected",
    "reason": "Order cancelled by the customer",
    "updated_at": "2026-11-22T14:05:40.004000Z",
}

AMEND_TRANSACTION = _operation(
    "amend_transaction",
    "Amend a pending transaction (a partial return) or reject it",
    "store: transactions",
    {200: ConversionEnvelope},
    ("invalid", *_AUTH, "not_found", "conversion_not_pending", *_BODY, "event_invalid"),
    [
        OpenApiExample(
            "Partial return: two of the three socks", value=PARTIAL_RETURN, request_only=True
        ),
        OpenApiExample(
            "Cancelled order",
            value={"status": "rejected", "reason": "Order cancelled by the customer"},
            request_only=True,
        ),
        OpenApiExample("Amended", value={"data": _RETURNED}, response_only=True),
        OpenApiExample("Rejected", value={"data": _CANCELLED}, response_only=True),
    ],
    description="Send new `orderSum`/`vatSum` and/or `products` (the new lines replace "
    'the old; sums left out follow the lines), or `{"status": "rejected", "reason": '
    "…}`. The commission is recomputed and the change kept in the history with old and "
    "new values. Approving is not a store's call (400); approved or rejected conversions "
    "answer 409 `conversion_not_pending`.",
    request=TransactionPatch,
)

AMEND_LEAD = _operation(
    "amend_lead",
    "Reject a pending lead",
    "store: leads",
    {200: ConversionEnvelope},
    ("invalid", *_AUTH, "not_found", "conversion_not_pending", *_BODY),
    [
        OpenApiExample(
            "Fake sign-up",
            value={"status": "rejected", "reason": "Fake sign-up"},
            request_only=True,
        ),
        OpenApiExample(
            "Rejected",
            value={"data": {**LEAD_DOCUMENT, "status": "rejected", "reason": "Fake sign-up"}},
            response_only=True,
        ),
    ],
    request=LeadRejection,
)
