import re

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from conversions.payloads import MAX_PRODUCT_LINES
from retrack.lib.validation import BIGINT_MAX

BIGINT = {"type": "integer", "format": "int64", "minimum": 0, "maximum": BIGINT_MAX}


@pytest.fixture
def document(openapi_document) -> dict:
    return openapi_document


def _api_routes(resolver: URLResolver = None, prefix: str = "") -> set[str]:
    """Every DRF route under /api/v2/, as an OpenAPI path (`{uuid}` for converters)."""
    resolver = resolver or get_resolver()
    routes = set()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes |= _api_routes(pattern, route)
        elif (
            isinstance(pattern, URLPattern)
            and hasattr(pattern.callback, "cls")
            and route.startswith("api/v2/")
        ):
            routes.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))
    return routes


def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _objects(document: dict, schema: dict, seen: set | None = None):
    """Every object schema reachable from `schema`."""
    seen = set() if seen is None else seen
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return
        seen.add(schema["$ref"])
        yield from _objects(document, _resolve(document, schema), seen)
        return
    if schema.get("type") == "object":
        yield schema
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from _objects(document, option, seen)
    children = list(schema.get("properties", {}).values())
    if "items" in schema:
        children.append(schema["items"])
    for child in children:
        yield from _objects(document, child, seen)


def _operations(document: dict):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def _body_schema(document: dict, path: str, method: str) -> dict:
    operation = document["paths"][path][method]
    return operation["requestBody"]["content"]["application/json"]["schema"]


def test_the_document_is_valid_openapi(document):
    validate(document)


def test_every_api_route_is_described(document):
    routes = _api_routes()

    assert {"/api/v2/transactions", "/api/v2/leads"} <= routes
    assert routes <= set(document["paths"])


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        (
            "/api/v2/transactions",
            "post",
            {"200", "201", "400", "401", "403", "409", "413", "415", "422"},
        ),
        ("/api/v2/transactions", "get", {"200", "400", "401", "403", "404"}),
        ("/api/v2/transactions/{uuid}", "get", {"200", "401", "403", "404"}),
        (
            "/api/v2/transactions/{uuid}",
            "patch",
            {"200", "400", "401", "403", "404", "409", "413", "415", "422"},
        ),
        ("/api/v2/leads", "post", {"200", "201", "400", "401", "403", "409", "413", "415", "422"}),
        ("/api/v2/leads", "get", {"200", "400", "401", "403", "404"}),
        ("/api/v2/leads/{uuid}", "get", {"200", "401", "403", "404"}),
        ("/api/v2/leads/{uuid}", "patch", {"200", "400", "401", "403", "404", "409", "413", "415"}),
    ],
)
def test_each_store_call_describes_exactly_its_answers_and_security(
    document, path, method, statuses
):
    operation = document["paths"][path][method]

    assert set(operation["responses"]) == statuses | {"default"}
    assert operation["security"] == [{"storeToken": []}]
    assert operation["summary"]


def test_store_and_partner_tokens_are_separate_schemes(document):
    schemes = document["components"]["securitySchemes"]

    assert set(schemes) == {"storeToken", "partnerToken"}
    assert all(
        scheme == {**scheme, "type": "http", "scheme": "bearer"} for scheme in schemes.values()
    )
    partner_calls = [
        operation["security"]
        for path, _, operation in _operations(document)
        if path.startswith("/api/v2/partner/")
    ]
    assert partner_calls
    assert all(security == [{"partnerToken": []}] for security in partner_calls)


def test_every_call_declares_its_headers_and_a_default_error_answer(document):
    error = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for path, _, operation in _operations(document):
        responses = operation["responses"]
        assert responses["default"]["content"]["application/json"]["schema"] == error
        assert "WWW-Authenticate" in responses["401"]["headers"]
        # A test click is not a resource of the API: it has no URL to point to.
        if "201" in responses and path != "/api/v2/test-clicks":
            assert responses["201"]["headers"]["Location"]["schema"]["format"] == "uri-reference"
    # The public URL, whatever a developer's HOST, PORT or .env make it here (its default
    # is tests/test_settings.py's, checked without them).
    public_url = settings.RETRACK_PUBLIC_URL
    assert document["servers"] == [{"url": public_url, "description": "This Retrack"}]


