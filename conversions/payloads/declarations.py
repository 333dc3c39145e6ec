"""The store API's request bodies, declared once: each model parses its body and is its
OpenAPI schema (`retrack.api.schema` turns the models' JSON Schema into the document).

Everything a body must be is said here: types, bounds, lengths, unknown fields refused,
and the rules between fields (VAT within the price, the lines adding up to the sums).
`conversions.payloads` turns a validated model into the services' typed inputs.
"""

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from clicks.models import URL_MAX_LENGTH
from conversions.models import REFERENCE_MAX_LENGTH
from retrack.lib.validation import (
    BIGINT_MAX,
    INT32_MAX,
    Amount,
    Quantity,
    Text,
    Uuid,
    listed,
    refused_as,
    several,
    text_pattern,
)
from stores.rules import CURRENCY_PATTERN

QUANTITY_MAX = INT32_MAX
MAX_PRODUCT_LINES = 500
MAX_VOUCHERS = 50
REASON_MAX_LENGTH = 2000


# --- Field types ------------------------------------------------------------------------


def _digits_of_whole_number(value: Any) -> Any:
    # Order numbers and references are often numeric; a JSON number is taken as its digits.
    if type(value) is int and value >= 0:
        return str(value)
    return value


def _null_is_missing(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("null", "is required")
    return value


def _absent_if_null(value: Any) -> Any:
    return "" if value is None else value


def _key(description: str, *, required: bool = True) -> Any:
    """A key (order number, reference, SKU): text, or a whole number as its digits."""
    return Annotated[
        Text(REFERENCE_MAX_LENGTH, required=required),
        BeforeValidator(_digits_of_whole_number),
        BeforeValidator(_null_is_missing if required else _absent_if_null),
        WithJsonSchema(
            {
                "description": description,
                "oneOf": [
                    {
                        "type": "string",
                        "minLength": 1 if required else 0,
                        "maxLength": REFERENCE_MAX_LENGTH,
                        "pattern": text_pattern(required=required),
                    },
                    {"type": "integer", "minimum": 0, "format": "int64"},
                ],
            }
        ),
    ]


def _optional_text(description: str, *, max_length: int = REFERENCE_MAX_LENGTH) -> Any:
    return Annotated[
        Text(max_length),
        BeforeValidator(_absent_if_null),
        Field(description=description),
    ]


_MINOR_UNITS = "Integer in minor units (öre, cents): 10100 means 101.00."
_CLICK = Annotated[Uuid, Field(description="The click UUID from the `retrack_click` cookie.")]
_CURRENCY = Annotated[
    str,
    Field(pattern=CURRENCY_PATTERN, description="ISO-4217, and the program's currency."),
    refused_as("must be a three-letter ISO-4217 code in capitals, e.g. SEK"),
]
_REASON = Annotated[
    Text(REASON_MAX_LENGTH, required=True),
    BeforeValidator(_null_is_missing),
    Field(description="Why it is rejected."),
]
_REJECTED = Annotated[
    Literal["rejected"],
    Field(description="Only `rejected`: approval follows the validation period or an operator."),
    refused_as(
        "must be 'rejected'; approval follows the program's validation period or an operator"
    ),
]


def _amount(description: str) -> Any:
    return Annotated[Amount, Field(description=f"{description} {_MINOR_UNITS}")]


def _lines_total(lines: Any) -> tuple[int, int]:
    return (
        sum(line.quantity * line.price for line in lines),
        sum(line.quantity * line.vat for line in lines),
    )


def lines_problems(lines: Any, order_sum: int, vat_sum: int) -> list[str]:
    """The lines must add up exactly to the order's sums (shipping, fees: send a line)."""
    lines_sum, lines_vat = _lines_total(lines)
    problems = []
    if lines_sum != order_sum:
        problems.append(
            f"the lines add up to {lines_sum} (quantity × price), not the orderSum {order_sum}"
        )
    if lines_vat != vat_sum:
        problems.append(
            f"the lines' VAT adds up to {lines_vat} (quantity × vat), not the vatSum {vat_sum}"
        )
    return problems


def _refuse_lines_beyond_bigint(lines: list["ProductLineRequest"] | None) -> None:
    if lines and max(_lines_total(lines)) > BIGINT_MAX:
        raise PydanticCustomError(
            "lines_too_large",
            f"the lines add up to more than {BIGINT_MAX}, the largest amount Retrack stores",
        )


# --- Declarations -----------------------------------------------------------------------


class _Payload(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        alias_generator=to_camel,
        frozen=True,
        # Checked once, here: the input is a parsed JSON body, never a model instance.
        revalidate_instances="never",
    )


class ProductLineRequest(_Payload):
    """A product line: it earns at its own event's rate."""

    event: Uuid = Field(description="The line's event: it earns at this event's rate.")
    reference: _key("The product's SKU.", required=False) = ""
    name: _optional_text("The product's name.") = ""
    quantity: Quantity
    price: _amount("Unit price, VAT included.")
    vat: _amount("The VAT in the unit price (at most the price).")

    @field_validator("vat")
    @classmethod
    def _vat_within_price(cls, vat: int, info: ValidationInfo) -> int:
        price = info.data.get("price")
        if price is not None and vat > price:
            raise PydanticCustomError("vat_above_price", "must not be more than the price")
        return vat


def _lines(description: str, *, null_is_absent: bool) -> Any:
    return Annotated[
        list[ProductLineRequest],
        Field(max_length=MAX_PRODUCT_LINES, description=description),
        listed(
            not_a_list="must be a list of product lines",
            max_items=MAX_PRODUCT_LINES,
            too_many=f"must have at most {MAX_PRODUCT_LINES} lines",
            null_is_absent=null_is_absent,
        ),
    ]


_VOUCHERS = Annotated[
    list[Text(REFERENCE_MAX_LENGTH)],
    Field(max_length=MAX_VOUCHERS, description="Several voucher codes (instead of `voucher`)."),
    listed(
        not_a_list="must be a list of strings",
        max_items=MAX_VOUCHERS,
        too_many=f"must have at most {MAX_VOUCHERS} items",
    ),
]
# What a body with both `voucher` and `vouchers` becomes, for `vouchers` to refuse.
_BOTH_VOUCHER_FIELDS = object()


class TransactionRequest(_Payload):
    """A transaction (a purchase), as `POST /api/v2/transactions` and the tag send it."""

    model_config = ConfigDict(json_schema_extra={"not": {"required": ["voucher", "vouchers"]}})

    event: Uuid = Field(description="The order's event (a transaction event).")
    click: _CLICK
    order_number: _key("The store's order number; unique per program.")
    order_sum: _amount("The order's total, VAT included.")
    vat_sum: _amount("The VAT in orderSum (at most orderSum).")
    currency: _CURRENCY
    products: _lines(
        "Optional lines. When sent, Σ quantity × price must equal orderSum and "
        "Σ quantity × vat must equal vatSum (send shipping or fees as a line).",
        null_is_absent=True,
    ) = None
    voucher: _optional_text("A voucher code used on the order.") = ""
    vouchers: _VOUCHERS = None

    @model_validator(mode="before")
    @classmethod
    def _voucher_or_vouchers(cls, data: Any) -> Any:
        if isinstance(data, dict) and "voucher" in data and "vouchers" in data:
            data = {key: value for key, value in data.items() if key != "voucher"}
            data["vouchers"] = _BOTH_VOUCHER_FIELDS
        return data

    @field_validator("vouchers", mode="wrap")
    @classmethod
    def _not_both(cls, value: Any, handler: Any) -> Any:
        if value is _BOTH_VOUCHER_FIELDS:
            raise PydanticCustomError("voucher_twice", "send either voucher or vouchers, not both")
        return handler(value)

    @field_validator("vat_sum")
    @classmethod
    def _vat_within_sum(cls, vat_sum: int, info: ValidationInfo) -> int:
        order_sum = info.data.get("order_sum")
        if order_sum is not None and vat_sum > order_sum:
            raise PydanticCustomError("vat_above_sum", "must not be more than the orderSum")
        return vat_sum

    @field_validator("products")
    @classmethod
    def _lines_match_sums(cls, lines: list[ProductLineRequest] | None, info: ValidationInfo):
        order_sum, vat_sum = info.data.get("order_sum"), info.data.get("vat_sum")
        if lines and order_sum is not None and vat_sum is not None:
            problems = lines_problems(lines, order_sum, vat_sum)
            if problems:
                raise several(*problems)
        return lines


class LeadRequest(_Payload):
    """A lead (a sign-up), as `POST /api/v2/leads` and the tag send it."""

    event: Uuid = Field(description="The lead's event (a lead event).")
    click: _CLICK
    reference: _key("The store's reference for the lead; unique per program.")
    voucher: _optional_text("A voucher code.") = ""


def _not_with_a_rejection(value: Any) -> Any:
    raise PydanticCustomError(
        "not_with_rejection", "cannot be changed in the same request as a rejection"
    )


_NOT_WITH_A_REJECTION = SkipJsonSchema[Annotated[Any, BeforeValidator(_not_with_a_rejection)]]


class TransactionAmendment(_Payload):
    """New sums and/or lines for a pending transaction (a partial return).

    At least one of them: `parse_amendment` refuses a body that changes nothing.
    """

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    order_sum: _amount("The new total.") = None
    vat_sum: _amount("The new VAT.") = None
    products: _lines(
        "The new lines, replacing all old ones; sums left out follow them.",
        null_is_absent=False,
    ) = None

    @field_validator("products")
    @classmethod
    def _lines_within_bigint(cls, lines: list[ProductLineRequest] | None):
        _refuse_lines_beyond_bigint(lines)
        return lines


# Stands in for the reason of a body whose status is wrong: it is told about the status
# alone, as a store that tries to approve needs to hear.
_NOT_ASKED = object()


class LeadRejection(_Payload):
    """A rejection: `{"status": "rejected", "reason": "…"}`."""

    status: _REJECTED
    reason: _REASON

    @model_validator(mode="before")
    @classmethod
    def _status_first(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("status") != "rejected":
            data = {"status": None, **data, "reason": _NOT_ASKED}
        return data

    @field_validator("reason", mode="wrap")
    @classmethod
    def _reason_if_asked(cls, value: Any, handler: Any) -> Any:
        return value if value is _NOT_ASKED else handler(value)


class TransactionRejection(LeadRejection):
    """A rejection of a transaction (a cancelled order)."""

    order_sum: _NOT_WITH_A_REJECTION = None
    vat_sum: _NOT_WITH_A_REJECTION = None
    products: _NOT_WITH_A_REJECTION = None


class TransactionPatch(RootModel[TransactionAmendment | TransactionRejection]):
    """`PATCH /api/v2/transactions/<uuid>`: new sums and/or lines, or a rejection.

    A body with `status` or `reason` is a rejection; any other is an amendment.
    """


class TestClickRequest(_Payload):
    """A test click (contract section 8): `POST /api/v2/test-clicks`."""

    program: Uuid = Field(description="One of the store's programs.")
    deeplink: Annotated[
        Text(URL_MAX_LENGTH),
        Field(
            description="The page to land on: used only when it is on one of the program's "
            "allowed domains, as with a tracking link."
        ),
    ] = ""
