import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.db import connection
from django.http import HttpResponse
from django.test.client import Client, ClientHandler
from rest_framework.test import APIClient

from clicks.fast_path import ROUTES
from clicks.selectors import forget_click_routes
from clicks.services.partitions import create_click_partitions
from retrack.wsgi import application
from tests.shop import Shop, create_shop
from tests.wsgi import serve


@pytest.fixture(scope="session")
def openapi_document(django_db_blocker) -> dict:
    """The OpenAPI document as a client fetches it, built once per test session."""
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="session", autouse=True)
def click_partitions_ahead(request) -> None:
    """This month's click partition and the next ones (PostgreSQL): a test database that
    --reuse-db kept has only the months its migration made, maybe months ago."""
    if connection.vendor != "postgresql":
        return
    request.getfixturevalue("django_db_setup")
    with request.getfixturevalue("django_db_blocker").unblock():
        create_click_partitions()


@pytest.fixture(autouse=True)
def cold_click_routes():
    """Each test starts without cached programs: the click path caches its lookups."""
    forget_click_routes()
    yield
    forget_click_routes()


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (row locks, concurrent writers); "
        "run with DATABASE_URL=postgres://… as CI does"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


class ProductionRoutingHandler(ClientHandler):
    """Django's test handler, except that the router's paths take gunicorn's way in.

    `retrack.wsgi.application` answers the tracking link and the probes before Django's
    handler, so the test client sends those paths through it too: the tests see exactly
    what a shopper's browser (or a load balancer) gets from production, headers included.
    """

    def __call__(self, environ):
        if environ.get("PATH_INFO") not in ROUTES:
            return super().__call__(environ)
        status, headers, body = serve(application, environ)
        response = HttpResponse(body, status=int(status.split()[0]))
        for name in list(response.headers):
            del response.headers[name]
        for name, value in headers:
            response.headers[name] = value
        # The test client reads the request back from its response.
        response.wsgi_request = WSGIRequest(environ)
        return response


@pytest.fixture
def client():
    """pytest-django's `client`, with the tracking link served as in production."""
    client = Client()
    client.handler = ProductionRoutingHandler(enforce_csrf_checks=False)
    return client


@pytest.fixture
def shop(db) -> Shop:
    """Awesome Store's Swedish program, its events and a click (see tests/shop.py)."""
    return create_shop()
