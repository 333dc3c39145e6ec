"""Both APIs refuse a query parameter a call does not take (contract sections 4 and 6)."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from conversions.models import Conversion
from partners.services import issue_partner_token
from retrack.api.views import ApiView
from stores.services import issue_store_token
from tests.factories import ConversionFactory, PartnerFactory, StoreFactory

pytestmark = pytest.mark.django_db


def _client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def store_api():
    _, secret = issue_store_token(StoreFactory(), "checkout")
    return _client(secret)


@pytest.fixture
def partner_api():
    _, secret = issue_partner_token(PartnerFactory(), "poller")
    return _client(secret)


def _api_views(resolver: URLResolver | None = None, prefix: str = ""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v2/"):
            yield route, getattr(pattern.callback, "cls", None)


def test_every_api_view_refuses_unknown_parameters():
    views = dict(_api_views())

    assert views
    assert {route: view for route, view in views.items() if not issubclass(view, ApiView)} == {}


def test_a_misspelled_filter_is_refused_naming_it(partner_api):
    response = partner_api.get("/api/v2/partner/conversions", {"limt": "5"})

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "parameter_unknown",
            "message": "Unknown query parameter: limt. This call takes cursor, limit.",
            "fields": {"limt": ["is not a parameter of this call"]},
        }
    }


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v2/partner/conversions", "status"),
        ("/api/v2/partner/programs", "cursor"),
        ("/api/v2/partner/claims", "status"),
        ("/api/v2/partner/stats", "partner"),
    ],
)
def test_every_partner_call_refuses_an_unknown_parameter(partner_api, path, parameter):
    response = partner_api.get(path, {parameter: "x"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parameter_unknown"
    assert response.json()["error"]["fields"] == {parameter: ["is not a parameter of this call"]}


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v2/transactions?byOrderNumber=1", "status"),
        ("/api/v2/leads?byReference=1", "byOrderNumber"),
        ("/api/v2/claims", "state"),
    ],
)
def test_every_store_lookup_refuses_an_unknown_parameter(store_api, path, parameter):
    response = store_api.get(path, {parameter: "x"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {parameter: ["is not a parameter of this call"]}


def test_a_write_with_an_unknown_parameter_is_refused_and_stores_nothing(store_api):
    response = store_api.post("/api/v2/transactions?dryRun=1", {}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parameter_unknown"
    assert Conversion.objects.count() == 0


def test_a_patch_with_an_unknown_parameter_changes_nothing():
    conversion = ConversionFactory()
    _, secret = issue_store_token(conversion.program.store, "checkout")

    response = _client(secret).patch(
        f"/api/v2/transactions/{conversion.uuid}?force=true",
        {"status": "rejected", "reason": "x"},
        format="json",
    )

    assert response.status_code == 400
    conversion.refresh_from_db()
    assert conversion.status == "pending"


def test_the_known_parameters_still_work(partner_api):
    response = partner_api.get("/api/v2/partner/conversions", {"limit": "5", "cursor": ""})

    assert response.status_code == 200


def test_a_flood_of_unknown_parameters_names_at_most_fifty(partner_api):
    query = "&".join(f"p{index}=1" for index in range(300))

    response = partner_api.get(f"/api/v2/partner/conversions?{query}")

    assert response.status_code == 400
    assert len(response.json()["error"]["fields"]) == 50
    assert response.json()["error"]["message"].endswith("(250 more not named.)")


def test_no_token_is_still_told_first():
    response = APIClient().get("/api/v2/partner/conversions", {"limt": "5"})

    assert response.status_code == 401
