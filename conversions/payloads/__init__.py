"""The store API's payloads, parsed into the typed inputs the services take.

Each body is parsed by its declaration (`conversions.payloads.declarations`, which also
generates the OpenAPI document); a refused body raises `ConversionRefused` (400
`invalid`) naming every bad field as the caller sent it (`products[1].quantity`).
Nothing here touches the database: what the payload refers to (click, events) is
checked by `conversions.services`.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from conversions.payloads.declarations import (
    MAX_PRODUCT_LINES,
    MAX_VOUCHERS,
    QUANTITY_MAX,
    REASON_MAX_LENGTH,
    LeadRejection,
    LeadRequest,
    ProductLineRequest,
    TestClickRequest,
    TransactionAmendment,
    TransactionPatch,
    TransactionRejection,
    TransactionRequest,
    lines_problems,
)
from conversions.refusals import invalid
from retrack.lib.validation import BIGINT_MAX, Text, field_errors

__all__ = [
    "BIGINT_MAX",
    "IDEMPOTENCY_KEY_MAX_LENGTH",
    "IDEMPOTENCY_KEY_PATTERN",
    "MAX_PRODUCT_LINES",
    "MAX_VOUCHERS",
    "QUANTITY_MAX",
    "REASON_MAX_LENGTH",
    "AmendmentInput",
    "LeadInput",
    "LeadRejection",
    "LeadRequest",
    "LineInput",
    "ProductLineRequest",
    "TestClickRequest",
    "TransactionAmendment",
    "TransactionInput",
    "TransactionPatch",
    "TransactionRejection",
    "TransactionRequest",
    "check_lines_match_sums",
    "parse_amendment",
    "parse_idempotency_key",
    "parse_lead",
    "parse_lead_amendment",
    "parse_reason",
    "parse_test_click",
    "parse_transaction",
]

IDEMPOTENCY_KEY_MAX_LENGTH = 255
# What `parse_idempotency_key` accepts, as an HTTP header can carry it (Latin-1): printable
# characters, not only spaces. For the OpenAPI document.
IDEMPOTENCY_KEY_PATTERN = (
    "^[\\u0020-\\u007e\\u00a1-\\u00ac\\u00ae-\\u00ff]*"
    "[\\u0021-\\u007e\\u00a1-\\u00ac\\u00ae-\\u00ff]"
    "[\\u0020-\\u007e\\u00a1-\\u00ac\\u00ae-\\u00ff]*$"
)
_AMENDABLE = {"orderSum", "vatSum", "products"}
_NOTHING_TO_CHANGE = "send orderSum, vatSum and/or products, or status 'rejected' and reason"


@dataclass(frozen=True)
class LineInput:
    event: uuid.UUID
    reference: str
    name: str
    quantity: int
    price: int
    vat: int


@dataclass(frozen=True)
class TransactionInput:
    event: uuid.UUID
    click: uuid.UUID
    order_number: str
    order_sum: int
    vat_sum: int
    currency: str
    products: tuple[LineInput, ...]
    vouchers: tuple[str, ...]


@dataclass(frozen=True)
class LeadInput:
    event: uuid.UUID
    click: uuid.UUID
    reference: str
    vouchers: tuple[str, ...]


@dataclass(frozen=True)
class AmendmentInput:
    """A store's PATCH: new sums and/or lines, or a rejection (`reject_reason` set)."""

    order_sum: int | None = None
    vat_sum: int | None = None
    products: tuple[LineInput, ...] | None = None
    reject_reason: str | None = None


# --- Parsing ----------------------------------------------------------------------------


def _validated(declaration: type[BaseModel], payload: Any, **more: list[str]) -> Any:
    """`payload` as `declaration` says, or a refusal naming its bad fields and `more`."""
    if not isinstance(payload, dict):
        raise invalid({"body": ["must be a JSON object"]})
    try:
        data = declaration.model_validate(payload)
    except ValidationError as error:
        raise invalid({**field_errors(error, payload), **more}) from None
    if more:
        raise invalid(more)
    return data


