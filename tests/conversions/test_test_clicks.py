"""Test clicks (contract section 8): made by a store token, their conversions are tests."""

from urllib.parse import parse_qs, urlsplit

from clicks.models import Click
from conversions.models import Conversion, ConversionChange
from conversions.services import sequence_committed_changes
from partners.models import Partner
from partners.selectors import partner_feed_page
from tests.factories import ProgramFactory
from tests.shop import transaction_payload


def _test_click(store_client, **body):
    return store_client.post("/api/v2/test-clicks", body, format="json")


def test_it_makes_a_test_click_and_answers_where_the_link_would_send_the_shopper(
    shop, store_client
):
    response = _test_click(
        store_client, program=str(shop.program.uuid), deeplink="https://www.store.example/shoes"
    )

    assert response.status_code == 201
    data = response.json()["data"]
    click = Click.objects.get(pk=data["uuid"])
    assert data["test"] is True
    assert click.test is True
    assert click.program == shop.program
    assert click.partner.name == "Retrack integration test"
    url = urlsplit(data["url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == shop.program.redirect_page_url
    assert parse_qs(url.query) == {
        "click": [data["uuid"]],
        "deeplink": ["https://www.store.example/shoes"],
    }


def test_a_test_click_ignores_a_deeplink_off_the_programs_domains(shop, store_client):
    response = _test_click(
        store_client, program=str(shop.program.uuid), deeplink="https://evil.example/"
    )

    assert response.status_code == 201
    query = parse_qs(urlsplit(response.json()["data"]["url"]).query)
    assert query["deeplink"] == [shop.program.landing_url]


def test_it_refuses_a_test_click_on_another_stores_program(shop, store_client):
    clicks_before = Click.objects.count()

    response = _test_click(store_client, program=str(ProgramFactory().uuid))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "program_not_found"
    assert response.json()["error"]["fields"] == {"program": ["is not one of your programs"]}
    assert Click.objects.count() == clicks_before


def test_it_refuses_a_test_click_without_a_program(shop, store_client):
    clicks_before = Click.objects.count()

    response = _test_click(store_client, deeplink="https://www.store.example/")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["fields"]) == ["program"]
    assert Click.objects.count() == clicks_before


def test_a_conversion_on_a_test_click_is_a_test_and_never_reaches_a_partner(shop, store_client):
    click = _test_click(store_client, program=str(shop.program.uuid)).json()["data"]["uuid"]

    response = store_client.post(
        "/api/v2/transactions", transaction_payload(shop, click=click), format="json"
    )

    assert response.status_code == 201
    assert response.json()["data"]["test"] is True
    assert response.json()["data"]["commission"] == 118  # priced as any other
    conversion = Conversion.objects.get()
    assert conversion.test is True
    assert ConversionChange.objects.get().test is True
    sequence_committed_changes()
    for partner in Partner.objects.all():
        assert partner_feed_page(partner, after_sequence=0, limit=10).snapshots == []


def test_a_test_order_never_blocks_the_real_order_with_the_same_number(shop, store_client):
    click = _test_click(store_client, program=str(shop.program.uuid)).json()["data"]["uuid"]
    test = store_client.post(
        "/api/v2/transactions", transaction_payload(shop, click=click), format="json"
    )

    real = store_client.post("/api/v2/transactions", transaction_payload(shop), format="json")
    sequence_committed_changes()

    assert test.status_code == 201
    assert real.status_code == 201
    assert real.json()["data"]["test"] is False
    assert real.json()["data"]["uuid"] != test.json()["data"]["uuid"]
    feed = partner_feed_page(shop.click.partner, after_sequence=0, limit=10)
    assert len(feed.snapshots) == 1
    assert real.json()["data"]["uuid"] in feed.snapshots[0]
