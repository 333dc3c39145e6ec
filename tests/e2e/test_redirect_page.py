"""The redirect-page snippet in the browser: it saves the click and is no open redirect."""

import pytest

from tests.e2e.demo_store import install_store, store_program
from tests.factories import EventFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CLICK = "0190b8e4-5a1c-7d3e-8f00-123456789abc"


@pytest.fixture
def store(store_site):
    program = store_program(store_site)
    EventFactory(program=program)
    install_store(store_site, program)
    return program


def _open_redirect_page(journey, store_site, deeplink: str) -> None:
    journey.page.goto(store_site.url(f"/retrack?click={CLICK}&deeplink={deeplink}"))


def _saved_click(journey, store_site) -> str | None:
    cookies = journey.page.context.cookies(store_site.origin)
    return next((c["value"] for c in cookies if c["name"] == "retrack_click"), None)


@pytest.mark.parametrize(
    ("_case", "deeplink", "landing"),
    [
        ("absolute, own host", "{origin}/product/shoe%3Fsize%3D42", "/product/shoe?size=42"),
        ("relative", "%2Fsignup", "/signup"),
    ],
)
def test_it_saves_the_click_and_forwards_to_the_stores_own_page(
    journey, store_site, store, _case, deeplink, landing
):
    # when
    _open_redirect_page(journey, store_site, deeplink.format(origin=store_site.origin))

    # then
    journey.page.wait_for_url(store_site.url(landing))
    assert _saved_click(journey, store_site) == CLICK


@pytest.mark.parametrize(
    ("_case", "deeplink"),
    [
        ("another site", "https%3A%2F%2Fevil.example%2F"),
        ("protocol-relative", "%2F%2Fevil.example%2F"),
        ("backslashes", "https%3A%5C%5Cevil.example"),
        ("look-alike host", "http%3A%2F%2F127.0.0.2.evil.example%2F"),
        ("credentials", "http%3A%2F%2F127.0.0.2%40evil.example%2F"),
        ("another port", "http%3A%2F%2F127.0.0.2%3A9%2F"),
        ("script", "javascript%3Aalert(1)"),
        ("none", ""),
    ],
)
def test_it_forwards_anything_else_to_the_landing_page(journey, store_site, store, _case, deeplink):
    # when
    _open_redirect_page(journey, store_site, deeplink)

    # then
    journey.page.wait_for_url(store_site.url("/"))
    assert _saved_click(journey, store_site) == CLICK


def test_it_saves_no_malformed_click(journey, store_site, store):
    # when
    journey.page.goto(store_site.url("/retrack?click=x%3B%20domain%3Devil.example&deeplink=%2F"))

    # then
    journey.page.wait_for_url(store_site.url("/"))
    assert journey.page.context.cookies() == []