def _line(line: ProductLineRequest) -> LineInput:
    return LineInput(line.event, line.reference, line.name, line.quantity, line.price, line.vat)


def _lines(lines: list[ProductLineRequest] | None) -> tuple[LineInput, ...] | None:
    return None if lines is None else tuple(_line(line) for line in lines)


def _vouchers(voucher: str, vouchers: list[str] | None) -> tuple[str, ...]:
    return tuple(code for code in (voucher, *(vouchers or ())) if code)


def parse_transaction(payload: Any) -> TransactionInput:
    """The transaction in `payload`, or ConversionRefused(400) naming every bad field."""
    data: TransactionRequest = _validated(TransactionRequest, payload)
    return TransactionInput(
        event=data.event,
        click=data.click,
        order_number=data.order_number,
        order_sum=data.order_sum,
        vat_sum=data.vat_sum,
        currency=data.currency,
        products=_lines(data.products) or (),
        vouchers=_vouchers(data.voucher, data.vouchers),
    )


def parse_lead(payload: Any) -> LeadInput:
    """The lead in `payload`, or ConversionRefused(400) naming every bad field."""
    data: LeadRequest = _validated(LeadRequest, payload)
    return LeadInput(data.event, data.click, data.reference, _vouchers(data.voucher, None))


def parse_test_click(payload: Any) -> TestClickRequest:
    """A test click's request, or ConversionRefused(400) naming every bad field."""
    return _validated(TestClickRequest, payload)


def parse_amendment(payload: Any) -> AmendmentInput:
    """A transaction's PATCH, or ConversionRefused(400) naming every bad field."""
    if isinstance(payload, dict) and ("status" in payload or "reason" in payload):
        rejection: TransactionRejection = _validated(TransactionRejection, payload)
        return AmendmentInput(reject_reason=rejection.reason)
    nothing = {}
    if isinstance(payload, dict) and not _AMENDABLE & payload.keys():
        nothing = {
            "body": ["send orderSum, vatSum and/or products, or status 'rejected' and reason"]
        }
    data: TransactionAmendment = _validated(TransactionAmendment, payload, **nothing)
    return AmendmentInput(
        order_sum=data.order_sum, vat_sum=data.vat_sum, products=_lines(data.products)
    )


def parse_lead_amendment(payload: Any) -> AmendmentInput:
    """A lead's PATCH (a rejection only), or ConversionRefused(400) naming every bad field."""
    rejection: LeadRejection = _validated(LeadRejection, payload)
    return AmendmentInput(reject_reason=rejection.reason)


def check_lines_match_sums(lines: tuple[LineInput, ...], order_sum: int, vat_sum: int) -> None:
    """Refuse (400) lines that do not add up to the sums, e.g. after an amendment."""
    fields: dict[str, list[str]] = {}
    if vat_sum > order_sum:
        fields["vatSum"] = ["must not be more than the orderSum"]
    if lines:
        problems = lines_problems(lines, order_sum, vat_sum)
        if problems:
            fields["products"] = problems
    if fields:
        raise invalid(fields)


def parse_idempotency_key(value: str | None) -> str | None:
    """The Idempotency-Key header's value, or ConversionRefused(400) if unusable."""
    if value is None:
        return None
    if not value.strip() or len(value) > IDEMPOTENCY_KEY_MAX_LENGTH or not value.isprintable():
        raise invalid(
            {"Idempotency-Key": [f"must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable characters"]}
        )
    return value.strip()


_REASON = TypeAdapter(Text(REASON_MAX_LENGTH), config=ConfigDict(str_strip_whitespace=True))


def parse_reason(reason: Any, *, required: bool) -> str:
    """A decision's reason, by the same rules as the API's, or ConversionRefused(400)."""
    try:
        text = _REASON.validate_python(reason)
    except ValidationError as error:
        messages = [message for found in field_errors(error).values() for message in found]
        raise invalid({"reason": messages}) from None
    if required and not text:
        raise invalid({"reason": ["is required to reject"]})
    return text
