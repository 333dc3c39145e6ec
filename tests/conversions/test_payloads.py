import pytest

from conversions.payloads import (
    parse_amendment,
    parse_lead,
    parse_lead_amendment,
    parse_transaction,
)
from conversions.refusals import ConversionRefused
from tests.shop import worked_example

EVENT = "3f0b1c3e-2a4f-4b7e-9d11-6a8f1e2c4d50"
CLICK = "0190d7a6-3b3c-7000-8000-00000000abcd"


def _payload(**overrides) -> dict:
    """The worked example on one event, without its voucher unless one is given."""
    payload = worked_example(CLICK, EVENT, EVENT)
    del payload["voucher"]
    payload.update(overrides)
    return payload


def _fields(parse, payload) -> dict[str, list[str]]:
    with pytest.raises(ConversionRefused) as caught:
        parse(payload)
    assert (caught.value.status, caught.value.code) == (400, "invalid")
    return caught.value.fields


def test_it_parses_the_worked_example():
    parsed = parse_transaction(_payload(voucher="SUMMER10"))

    assert parsed.order_number == "692549563"
    assert (parsed.order_sum, parsed.vat_sum, parsed.currency) == (1625, 325, "SEK")
    assert [(line.quantity, line.price, line.vat) for line in parsed.products] == [
        (1, 1250, 250),
        (3, 125, 25),
    ]
    assert parsed.vouchers == ("SUMMER10",)


def test_it_takes_a_numeric_order_number_as_its_digits():
    assert parse_transaction(_payload(orderNumber=692549563)).order_number == "692549563"


def test_it_takes_a_numeric_product_reference_as_its_digits():
    products = [
        {"event": EVENT, "reference": 4711, "quantity": 1, "price": 1250, "vat": 250},
        {"event": EVENT, "reference": None, "quantity": 3, "price": 125, "vat": 25},
    ]

    parsed = parse_transaction(_payload(products=products))

    assert [line.reference for line in parsed.products] == ["4711", ""]


def test_it_names_every_missing_field():
    assert _fields(parse_transaction, {}) == {
        "event": ["is required"],
        "click": ["is required"],
        "orderNumber": ["is required"],
        "orderSum": ["is required"],
        "vatSum": ["is required"],
        "currency": ["is required"],
    }


@pytest.mark.parametrize(
    ("_case", "value"),
    [
        ("bool", True),
        ("float", 1625.0),
        ("string", "1625"),
        ("null", None),
        ("object", {"amount": 1625}),
    ],
)
def test_it_refuses_a_sum_that_is_not_an_integer(_case, value):
    fields = _fields(parse_transaction, _payload(orderSum=value, products=None))

    assert fields == {"orderSum": ["must be an integer (minor units)"]}


def test_it_refuses_negative_sums_and_vat_above_the_sum():
    assert _fields(parse_transaction, _payload(orderSum=-1, vatSum=-2, products=None)) == {
        "orderSum": ["must be at least 0"],
        "vatSum": ["must be at least 0"],
    }
    assert _fields(parse_transaction, _payload(orderSum=100, vatSum=101, products=None)) == {
        "vatSum": ["must not be more than the orderSum"]
    }


def test_it_refuses_sums_beyond_the_largest_storable_integer():
    fields = _fields(parse_transaction, _payload(orderSum=2**63, vatSum=0, products=None))

    assert fields == {"orderSum": [f"must be at most {2**63 - 1}"]}


def test_it_refuses_lines_that_do_not_add_up_to_the_order():
    fields = _fields(parse_transaction, _payload(orderSum=1700, vatSum=300))

    assert fields == {
        "products": [
            "the lines add up to 1625 (quantity × price), not the orderSum 1700",
            "the lines' VAT adds up to 325 (quantity × vat), not the vatSum 300",
        ]
    }


