"""The claim calls' payloads: one declaration each, which parses and documents it.

As in `conversions.payloads`, each pydantic model below is what a body must be; a refusal
names every bad field as the caller sent it. Nothing here touches the database: what a
claim refers to (program, click, event) is checked by `conversions.claims.services`.
Accepting a claim records a conversion, so the body's conversion fields are checked again
by the one recording path (`record_conversion`), which is what makes them stick.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from conversions.claims.models import NOTE_MAX_LENGTH
from conversions.payloads import REASON_MAX_LENGTH

# The store API's field types, so that a claim's order number or product lines follow
# exactly the rules of the report they become.
from conversions.payloads.declarations import _CURRENCY, _key, _lines
from conversions.payloads.declarations import _Payload as _StoreApiPayload
from conversions.refusals import invalid
from retrack.lib.validation import Amount, Text, field_errors, refused_as
from stores.models import EventKind


def _one_of(value: str, description: str) -> Any:
    """A field that must be exactly `value` (described as an enum: OpenAPI 3.0 has no const)."""
    return Annotated[
        Literal[value],  # type: ignore[valid-type]
        WithJsonSchema({"type": "string", "enum": [value], "description": description}),
    ]


def _drop_absent_defaults(schema: dict[str, Any]) -> None:
    # An optional field's absence reads as None or ""; the document says "optional", not that
    # null or "" is a value to send (a currency pattern would not even take "").
    for field in schema.get("properties", {}).values():
        if field.get("default", 0) in (None, ""):
            del field["default"]


_MINOR_UNITS = "Integer in minor units (öre, cents): 10100 means 101.00."


@dataclass(frozen=True)
class ClaimInput:
    """A partner's claim, parsed: `key` is the order number (transaction) or reference."""

    program: uuid.UUID
    click: uuid.UUID
    kind: EventKind
    key: str
    order_sum: int | None
    vat_sum: int | None
    currency: str
    ordered_at: datetime
    note: str


@dataclass(frozen=True)
class ClaimDecision:
    """A store's decision: accept with the conversion's fields, or decline with a reason.

    `conversion_fields` (accepting) are the body's fields for the recorded conversion, as
    the store API names them (`event`, `orderSum`, `vatSum`, `products`).
    """

    accept: bool
    reason: str = ""
    conversion_fields: dict[str, Any] | None = None


def _text_only(value: Any) -> Any:
    # pydantic would read a number as a Unix time; a claim's time is ISO-8601 text.
    if not isinstance(value, str):
        raise PydanticCustomError("not_iso_8601", "must be an ISO-8601 date-time string")
    return value


_ORDERED_AT = Annotated[
    AwareDatetime,
    BeforeValidator(_text_only),
    Field(description="When the shopper ordered: ISO-8601 with an offset."),
    refused_as("must be an ISO-8601 date-time with an offset, e.g. 2026-11-20T14:03:00Z"),
]


class _Payload(_StoreApiPayload):
    model_config = ConfigDict(json_schema_extra=_drop_absent_defaults)


class _ClaimRequest(_Payload):
    program: uuid.UUID = Field(description="The program the shopper bought from.")
    click: uuid.UUID = Field(description="The click UUID the partner's shopper came through.")
    ordered_at: _ORDERED_AT
    note: Annotated[Text(NOTE_MAX_LENGTH), Field(description="Anything the store should know.")] = (
        ""
    )


class TransactionClaimRequest(_ClaimRequest):
    """A claim for a purchase that tracking missed."""

    kind: _one_of("transaction", "A purchase.")
    order_number: _key("The store's order number.")
    order_sum: Annotated[
        Amount, Field(description=f"The order's total, VAT included. {_MINOR_UNITS}")
    ]
    vat_sum: Annotated[
        Amount, Field(description=f"The VAT in orderSum, if known. {_MINOR_UNITS}")
    ] = None
    currency: _CURRENCY

    @field_validator("vat_sum")
    @classmethod
    def _vat_within_sum(cls, vat_sum: int | None, info: ValidationInfo) -> int | None:
        order_sum = info.data.get("order_sum")
        if vat_sum is not None and order_sum is not None and vat_sum > order_sum:
            raise PydanticCustomError("vat_above_sum", "must not be more than the orderSum")
        return vat_sum


class LeadClaimRequest(_ClaimRequest):
    """A claim for a sign-up that tracking missed."""

    kind: _one_of("lead", "A sign-up.")
    reference: _key("The store's reference for the lead.")
    currency: Annotated[_CURRENCY, Field(description="Optional: the program's currency.")] = ""


