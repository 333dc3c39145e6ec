"""Parsing of the contract's camelCase payloads into typed inputs.

Every field error is collected, named as the caller sent it (`products[1].quantity`),
and the whole payload is refused at once with `ConversionRefused` (400 `invalid`).
Nothing here touches the database: what the payload refers to (click, events) is
checked by `conversions.services`.
"""

import re
import uuid
from dataclasses import dataclass
from typing import Any

from conversions.models import REFERENCE_MAX_LENGTH
from conversions.refusals import invalid
from retrack.lib.uuids import parse_uuid

BIGINT_MAX = 2**63 - 1
QUANTITY_MAX = 2**31 - 1
MAX_PRODUCT_LINES = 500
MAX_VOUCHERS = 50
REASON_MAX_LENGTH = 2000
IDEMPOTENCY_KEY_MAX_LENGTH = 255
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Echoed field names are cut short so that a hostile key cannot blow up the error body.
_ECHOED_NAME_MAX_LENGTH = 100

TRANSACTION_FIELDS = frozenset(
    {"event", "click", "orderNumber", "orderSum", "vatSum", "currency", "products", "voucher"}
    | {"vouchers"}
)
LEAD_FIELDS = frozenset({"event", "click", "reference", "voucher"})
PRODUCT_FIELDS = frozenset({"event", "reference", "name", "quantity", "price", "vat"})
AMENDMENT_FIELDS = frozenset({"orderSum", "vatSum", "products", "status", "reason"})
REJECTION_FIELDS = frozenset({"status", "reason"})


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


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.fields:
            raise invalid(self.fields)


def _echoed(name: str) -> str:
    """A caller-chosen key made safe to echo back: valid UTF-8 and short."""
    safe = name.encode("utf-8", "backslashreplace").decode("utf-8")
    return safe if len(safe) <= _ECHOED_NAME_MAX_LENGTH else safe[:_ECHOED_NAME_MAX_LENGTH] + "…"


def _object(value: Any, path: str, known: frozenset[str], errors: _Errors) -> dict | None:
    if not isinstance(value, dict):
        errors.add(path, "must be a JSON object")
        return None
    for name in sorted(set(value) - known, key=str):
        errors.add(_join(path, _echoed(str(name))), "is not a known field")
    return value


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and path != "body" else name


def _integer(
    data: dict, key: str, path: str, errors: _Errors, *, minimum: int, maximum: int
) -> int | None:
    field = _join(path, key)
    if key not in data:
        errors.add(field, "is required")
        return None
    value = data[key]
    # bool is an int in Python, but `true` is not an amount.
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(field, "must be an integer (minor units)")
        return None
    if value < minimum:
        errors.add(field, f"must be at least {minimum}")
        return None
    if value > maximum:
        errors.add(field, f"must be at most {maximum}")
        return None
    return value


def _text_problem(value: str, max_length: int) -> str | None:
    if len(value) > max_length:
        return f"must be at most {max_length} characters"
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return None


def _string(
    data: dict,
    key: str,
    path: str,
    errors: _Errors,
    *,
    required: bool,
    max_length: int = REFERENCE_MAX_LENGTH,
    allow_integer: bool = False,
) -> str | None:
    field = _join(path, key)
    if key not in data or data[key] is None:
        if required:
            errors.add(field, "is required")
        return None if required else ""
    value = data[key]
    # Order numbers and references are often numeric; a JSON number is taken as its digits.
    if allow_integer and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str):
        errors.add(field, "must be a string")
        return None
    value = value.strip()
    if required and not value:
        errors.add(field, "must not be empty")
        return None
    problem = _text_problem(value, max_length)
    if problem:
        errors.add(field, problem)
        return None
    return value


def _uuid(data: dict, key: str, path: str, errors: _Errors) -> uuid.UUID | None:
    field = _join(path, key)
    if key not in data:
        errors.add(field, "is required")
        return None
    value = data[key]
    if not isinstance(value, str):
        errors.add(field, "must be a UUID string")
        return None
    parsed = parse_uuid(value)
    if parsed is None:
        errors.add(field, "must be a UUID")
    return parsed