def test_it_names_each_bad_field_of_each_line():
    products = [
        {"event": EVENT, "quantity": 0, "price": 1250, "vat": 250},
        {"event": "nope", "quantity": 1.5, "price": 100, "vat": 101, "colour": "red"},
        "a line",
    ]

    fields = _fields(parse_transaction, _payload(products=products))

    assert fields == {
        "products[0].quantity": ["must be at least 1"],
        "products[1].colour": ["is not a known field"],
        "products[1].event": ["must be a UUID"],
        "products[1].quantity": ["must be an integer (minor units)"],
        "products[1].vat": ["must not be more than the price"],
        "products[2]": ["must be a JSON object"],
    }


def test_it_refuses_unknown_fields_and_a_bad_currency_together():
    fields = _fields(parse_transaction, _payload(currency="sek", shipping=49))

    assert fields == {
        "shipping": ["is not a known field"],
        "currency": ["must be a three-letter ISO-4217 code in capitals, e.g. SEK"],
    }


@pytest.mark.parametrize(
    ("_case", "value", "message"),
    [
        ("too long", "x" * 256, "must be at most 255 characters"),
        ("nul byte", "69254\x009563", "must not contain NUL characters"),
        ("lone surrogate", "6925\ud800", "must be valid Unicode text"),
        ("empty", "  ", "must not be empty"),
        ("list", ["692549563"], "must be a string"),
    ],
)
def test_it_refuses_an_unusable_order_number(_case, value, message):
    assert _fields(parse_transaction, _payload(orderNumber=value)) == {"orderNumber": [message]}


def test_it_refuses_a_body_that_is_not_an_object():
    assert _fields(parse_transaction, [_payload()]) == {"body": ["must be a JSON object"]}


def test_it_refuses_both_voucher_and_vouchers():
    fields = _fields(parse_transaction, _payload(voucher="A", vouchers=["B"]))

    assert fields == {"vouchers": ["send either voucher or vouchers, not both"]}


def test_it_makes_a_hostile_unknown_key_safe_to_echo():
    fields = _fields(parse_transaction, _payload(**{"\ud800" + "k" * 200: 1}))

    (name,) = fields
    assert name.startswith("\\ud800kkk")
    assert len(name) == 101


def test_a_lead_needs_event_click_and_reference():
    assert _fields(parse_lead, {"voucher": 5}) == {
        "event": ["is required"],
        "click": ["is required"],
        "reference": ["is required"],
        "voucher": ["must be a string"],
    }


def test_a_lead_takes_no_sums():
    fields = _fields(
        parse_lead, {"event": EVENT, "click": CLICK, "reference": "m-1", "orderSum": 1}
    )

    assert fields == {"orderSum": ["is not a known field"]}


def test_an_amendment_takes_sums_and_lines():
    parsed = parse_amendment({"orderSum": 1250, "vatSum": 250})

    assert (parsed.order_sum, parsed.vat_sum, parsed.products, parsed.reject_reason) == (
        1250,
        250,
        None,
        None,
    )


def test_an_amendment_is_either_a_rejection_or_new_sums():
    fields = _fields(parse_amendment, {"status": "rejected", "reason": "x", "orderSum": 1})

    assert fields == {"orderSum": ["cannot be changed in the same request as a rejection"]}


def test_a_store_cannot_approve():
    fields = _fields(parse_amendment, {"status": "approved"})

    assert list(fields) == ["status"]


def test_a_rejection_needs_a_reason():
    assert _fields(parse_lead_amendment, {"status": "rejected"}) == {"reason": ["is required"]}


def test_an_amendment_refuses_null_lines():
    assert _fields(parse_amendment, {"products": None}) == {
        "products": ["must be a list of product lines"]
    }


def test_an_amendment_strips_and_keeps_text_in_its_lines():
    line = {"event": EVENT, "reference": "  SKU-1 ", "name": " Shoe ", "quantity": 1}
    parsed = parse_amendment({"products": [{**line, "price": 100, "vat": 20}]})

    assert [(line.reference, line.name) for line in parsed.products] == [("SKU-1", "Shoe")]


def test_voucher_codes_are_trimmed_and_empty_ones_dropped():
    parsed = parse_transaction(_payload(vouchers=[" A ", "", "B"], products=None))

    assert parsed.vouchers == ("A", "B")


def test_an_empty_amendment_is_refused():
    assert list(_fields(parse_amendment, {})) == ["body"]