def test_error_codes_are_named_in_descriptions_not_fixed_as_an_enum(document):
    code = document["components"]["schemas"]["ErrorDetail"]["properties"]["code"]
    lookup = document["paths"]["/api/v2/transactions"]["get"]["responses"]["400"]
    create = document["paths"]["/api/v2/transactions"]["post"]["responses"]

    assert code["type"] == "string"
    assert "enum" not in code
    assert "`ambiguous`" in lookup["description"]
    assert [name for name in re.findall(r"`(\w+)`", create["422"]["description"])] == [
        "click_not_found",
        "click_not_yours",
        "click_expired",
        "event_invalid",
        "currency_mismatch",
        "limit_exceeded",
    ]


def test_the_request_bodies_name_the_contracts_fields(document):
    components = document["components"]["schemas"]

    assert set(components["TransactionRequest"]["properties"]) == {
        "event",
        "click",
        "orderNumber",
        "orderSum",
        "vatSum",
        "currency",
        "products",
        "voucher",
        "vouchers",
    }
    assert set(components["LeadRequest"]["properties"]) == {
        "event",
        "click",
        "reference",
        "voucher",
    }
    assert set(components["ProductLineRequest"]["properties"]) == {
        "event",
        "reference",
        "name",
        "quantity",
        "price",
        "vat",
    }


def test_the_request_bodies_say_what_the_server_enforces(document):
    components = document["components"]["schemas"]
    transaction = components["TransactionRequest"]["properties"]
    line = components["ProductLineRequest"]["properties"]

    assert transaction["products"]["maxItems"] == MAX_PRODUCT_LINES
    assert [option["type"] for option in transaction["orderNumber"]["oneOf"]] == [
        "string",
        "integer",
    ]
    for amount in (transaction["orderSum"], transaction["vatSum"], line["price"], line["vat"]):
        assert {key: amount[key] for key in BIGINT} == BIGINT
    assert components["TransactionAmendment"]["minProperties"] == 1
    text = transaction["orderNumber"]["oneOf"][0]["pattern"]
    reason = components["TransactionRejection"]["properties"]["reason"]["pattern"]
    for pattern in (text, reason):
        assert re.match(pattern, "692549563")
        assert not re.match(pattern, "69254\u202e9563")
        assert not re.match(pattern, "69254\x009563")
        assert not re.match(pattern, "   ")
    create = document["paths"]["/api/v2/transactions"]["post"]
    (key,) = [p for p in create["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["schema"]["maxLength"] == 255
    assert re.match(key["schema"]["pattern"], "order-692549563")
    assert not re.match(key["schema"]["pattern"], "  ")
    assert components["TransactionRequest"]["not"] == {"required": ["voucher", "vouchers"]}


def test_every_request_body_is_required_and_closed(document):
    bodies = [
        (path, method, operation)
        for path, method, operation in _operations(document)
        if "requestBody" in operation
    ]

    assert len(bodies) == 8
    for path, method, operation in bodies:
        assert operation["requestBody"]["required"] is True, (path, method)
        objects = list(_objects(document, _body_schema(document, path, method)))
        assert objects
        assert all(schema["additionalProperties"] is False for schema in objects), (path, method)


def test_every_amount_in_the_answers_is_bounded(document):
    components = document["components"]["schemas"]
    answers = [
        components["StoreConversionDocument"]["properties"][name]
        for name in ("order_sum", "vat_sum", "commission")
    ] + [components["ProductLineDocument"]["properties"][name] for name in ("price", "vat")]

    for amount in answers:
        assert {key: amount[key] for key in BIGINT} == BIGINT


def test_the_browsable_docs_are_served(db):
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