def _currency(data: dict, errors: _Errors) -> str | None:
    if "currency" not in data:
        errors.add("currency", "is required")
        return None
    value = data["currency"]
    if not isinstance(value, str) or not _CURRENCY.match(value):
        errors.add("currency", "must be a three-letter ISO-4217 code in capitals, e.g. SEK")
        return None
    return value


def _vouchers(data: dict, errors: _Errors, *, allow_list: bool) -> tuple[str, ...]:
    vouchers: list[str] = []
    if allow_list and "voucher" in data and "vouchers" in data:
        errors.add("vouchers", "send either voucher or vouchers, not both")
        return ()
    voucher = _string(data, "voucher", "", errors, required=False)
    if voucher:
        vouchers.append(voucher)
    if allow_list and data.get("vouchers") is not None:
        value = data["vouchers"]
        if not isinstance(value, list):
            errors.add("vouchers", "must be a list of strings")
        elif len(value) > MAX_VOUCHERS:
            errors.add("vouchers", f"must have at most {MAX_VOUCHERS} items")
        else:
            for index, item in enumerate(value):
                field = f"vouchers[{index}]"
                if not isinstance(item, str):
                    errors.add(field, "must be a string")
                    continue
                problem = _text_problem(item.strip(), REFERENCE_MAX_LENGTH)
                if problem:
                    errors.add(field, problem)
                elif item.strip():
                    vouchers.append(item.strip())
    return tuple(vouchers)


def _product_lines(value: Any, errors: _Errors) -> tuple[LineInput, ...] | None:
    if not isinstance(value, list):
        errors.add("products", "must be a list of product lines")
        return None
    if len(value) > MAX_PRODUCT_LINES:
        errors.add("products", f"must have at most {MAX_PRODUCT_LINES} lines")
        return None
    lines: list[LineInput] = []
    complete = True
    for index, item in enumerate(value):
        path = f"products[{index}]"
        line = _object(item, path, PRODUCT_FIELDS, errors)
        if line is None:
            complete = False
            continue
        event = _uuid(line, "event", path, errors)
        reference = _string(line, "reference", path, errors, required=False, allow_integer=True)
        name = _string(line, "name", path, errors, required=False)
        quantity = _integer(line, "quantity", path, errors, minimum=1, maximum=QUANTITY_MAX)
        price = _integer(line, "price", path, errors, minimum=0, maximum=BIGINT_MAX)
        vat = _integer(line, "vat", path, errors, minimum=0, maximum=BIGINT_MAX)
        if price is not None and vat is not None and vat > price:
            errors.add(f"{path}.vat", "must not be more than the price")
            vat = None
        values = (event, reference, name, quantity, price, vat)
        if any(item is None for item in values):
            complete = False
            continue
        lines.append(LineInput(event, reference, name, quantity, price, vat))
    return tuple(lines) if complete else None


def _check_lines_match_sums(
    lines: tuple[LineInput, ...], order_sum: int, vat_sum: int, errors: _Errors
) -> None:
    """The lines must add up exactly to the order's sums (shipping, fees: send a line)."""
    if not lines:
        return
    lines_sum = sum(line.quantity * line.price for line in lines)
    lines_vat = sum(line.quantity * line.vat for line in lines)
    if lines_sum != order_sum:
        errors.add(
            "products",
            f"the lines add up to {lines_sum} (quantity × price), not the orderSum {order_sum}",
        )
    if lines_vat != vat_sum:
        errors.add(
            "products",
            f"the lines' VAT adds up to {lines_vat} (quantity × vat), not the vatSum {vat_sum}",
        )


def _sums(data: dict, errors: _Errors) -> tuple[int | None, int | None]:
    order_sum = _integer(data, "orderSum", "", errors, minimum=0, maximum=BIGINT_MAX)
    vat_sum = _integer(data, "vatSum", "", errors, minimum=0, maximum=BIGINT_MAX)
    if order_sum is not None and vat_sum is not None and vat_sum > order_sum:
        errors.add("vatSum", "must not be more than the orderSum")
        vat_sum = None
    return order_sum, vat_sum


