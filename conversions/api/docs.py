"""The OpenAPI description of each store API call: parameters, bodies, answers, examples."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from conversions.api.serializers import (
    ConversionEnvelope,
    ErrorEnvelope,
    LeadAmendment,
    LeadRequest,
    TransactionAmendment,
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


def _error(status: int, code: str, message: str, fields: dict | None = None) -> OpenApiExample:
    return OpenApiExample(
        code,
        value={"error": {"code": code, "message": message, "fields": fields or {}}},
        response_only=True,
        status_codes=[str(status)],
    )


_INVALID = _error(
    400,
    "invalid",
    "The request has invalid fields: products[1].quantity, vatSum.",
    {
        "vatSum": ["must not be more than the orderSum"],
        "products[1].quantity": ["must be at least 1"],
    },
)
_UNAUTHENTICATED = _error(401, "not_authenticated", "The token is unknown or has been revoked.")
_PARTNER_TOKEN = _error(
    403,
    "permission_denied",
    "This call takes a store token; a partner token is refused here.",
)
_NOT_FOUND = _error(404, "not_found", "No such conversion.")
_NOT_PENDING = _error(
    409,
    "conversion_not_pending",
    "The conversion is already approved; only a pending conversion can be changed.",
)
_TOO_LARGE = _error(413, "payload_too_large", "The body is larger than 1048576 bytes.")
_MEDIA_TYPE = _error(415, "unsupported_media_type", 'Unsupported media type "text/plain".')

_ATTRIBUTION = [
    _error(422, "click_not_found", "No click has this UUID.", {"click": ["is not a known click"]}),
    _error(
        422,
        "click_not_yours",
        "The click belongs to another store's program.",
        {"click": ["belongs to another store's program"]},
    ),
    _error(
        422,
        "click_expired",
        "The click is older than the program's attribution window (30 days).",
        {"click": ["is older than the attribution window"]},
    ),
    _error(
        422,
        "event_invalid",
        "Each event must be a transaction event of the click's program.",
        {"products[0].event": ["is not a transaction event of the click's program"]},
    ),
    _error(
        422,
        "currency_mismatch",
        "The program's currency is SEK, not NOK.",
        {"currency": ["must be SEK"]},
    ),
]

_IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Optional, up to 255 printable characters, unique per program: the same key "
    "with the same report answers the stored conversion (200); with a different report, 409 "
    "`idempotency_key_conflict`.",
)
_PROGRAM = OpenApiParameter(
    "program",
    OpenApiTypes.UUID,
    OpenApiParameter.QUERY,
    required=False,
    description="The program, when the key exists in several of the store's programs.",
)


def _responses(ok: dict, *extra: int) -> dict:
    errors = {
        400: OpenApiResponse(ErrorEnvelope, "Invalid request: every bad field is named."),
        401: OpenApiResponse(ErrorEnvelope, "No token, or an unknown or revoked one."),
        403: OpenApiResponse(ErrorEnvelope, "A partner token: this API takes store tokens."),
        404: OpenApiResponse(ErrorEnvelope, "Not one of the calling store's conversions."),
        409: OpenApiResponse(
            ErrorEnvelope,
            "`duplicate_conflict`: the key exists with different data (use PATCH); "
            "`idempotency_key_conflict`; `conversion_not_pending`.",
        ),
        413: OpenApiResponse(ErrorEnvelope, "The body is over 1 MB."),
        415: OpenApiResponse(ErrorEnvelope, "The body is not application/json."),
        422: OpenApiResponse(
            ErrorEnvelope,
            "Attribution refused: `click_not_found`, `click_not_yours`, `click_expired`, "
            "`event_invalid`, `currency_mismatch`.",
        ),
    }
    return {**ok, **{status: errors[status] for status in (400, 401, 403, *extra)}}


def _created(what: str) -> dict:
    return {
        201: OpenApiResponse(ConversionEnvelope, f"The {what} was stored."),
        200: OpenApiResponse(
            ConversionEnvelope, f"A replay: this {what} was already stored; it is returned."
        ),
    }


CREATE_TRANSACTION = {
    "operation_id": "create_transaction",
    "summary": "Report a transaction (a purchase)",
    "description": "Stores the transaction with its commission and answers it (201). "
    "Idempotent on (program, orderNumber): the same report again answers 200 with the "
    "stored record; a different report for the same order number answers 409 "
    "`duplicate_conflict` naming the PATCH call. Two identical racing requests store one.",
    "tags": ["store: transactions"],
    "request": TransactionRequest,
    "parameters": [_IDEMPOTENCY_KEY],
    "responses": _responses(_created("transaction"), 409, 413, 415, 422),
    "examples": [
        OpenApiExample("The worked example", value=TRANSACTION_BODY, request_only=True),
        OpenApiExample(
            "Stored",
            value={"data": TRANSACTION_DOCUMENT},
            response_only=True,
            status_codes=["201", "200"],
        ),
        _INVALID,
        _UNAUTHENTICATED,
        _PARTNER_TOKEN,
        _error(
            409,
            "duplicate_conflict",
            "A transaction with this orderNumber already exists with different data; to "
            f"change it, call PATCH /api/v2/transactions/{TRANSACTION_UUID}.",
            {"orderNumber": ["already exists with different data"]},
        ),
        _TOO_LARGE,
        _MEDIA_TYPE,
        *_ATTRIBUTION,
    ],
}

CREATE_LEAD = {
    "operation_id": "create_lead",
    "summary": "Report a lead (a sign-up)",
    "description": "Stores the lead with its event's fixed commission (201). Idempotent on "
    "(program, reference) as transactions are on their order number.",
    "tags": ["store: leads"],
    "request": LeadRequest,
    "parameters": [_IDEMPOTENCY_KEY],
    "responses": _responses(_created("lead"), 409, 413, 415, 422),
    "examples": [
        OpenApiExample("A newsletter sign-up", value=LEAD_BODY, request_only=True),
        OpenApiExample(
            "Stored",
            value={"data": LEAD_DOCUMENT},
            response_only=True,
            status_codes=["201", "200"],
        ),
        _INVALID,
        _UNAUTHENTICATED,
        _PARTNER_TOKEN,
        _TOO_LARGE,
        _MEDIA_TYPE,
        *_ATTRIBUTION,
    ],
}


def _lookup(kind: str, parameter: str, document: dict, example_key: str) -> dict:
    return {
        "operation_id": f"find_{kind}",
        "summary": f"Find the calling store's {kind} by {parameter[2:].lower()}",
        "tags": [f"store: {kind}s"],
        "parameters": [
            OpenApiParameter(
                parameter,
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=True,
                description=f"e.g. {example_key}",
            ),
            _PROGRAM,
        ],
        "responses": _responses({200: ConversionEnvelope}, 404),
        "examples": [
            OpenApiExample("Found", value={"data": document}, response_only=True),
            _NOT_FOUND,
            _UNAUTHENTICATED,
        ],
    }


FIND_TRANSACTION = _lookup("transaction", "byOrderNumber", TRANSACTION_DOCUMENT, "692549563")
FIND_LEAD = _lookup("lead", "byReference", LEAD_DOCUMENT, "member-1001")


def _get(kind: str, document: dict) -> dict:
    return {
        "operation_id": f"get_{kind}",
        "summary": f"One of the calling store's {kind}s",
        "tags": [f"store: {kind}s"],
        "responses": _responses({200: ConversionEnvelope}, 404),
        "examples": [
            OpenApiExample("Found", value={"data": document}, response_only=True),
            _NOT_FOUND,
        ],
    }


GET_TRANSACTION = _get("transaction", TRANSACTION_DOCUMENT)
GET_LEAD = _get("lead", LEAD_DOCUMENT)

_RETURNED = {
    **TRANSACTION_DOCUMENT,
    "order_sum": 1375,
    "vat_sum": 275,
    "commission": 93,
    "updated_at": "2026-11-22T14:05:40.004000Z",
}

AMEND_TRANSACTION = {
    "operation_id": "amend_transaction",
    "summary": "Amend a pending transaction (a partial return) or reject it",
    "description": "Send new `orderSum`/`vatSum` and/or `products` (the new lines replace "
    'the old; sums left out follow the lines), or `{"status": "rejected", "reason": '
    "…}`. The commission is recomputed and the change kept in the history with old and "
    "new values. Approving is not a store's call (400); approved or rejected conversions "
    "answer 409 `conversion_not_pending`.",
    "tags": ["store: transactions"],
    "request": TransactionAmendment,
    "responses": _responses({200: ConversionEnvelope}, 404, 409, 413, 415, 422),
    "examples": [
        OpenApiExample(
            "Partial return: two of the three socks",
            value={
                "products": [
                    TRANSACTION_BODY["products"][0],
                    {**TRANSACTION_BODY["products"][1], "quantity": 1},
                ]
            },
            request_only=True,
        ),
        OpenApiExample(
            "Cancelled order",
            value={"status": "rejected", "reason": "Order cancelled by the customer"},
            request_only=True,
        ),
        OpenApiExample("Amended", value={"data": _RETURNED}, response_only=True),
        _INVALID,
        _NOT_FOUND,
        _NOT_PENDING,
    ],
}

AMEND_LEAD = {
    "operation_id": "amend_lead",
    "summary": "Reject a pending lead",
    "tags": ["store: leads"],
    "request": LeadAmendment,
    "responses": _responses({200: ConversionEnvelope}, 404, 409, 413, 415),
    "examples": [
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
        _NOT_FOUND,
        _NOT_PENDING,
    ],
}
