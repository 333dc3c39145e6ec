"""The tag's debug mode in a real browser: the server's verdict printed in the console."""

import time
from decimal import Decimal

import pytest

from conversions.models import Conversion, ReportLogEntry
from tests.e2e.demo_store import install_store, store_program
from tests.factories import ClickFactory, EventFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TAG_READY = "() => typeof window.re === 'function' && !('q' in window.re)"


@pytest.fixture
def store(store_site):
    program = store_program(store_site)
    EventFactory(program=program, name="Shoes", percent=Decimal("8"))
    install_store(store_site, program)
    return program


def _note(messages: list, message) -> None:
    # The tag's own lines only (not, say, the demo store's missing favicon).
    if message.text.startswith("retrack:"):
        messages.append((message.type, message.text))


def _wait_for(page, messages: list, count: int) -> None:
    # Playwright delivers console events only while it is called: wait through it.
    deadline = time.monotonic() + 10
    while len(messages) < count and time.monotonic() < deadline:
        page.wait_for_timeout(50)


def test_debug_mode_prints_the_verdict_of_each_report(journey, store_site, store):
    # given a page with a saved click where the tag has loaded, in debug mode
    click = ClickFactory(program=store)
    cookie = {"name": "retrack_click", "value": str(click.uuid), "url": store_site.origin}
    journey.page.context.add_cookies([cookie])
    messages: list[tuple[str, str]] = []
    journey.page.on("console", lambda message: _note(messages, message))
    journey.page.goto(store_site.url("/"))
    journey.page.wait_for_function(TAG_READY)
    shoes = store.events.get(name="Shoes")
    order = f"event: '{shoes.uuid}', orderSum: 12500, vatSum: 2500"

    # when it reports one good order and one in the wrong currency
    journey.page.evaluate("re('debug', true)")
    journey.page.evaluate(f"re('transaction', {{{order}, orderNumber: 'A-1', currency: 'SEK'}})")
    _wait_for(journey.page, messages, 1)
    journey.page.evaluate(f"re('transaction', {{{order}, orderNumber: 'A-2', currency: 'EUR'}})")
    _wait_for(journey.page, messages, 2)

    # then the console says what became of each, as the report log does
    conversion = Conversion.objects.get()
    assert messages == [
        ("info", f"retrack: created {conversion.uuid}: Stored."),
        (
            "warning",
            "retrack: refused currency_mismatch: The program's currency is SEK, not EUR.",
        ),
    ]
    assert conversion.order_number == "A-1"
    assert list(ReportLogEntry.objects.order_by("uuid").values_list("outcome", "code")) == [
        ("created", None),
        ("refused", "currency_mismatch"),
    ]


def test_the_tag_warns_and_sends_nothing_for_an_amount_that_is_not_an_integer(
    journey, store_site, store
):
    # given a page with a saved click where the tag has loaded
    click = ClickFactory(program=store)
    cookie = {"name": "retrack_click", "value": str(click.uuid), "url": store_site.origin}
    journey.page.context.add_cookies([cookie])
    messages: list[tuple[str, str]] = []
    journey.page.on("console", lambda message: _note(messages, message))
    journey.page.goto(store_site.url("/"))
    journey.page.wait_for_function(TAG_READY)
    shoes = store.events.get(name="Shoes")

    # when the page reports the sum in kronor, not öre
    journey.page.evaluate(
        f"re('transaction', {{event: '{shoes.uuid}', orderNumber: 'B-1', orderSum: 49.90}})"
    )

    # then
    assert messages == [
        ("warning", "retrack: transaction not sent: orderSum must be an integer (minor units)")
    ]
    assert journey.tag_requests == [journey.retrack_url + "/track/v2/retrack.js"]
    assert not ReportLogEntry.objects.exists()