def parse_transaction(payload: Any) -> TransactionInput:
    """The transaction in `payload`, or ConversionRefused(400) naming every bad field."""
    errors = _Errors()
    data = _object(payload, "body", TRANSACTION_FIELDS, errors)
    if data is None:
        errors.raise_if_any()
    event = _uuid(data, "event", "", errors)
    click = _uuid(data, "click", "", errors)
    order_number = _string(data, "orderNumber", "", errors, required=True, allow_integer=True)
    order_sum, vat_sum = _sums(data, errors)
    currency = _currency(data, errors)
    products: tuple[LineInput, ...] | None = ()
    if data.get("products") is not None:
        products = _product_lines(data["products"], errors)
    vouchers = _vouchers(data, errors, allow_list=True)
    if products and order_sum is not None and vat_sum is not None:
        _check_lines_match_sums(products, order_sum, vat_sum, errors)
    errors.raise_if_any()
    return TransactionInput(
        event, click, order_number, order_sum, vat_sum, currency, products, vouchers
    )


def parse_lead(payload: Any) -> LeadInput:
    """The lead in `payload`, or ConversionRefused(400) naming every bad field."""
    errors = _Errors()
    data = _object(payload, "body", LEAD_FIELDS, errors)
    if data is None:
        errors.raise_if_any()
    event = _uuid(data, "event", "", errors)
    click = _uuid(data, "click", "", errors)
    reference = _string(data, "reference", "", errors, required=True, allow_integer=True)
    vouchers = _vouchers(data, errors, allow_list=False)
    errors.raise_if_any()
    return LeadInput(event, click, reference, vouchers)


def _rejection(data: dict, errors: _Errors) -> str | None:
    if data.get("status") != "rejected":
        errors.add(
            "status",
            "must be 'rejected'; approval follows the program's validation period or an operator",
        )
        return None
    reason = _string(data, "reason", "", errors, required=True, max_length=REASON_MAX_LENGTH)
    return reason


def parse_amendment(payload: Any) -> AmendmentInput:
    """A transaction's PATCH, or ConversionRefused(400) naming every bad field."""
    errors = _Errors()
    data = _object(payload, "body", AMENDMENT_FIELDS, errors)
    if data is None:
        errors.raise_if_any()
    if "status" in data or "reason" in data:
        for other in sorted({"orderSum", "vatSum", "products"} & set(data)):
            errors.add(other, "cannot be changed in the same request as a rejection")
        reason = _rejection(data, errors)
        errors.raise_if_any()
        return AmendmentInput(reject_reason=reason)
    if not {"orderSum", "vatSum", "products"} & set(data):
        errors.add("body", "send orderSum, vatSum and/or products, or status 'rejected' and reason")
        errors.raise_if_any()
    order_sum = vat_sum = None
    if "orderSum" in data:
        order_sum = _integer(data, "orderSum", "", errors, minimum=0, maximum=BIGINT_MAX)
    if "vatSum" in data:
        vat_sum = _integer(data, "vatSum", "", errors, minimum=0, maximum=BIGINT_MAX)
    products = None
    if "products" in data:
        products = _product_lines(data["products"], errors)
    errors.raise_if_any()
    return AmendmentInput(order_sum=order_sum, vat_sum=vat_sum, products=products)


def parse_lead_amendment(payload: Any) -> AmendmentInput:
    """A lead's PATCH (a rejection only), or ConversionRefused(400) naming every bad field."""
    errors = _Errors()
    data = _object(payload, "body", REJECTION_FIELDS, errors)
    if data is None:
        errors.raise_if_any()
    reason = _rejection(data, errors)
    errors.raise_if_any()
    return AmendmentInput(reject_reason=reason)


def check_lines_match_sums(lines: tuple[LineInput, ...], order_sum: int, vat_sum: int) -> None:
    """Refuse (400) lines that do not add up to the sums, e.g. after an amendment."""
    errors = _Errors()
    if vat_sum > order_sum:
        errors.add("vatSum", "must not be more than the orderSum")
    _check_lines_match_sums(lines, order_sum, vat_sum, errors)
    errors.raise_if_any()


def parse_idempotency_key(value: str | None) -> str | None:
    """The Idempotency-Key header's value, or ConversionRefused(400) if unusable."""
    if value is None:
        return None
    errors = _Errors()
    if not value.strip() or len(value) > IDEMPOTENCY_KEY_MAX_LENGTH or not value.isprintable():
        errors.add(
            "Idempotency-Key",
            f"must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable characters",
        )
    errors.raise_if_any()
    return value.strip()
