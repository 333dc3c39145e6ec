"""The mission, end to end in a real browser: partner link → Retrack → store → conversion.

Retrack runs on 127.0.0.1, the demo store on 127.0.0.2 and the partner's page on
127.0.0.3, each on its own port, so every step crosses sites as it does in production.
The store is integrated only through the program's snippets.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar
from urllib.parse import quote

import pytest

from clicks.models import Click
from clicks.selectors import tracking_link
from conversions.models import Conversion
from conversions.tag.snippets import program_snippets
from partners.models import Partner
from stores.models import Program
from stores.services import issue_store_token
from tests.e2e.demo_store import Site, install_store, partner_page, store_program
from tests.factories import (
    AdmissionFactory,
    ClickFactory,
    EventFactory,
    LeadEventFactory,
    PartnerFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

T = TypeVar("T")
REF = "refunder-38315327"


@dataclass
class DemoShop:
    program: Program
    partner: Partner


def _demo_shop(store_site: Site, *, redirect_page: bool) -> DemoShop:
    program = store_program(
        store_site, redirect_page=redirect_page, name="Demo Store SE", currency="SEK"
    )
    EventFactory(program=program, name="Shoes", percent=Decimal("8"))
    EventFactory(program=program, name="Socks", percent=Decimal("5"))
    LeadEventFactory(program=program, name="Newsletter", fixed_amount=4000)
    partner = PartnerFactory(name="Refunder SE")
    AdmissionFactory(partner=partner, program=program)
    install_store(store_site, program)
    return DemoShop(program=program, partner=partner)


def _follow_partner_link(journey, partner_site: Site, shop: DemoShop, deeplink: str) -> None:
    link = tracking_link(shop.partner, shop.program, ref=REF)
    page = journey.page
    page.goto(partner_page(partner_site, f"{link}&deeplink={quote(deeplink, safe='')}"))
    page.click("#shop")


def _eventually(query: Callable[[], T | None], *, seconds: float = 10.0) -> T | None:
    """Poll the database for what the browser's beacon stores, for a bounded time."""
    deadline = time.monotonic() + seconds
    while (result := query()) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return result


def _saved_click(journey, store_site: Site) -> str | None:
    cookies = journey.page.context.cookies(store_site.origin)
    return next((c["value"] for c in cookies if c["name"] == "retrack_click"), None)


def _assert_the_snippets_order(conversion: Conversion, shop: DemoShop, click: Click) -> None:
    # The loader snippet's example order: 250.00 SEK incl. 50.00 VAT; a shoe at 8 % of
    # 120.00 and two pairs of socks at 5 % of 2 × 40.00.
    assert conversion.kind == "transaction"
    assert conversion.source == "script"
    assert (conversion.order_sum, conversion.vat_sum, conversion.commission) == (25000, 5000, 1360)
    assert conversion.currency == "SEK"
    assert conversion.vouchers == ["SUMMER10"]
    assert list(conversion.lines.values_list("event__name", "quantity", "commission")) == [
        ("Shoes", 1, 960),
        ("Socks", 2, 400),
    ]
    assert conversion.click_id == click.uuid
    assert conversion.partner_id == shop.partner.pk
    assert conversion.click.ref == REF


def _order(shop: DemoShop) -> Conversion | None:
    return Conversion.objects.filter(program=shop.program, order_number="100234").first()


def test_a_shopper_buys_through_the_stores_redirect_page(journey, store_site, partner_site):
    # given a program whose store has a redirect page
    shop = _demo_shop(store_site, redirect_page=True)

    # when the shopper follows the partner's link...
    _follow_partner_link(journey, partner_site, shop, deeplink=store_site.url("/product/shoe"))
    journey.page.wait_for_url(store_site.url("/product/shoe"))

    # ...Retrack counted the click and the redirect page saved it before forwarding
    click = Click.objects.get()
    assert (click.ref, click.partner_id) == (REF, shop.partner.pk)
    assert store_site.requested[:2] == ["/retrack", "/product/shoe"]
    assert _saved_click(journey, store_site) == str(click.uuid)

    # ...and buys; the confirmation page reports the order and is left at once
    journey.page.click("#buy")
    journey.page.wait_for_url(store_site.url("/thanks"))

    # then
    conversion = _eventually(lambda: _order(shop))
    assert conversion is not None
    _assert_the_snippets_order(conversion, shop, click)
    assert journey.retrack_url + "/track/v2/conversion" in journey.tag_requests