_DECISIONS = "must be 'accepted' or 'declined'"


class ClaimDecline(_Payload):
    """`{"status": "declined", "reason": "…"}`: the claim is declined, with a reason."""

    status: _one_of("declined", "Decline the claim.")
    reason: Annotated[
        Text(REASON_MAX_LENGTH, required=True),
        Field(description="Why: the partner sees it in its claims."),
    ]


class TransactionClaimAcceptance(_Payload):
    """Accept a transaction claim: the conversion is recorded with these fields.

    `event`, `orderSum`, `vatSum` and `products` are those of `POST /api/v2/transactions`
    (the click, order number and currency are the claim's).
    """

    status: _one_of("accepted", "Accept the claim: record the conversion.")
    event: uuid.UUID = Field(description="The order's event (a transaction event).")
    order_sum: Annotated[Amount, Field(description=f"The order's total. {_MINOR_UNITS}")]
    vat_sum: Annotated[Amount, Field(description=f"The VAT in orderSum. {_MINOR_UNITS}")]
    products: _lines(
        "Optional product lines, as `POST /api/v2/transactions` takes them: Σ quantity × "
        "price must equal orderSum and Σ quantity × vat must equal vatSum.",
        null_is_absent=True,
    ) = None


class LeadClaimAcceptance(_Payload):
    """Accept a lead claim: the lead is recorded at this event."""

    status: _one_of("accepted", "Accept the claim: record the conversion.")
    event: uuid.UUID = Field(description="The lead's event (a lead event).")


class ClaimRequest(RootModel[TransactionClaimRequest | LeadClaimRequest]):
    """`POST /api/v2/partner/claims`: a transaction's claim or a lead's, by `kind`."""


class ClaimDecisionRequest(
    RootModel[TransactionClaimAcceptance | LeadClaimAcceptance | ClaimDecline]
):
    """`PATCH /api/v2/claims/<uuid>`: accept (with the conversion's fields) or decline."""


_KINDS = "must be 'transaction' or 'lead'"


def _validated(declaration: type[BaseModel], payload: dict[str, Any], **overrides: list[str]):
    """The payload as `declaration` reads it; a refusal names every bad field.

    `overrides` replace the declaration's messages for those fields.
    """
    try:
        return declaration.model_validate(payload)
    except ValidationError as error:
        fields = field_errors(error, payload)
    fields.update({name: messages for name, messages in overrides.items() if name in fields})
    raise invalid(fields)


def parse_claim(payload: Any) -> ClaimInput:
    """The claim in `payload`, or ConversionRefused(400) naming every bad field."""
    if not isinstance(payload, dict):
        raise invalid({"body": ["must be a JSON object"]})
    if payload.get("kind") == EventKind.LEAD:
        lead: LeadClaimRequest = _validated(LeadClaimRequest, payload)
        data: _ClaimRequest = lead
        key, order_sum, vat_sum = lead.reference, None, None
    else:
        # Any kind but a lead is read as a transaction, to name all a claim lacks at once.
        transaction: TransactionClaimRequest = _validated(
            TransactionClaimRequest, payload, kind=[_KINDS]
        )
        data = transaction
        key, order_sum, vat_sum = (
            transaction.order_number,
            transaction.order_sum,
            transaction.vat_sum,
        )
    return ClaimInput(
        program=data.program,
        click=data.click,
        kind=EventKind(data.kind),
        key=key,
        order_sum=order_sum,
        vat_sum=vat_sum,
        currency=data.currency,
        ordered_at=data.ordered_at,
        note=data.note,
    )


def parse_claim_decision(payload: Any, kind: EventKind) -> ClaimDecision:
    """A store's PATCH of a claim, or ConversionRefused(400) naming every bad field."""
    if not isinstance(payload, dict):
        raise invalid({"body": ["must be a JSON object"]})
    status = payload.get("status")
    if status == "declined":
        decline: ClaimDecline = _validated(ClaimDecline, payload)
        return ClaimDecision(accept=False, reason=decline.reason)
    if status != "accepted":
        raise invalid({"status": [_DECISIONS]})
    declaration = (
        TransactionClaimAcceptance if kind == EventKind.TRANSACTION else LeadClaimAcceptance
    )
    _validated(declaration, payload)
    fields = {name: value for name, value in payload.items() if name != "status"}
    return ClaimDecision(accept=True, conversion_fields=fields)
