import pytest
from django.db import connection

from clicks.selectors import forget_click_routes


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