def test_a_shopper_buys_from_a_store_without_a_redirect_page(journey, store_site, partner_site):
    # given a program without a redirect page: Retrack adds ?click= to the deeplink
    shop = _demo_shop(store_site, redirect_page=False)

    # when the shopper lands on the product page, where the tag saves the click...
    _follow_partner_link(journey, partner_site, shop, deeplink=store_site.url("/product/shoe"))
    click = _eventually(lambda: Click.objects.first())
    assert click is not None
    journey.page.wait_for_url(store_site.url(f"/product/shoe?click={click.uuid}"))
    assert "/retrack" not in store_site.requested
    assert _saved_click(journey, store_site) == str(click.uuid)

    # ...and buys on another page
    journey.page.click("#buy")
    journey.page.wait_for_url(store_site.url("/thanks"))

    # then
    conversion = _eventually(lambda: _order(shop))
    assert conversion is not None
    _assert_the_snippets_order(conversion, shop, click)


def test_a_shopper_signs_up_as_a_lead(journey, store_site, partner_site):
    # given
    shop = _demo_shop(store_site, redirect_page=True)

    # when the shopper lands on the sign-up page and joins
    _follow_partner_link(journey, partner_site, shop, deeplink=store_site.url("/signup"))
    journey.page.wait_for_url(store_site.url("/signup"))
    journey.page.click("#signup")
    journey.page.wait_for_url(store_site.url("/thanks"))

    # then
    conversion = _eventually(
        lambda: Conversion.objects.filter(program=shop.program, reference="signup-5521").first()
    )
    assert conversion is not None
    assert (conversion.kind, conversion.source, conversion.commission) == ("lead", "script", 4000)
    assert conversion.event.name == "Newsletter"
    assert conversion.click.ref == REF


def test_a_visit_without_a_saved_click_reports_nothing(journey, store_site):
    # given a shopper who came to the store on their own
    _demo_shop(store_site, redirect_page=True)

    # when they buy
    journey.page.goto(store_site.url("/order/confirmation"))
    journey.page.wait_for_url(store_site.url("/thanks"))

    # then the tag ran but sent nothing
    assert journey.tag_requests == [journey.retrack_url + "/track/v2/retrack.js"]
    assert _saved_click(journey, store_site) is None
    assert not Conversion.objects.exists()


def test_the_tag_and_the_stores_server_reporting_one_order_store_it_once(
    journey, store_site, partner_site, client
):
    # given the tag has reported the order
    shop = _demo_shop(store_site, redirect_page=True)
    _follow_partner_link(journey, partner_site, shop, deeplink=store_site.url("/product/shoe"))
    journey.page.wait_for_url(store_site.url("/product/shoe"))
    journey.page.click("#buy")
    journey.page.wait_for_url(store_site.url("/thanks"))
    by_tag = _eventually(lambda: _order(shop))
    assert by_tag is not None

    # when the store's server reports the same order through the store API
    _, token = issue_store_token(shop.program.store)
    lines = [
        {"event": str(line.event.uuid), "reference": line.reference, "name": line.name}
        | {"quantity": line.quantity, "price": line.price, "vat": line.vat}
        for line in by_tag.lines.order_by("position")
    ]
    response = client.post(
        "/api/v2/transactions",
        {
            "event": str(by_tag.event.uuid),
            "click": str(by_tag.click_id),
            "orderNumber": "100234",
            "orderSum": 25000,
            "vatSum": 5000,
            "currency": "SEK",
            "products": lines,
            "voucher": "SUMMER10",
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    # then it is the same, single conversion, and the tag came first
    assert response.status_code == 200
    assert response.json()["data"]["uuid"] == str(by_tag.uuid)
    assert response.json()["data"]["source"] == "script"
    assert Conversion.objects.count() == 1


def test_a_browser_without_javascript_reports_through_the_pixel(browser, journey, store_site):
    # given a shopper with a saved click, and a confirmation page whose server fills in
    # the program's noscript pixel from the retrack_click cookie
    shop = _demo_shop(store_site, redirect_page=True)
    click = ClickFactory(program=shop.program, partner=shop.partner, ref=REF)
    snippet = program_snippets(shop.program)["noscript_pixel"]
    pixel = next(line for line in snippet.splitlines() if "kind=transaction" in line)
    store_site.pages["/order/noscript"] = lambda cookies: (
        "<!doctype html><title>Thank you</title>"
        + pixel.replace("CLICK", cookies.get("retrack_click", ""))
        .replace("ORDER_NUMBER", "100235")
        .replace("ORDER_SUM", "12500")
        .replace("VAT_SUM", "2500")
    )
    context = browser.new_context(java_script_enabled=False)
    context.add_cookies(
        [{"name": "retrack_click", "value": str(click.uuid), "url": store_site.origin}]
    )
    page = context.new_page()

    # when the confirmation page loads (its image loads with it)
    with page.expect_response(lambda response: "/track/v2/pixel" in response.url) as pixel_load:
        page.goto(store_site.url("/order/noscript"))

    # then
    assert pixel_load.value.status == 200
    assert pixel_load.value.headers["content-type"] == "image/gif"
    conversion = Conversion.objects.get(order_number="100235")
    assert (conversion.source, conversion.order_sum, conversion.commission) == (
        "pixel",
        12500,
        800,
    )
    context.close()
