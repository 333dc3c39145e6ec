import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _schema() -> dict:
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


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


def test_the_document_is_valid_openapi():
    validate(_schema())


def test_every_api_route_is_described():
    paths = _schema()["paths"]

    routes = _api_routes()

    assert {"/api/v2/transactions", "/api/v2/leads"} <= routes
    assert routes <= set(paths)


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
        ("/api/v2/transactions/{uuid}", "patch", {"200", "400", "404", "409", "422"}),
        ("/api/v2/leads", "post", {"200", "201", "400", "401", "403", "409", "422"}),
        ("/api/v2/leads", "get", {"200", "404"}),
        ("/api/v2/leads/{uuid}", "get", {"200", "404"}),
        ("/api/v2/leads/{uuid}", "patch", {"200", "400", "404", "409"}),
    ],
)
def test_each_store_call_describes_its_answers_and_security(path, method, statuses):
    operation = _schema()["paths"][path][method]

    assert statuses <= set(operation["responses"])
    assert operation["security"] == [{"storeToken": []}]
    assert operation["summary"]


def test_the_request_bodies_name_the_contracts_fields():
    components = _schema()["components"]["schemas"]

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


def test_the_browsable_docs_are_served():
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
