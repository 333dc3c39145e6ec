"""The tag's own behaviour in the browser: the cookie, direct calls, and bad arguments."""

import time
from decimal import Decimal

import pytest

from conversions.models import Conversion
from tests.e2e.demo_store import install_store, store_program
from tests.factories import ClickFactory, EventFactory, LeadEventFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TEN_DAYS = 10 * 86400
TAG_READY = "() => typeof window.re === 'function' && !('q' in window.re)"


@pytest.fixture
def store(store_site):
    program = store_program(store_site)
    EventFactory(program=program, name="Shoes", percent=Decimal("8"))
    LeadEventFactory(program=program, name="Newsletter", fixed_amount=4000)
    install_store(store_site, program)
    return program


def _console(page) -> tuple[list[str], list[str]]:
    warnings: list[str] = []
    errors: list[str] = []
    # The tag's own lines only: the browser's own (a missing favicon's 404) come and go.
    page.on(
        "console",
        lambda message: message.text.startswith("retrack:") and warnings.append(message.text),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return warnings, errors


def test_it_saves_the_click_parameter_in_a_ten_day_first_party_cookie(journey, store_site, store):
    # given a click in the landing page's address, in capitals
    click = ClickFactory(program=store)

    # when
    journey.page.goto(store_site.url(f"/?click={str(click.uuid).upper()}"))
    journey.page.wait_for_function(TAG_READY)

    # then
    (cookie,) = journey.page.context.cookies(store_site.origin)
    assert (cookie["name"], cookie["value"]) == ("retrack_click", str(click.uuid))
    assert (cookie["path"], cookie["sameSite"], cookie["secure"]) == ("/", "Lax", False)
    assert cookie["domain"] == "127.0.0.2"
    # max-age=864000, read back a moment later (Chromium keeps sub-second expiry times)
    assert TEN_DAYS - 60 < cookie["expires"] - time.time() <= TEN_DAYS + 1


def test_it_ignores_a_malformed_click_parameter(journey, store_site, store):
    # given
    warnings, errors = _console(journey.page)

    # when
    journey.page.goto(store_site.url("/?click=1%27;alert(1)//"))
    journey.page.wait_for_function(TAG_READY)

    # then
    assert journey.page.context.cookies(store_site.origin) == []
    assert warnings == ["retrack: ignored a malformed click parameter"]
    assert errors == []


def test_a_call_after_the_tag_has_loaded_is_sent_at_once(journey, store_site, store):
    # given a shopper with a saved click on a page where the tag has loaded
    click = ClickFactory(program=store)
    cookie = {"name": "retrack_click", "value": str(click.uuid), "url": store_site.origin}
    journey.page.context.add_cookies([cookie])
    warnings, _ = _console(journey.page)
    journey.page.goto(store_site.url("/"))
    journey.page.wait_for_function(TAG_READY)
    newsletter = store.events.get(name="Newsletter")

    # when the page reports a lead directly, with a field leads do not have
    journey.page.evaluate(
        f"re('lead', {{event: '{newsletter.uuid}', reference: 'direct-1', color: 'red'}})"
    )

    # then
    deadline = time.monotonic() + 10
    while not Conversion.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    conversion = Conversion.objects.get()
    assert (conversion.reference, conversion.click_id, conversion.source) == (
        "direct-1",
        click.uuid,
        "script",
    )
    assert warnings == ['retrack: lead: ignored the unknown field "color"']


def test_bad_arguments_are_warned_about_and_never_thrown(journey, store_site, store):
    # given a page with a saved click where the tag has loaded
    click = ClickFactory(program=store)
    cookie = {"name": "retrack_click", "value": str(click.uuid), "url": store_site.origin}
    journey.page.context.add_cookies([cookie])
    warnings, errors = _console(journey.page)
    journey.page.goto(store_site.url("/"))
    journey.page.wait_for_function(TAG_READY)

    # when the store's page makes mistakes
    returned = journey.page.evaluate(
        """() => [
            re("refund", {orderNumber: "1"}),
            re("transaction"),
            re("transaction", [1, 2]),
            re("lead", {reference: "no-event"}),
            re("transaction", {event: "e", orderNumber: "1", get orderSum() { throw "boom"; }}),
        ]"""
    )

    # then each is explained in the console, nothing is thrown, nothing is stored
    assert returned == [None] * 5
    assert warnings == [
        'retrack: unknown command "refund"; use "transaction" or "lead"',
        "retrack: transaction needs an object of fields",
        "retrack: transaction needs an object of fields",
        'retrack: lead needs "event" and "reference"',
        "retrack: transaction was not sent: boom",
    ]
    assert errors == []
    assert journey.tag_requests == [journey.retrack_url + "/track/v2/retrack.js"]
    assert not Conversion.objects.exists()
