"""The OpenAPI description of each store API call: its answers and examples.

Request bodies are not described here: each is the pydantic declaration that parses it
(`conversions.payloads`). What is here is what a declaration cannot say: which refusals
each call can give (`REFUSALS` lists every code once), the headers, and the examples, which
`tests/api/test_documented_examples.py` sends to a real server.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from conversions.api.examples import (  # noqa: F401 (the examples' names are re-exported)
    CANCELLED,
    CLICK,
    LEAD_BODY,
    LEAD_DOCUMENT,
    LEAD_UUID,
    NEWSLETTER,
    PARTIAL_RETURN,
    REFUSALS,
    RETURNED,
    SHOES,
    SOCKS,
    TEST_CLICK_BODY,
    TEST_CLICK_DOCUMENT,
    TRANSACTION_BODY,
    TRANSACTION_DOCUMENT,
    TRANSACTION_UUID,
)
from conversions.api.serializers import (
    ConversionEnvelope,
    ErrorEnvelope,
    ReportPage,
    ReportsQuery,
    TestClickEnvelope,
)
from conversions.payloads import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    IDEMPOTENCY_KEY_PATTERN,
    LeadRejection,
    LeadRequest,
    TestClickRequest,
    TransactionPatch,
    TransactionRequest,
)
from retrack.lib.validation import text_pattern

_AUTH = ("not_authenticated", "permission_denied")
_BODY = ("payload_too_large", "unsupported_media_type")
_ATTRIBUTION = ("click_not_found", "click_not_yours", "click_expired", "event_invalid")

_LOCATION = OpenApiParameter(
    "Location",
    {"type": "string", "format": "uri-reference"},
    OpenApiParameter.HEADER,
    response=[201],
    description="The stored conversion's own path, e.g. `/api/v2/transactions/<uuid>`.",
)
_IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {
        "type": "string",
        "minLength": 1,
        "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
        "pattern": IDEMPOTENCY_KEY_PATTERN,
    },
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
        by_status.setdefault(REFUSALS[code][0], []).append(code)
    responses = {
        status: OpenApiResponse(
            ErrorEnvelope, "; ".join(f"`{code}`: {REFUSALS[code][1]}" for code in listed) + "."
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
        for status, _, message, fields in [REFUSALS[code]]
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
                {"type": "string", "minLength": 1, "pattern": text_pattern(required=True)},
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
        OpenApiExample("Amended", value={"data": RETURNED}, response_only=True),
        OpenApiExample("Rejected", value={"data": CANCELLED}, response_only=True),
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
            value={
                "data": {
                    **LEAD_DOCUMENT,
                    "status": "rejected",
                    "reason": "Fake sign-up",
                    "auto_approve_at": None,
                }
            },
            response_only=True,
        ),
    ],
    request=LeadRejection,
)

CREATE_TEST_CLICK = _operation(
    "create_test_click",
    "Make a test click, to test an integration",
    "store: integration",
    {201: OpenApiResponse(TestClickEnvelope, "The test click, and the URL to open.")},
    ("invalid", *_AUTH, *_BODY, "program_not_found"),
    [
        OpenApiExample("A test click", value=TEST_CLICK_BODY, request_only=True),
        OpenApiExample(
            "Made", value={"data": TEST_CLICK_DOCUMENT}, response_only=True, status_codes=["201"]
        ),
    ],
    description="A click on one of your programs whose conversions are tests: they go "
    "through every rule and answer as usual with `test: true`, but never reach a partner "
    "and never block a real order number or reference. Open `url` in a browser (the tag "
    "saves the click in its cookie) and place an order, or report against `uuid` with this "
    'API. See the README, "Testing your integration".',
    request=TestClickRequest,
)

LIST_REPORTS = _operation(
    "list_reports",
    "Your report log: every report received and what became of it",
    "store: integration",
    {200: OpenApiResponse(ReportPage, "A page of reports, newest first.")},
    ("invalid", *_AUTH, "parameter_unknown"),
    [],
    description="Every store API create and amend, beacon and pixel of your programs, newest "
    "first, with its `outcome` (`created`, `replayed`, `confirmed`, `amended`, `flagged`, "
    "`ignored` or `refused`), the refusal's `code` and the `payload` as received (at most "
    "8 KB). Pass `next_cursor` as `cursor` for older ones while `has_more` is true. Kept "
    "RETRACK_REPORT_LOG_DAYS days.",
    parameters=[ReportsQuery],
)
