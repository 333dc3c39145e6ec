"""The store decides a claim (contract section 10); the partner follows claims and its feed."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conversions.claims.models import Claim, ClaimChange
from conversions.models import Conversion, ConversionChange
from partners.models import WebhookDelivery
from stores.services import issue_store_token
from tests.conversions.claim_helpers import claim_payload, lead_claim_payload, stored_counts
from tests.factories import ClickFactory, ConversionFactory, ProgramFactory, StoreFactory
from tests.partners.helpers import client_for
from tests.partners.webhooks import endpoint_for

pytestmark = pytest.mark.django_db


def _filed(partner_client, payload) -> dict:
    response = partner_client.post("/api/v2/partner/claims", payload, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def _decide(store_client, claim: dict, body: dict):
    return store_client.patch(f"/api/v2/claims/{claim['uuid']}", body, format="json")


def _accept(shop, **overrides) -> dict:
    return {
        "status": "accepted",
        "event": str(shop.shoes.uuid),
        "orderSum": 1625,
        "vatSum": 325,
        **overrides,
    }


def test_a_partner_files_the_store_accepts_and_the_feed_shows_it_created(
    partner_client, store_client, claim_click, shop
):
    # given a claim the store sees among its open claims
    claim = _filed(partner_client, claim_payload(claim_click))
    open_claims = store_client.get("/api/v2/claims", {"status": "open"}).json()["data"]
    assert [item["uuid"] for item in open_claims] == [claim["uuid"]]

    # when the store accepts it
    response = _decide(store_client, claim, _accept(shop))

    # then the conversion is on the claim's click, confirmed by the store, and in the feed
    assert response.status_code == 200
    accepted = response.json()["data"]
    conversion = Conversion.objects.get()
    assert (accepted["status"], accepted["conversion"]) == ("accepted", str(conversion.uuid))
    assert (conversion.source, conversion.click_id, conversion.order_number) == (
        "claim",
        claim_click.uuid,
        "692549563",
    )
    assert (conversion.order_sum, conversion.vat_sum, conversion.commission) == (1625, 325, 104)
    feed = partner_client.get("/api/v2/partner/conversions").json()["data"]
    assert [(item["uuid"], item["change_type"], item["source"]) for item in feed] == [
        (str(conversion.uuid), "created", "claim")
    ]
    assert feed[0]["click"]["ref"] == claim_click.ref
    assert store_client.get("/api/v2/claims", {"status": "open"}).json()["data"] == []


def test_accepting_ignores_the_attribution_window(partner_client, store_client, shop):
    click = ClickFactory(
        program=shop.program,
        partner=shop.click.partner,
        created_at=timezone.now() - timedelta(days=50),
    )
    claim = _filed(
        partner_client,
        claim_payload(click, orderedAt=(click.created_at + timedelta(days=20)).isoformat()),
    )

    response = _decide(store_client, claim, _accept(shop))

    assert response.status_code == 200
    assert Conversion.objects.get().click_id == click.uuid


def test_accepting_a_lead_claim_records_the_lead(partner_client, store_client, claim_click, shop):
    claim = _filed(partner_client, lead_claim_payload(claim_click))

    response = _decide(
        store_client, claim, {"status": "accepted", "event": str(shop.newsletter.uuid)}
    )

    assert response.status_code == 200
    lead = Conversion.objects.get()
    assert (lead.kind, lead.reference, lead.commission) == ("lead", "member-1001", 4000)


def test_accepting_with_product_lines_prices_each_line(
    partner_client, store_client, claim_click, shop
):
    claim = _filed(partner_client, claim_payload(claim_click))
    lines = [
        {"event": str(shop.shoes.uuid), "quantity": 1, "price": 1250, "vat": 250},
        {"event": str(shop.socks.uuid), "quantity": 3, "price": 125, "vat": 25},
    ]

    response = _decide(store_client, claim, _accept(shop, products=lines))

    assert response.status_code == 200
    assert Conversion.objects.get().commission == 118


def test_a_decline_shows_in_the_partners_claims_with_its_reason(
    partner_client, store_client, claim_click
):
    claim = _filed(partner_client, claim_payload(claim_click))
    first_page = partner_client.get("/api/v2/partner/claims").json()

    response = _decide(
        store_client, claim, {"status": "declined", "reason": "The order was returned in full."}
    )

    assert response.status_code == 200
    later = partner_client.get(
        "/api/v2/partner/claims", {"cursor": first_page["next_cursor"]}
    ).json()
    assert [(item["uuid"], item["status"], item["decision_reason"]) for item in later["data"]] == [
        (claim["uuid"], "declined", "The order was returned in full.")
    ]
    assert later["has_more"] is False
    assert stored_counts() == (1, 2, 0, 0)
    history = list(ClaimChange.objects.values_list("action", "actor", "reason"))
    assert history == [
        ("filed", "partner:Refunder SE", ""),
        ("declined", "store:Awesome Store", "The order was returned in full."),
    ]


def test_the_partners_claim_list_pages_in_order_of_latest_change(
    partner_client, store_client, shop
):
    clicks = [
        ClickFactory(
            program=shop.program,
            partner=shop.click.partner,
            created_at=timezone.now() - timedelta(days=2),
        )
        for _ in range(3)
    ]
    claims = [
        _filed(partner_client, claim_payload(click, orderNumber=f"order-{index}"))
        for index, click in enumerate(clicks)
    ]
    _decide(store_client, claims[0], {"status": "declined", "reason": "Cancelled."})

    first = partner_client.get("/api/v2/partner/claims", {"limit": 2}).json()
    second = partner_client.get(
        "/api/v2/partner/claims", {"limit": 2, "cursor": first["next_cursor"]}
    ).json()

    assert [item["uuid"] for item in first["data"]] == [claims[1]["uuid"], claims[2]["uuid"]]
    assert first["has_more"] is True
    assert [(item["uuid"], item["status"]) for item in second["data"]] == [
        (claims[0]["uuid"], "declined")
    ]
    assert second["has_more"] is False


def test_declining_needs_a_reason(partner_client, store_client, claim_click):
    claim = _filed(partner_client, claim_payload(claim_click))
    before = stored_counts()

    response = _decide(store_client, claim, {"status": "declined", "reason": "  "})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"reason": ["must not be empty"]}
    assert stored_counts() == before
    assert Claim.objects.get().status == "open"


@pytest.mark.parametrize(
    ("_case", "body", "fields"),
    [
        ("no status", {"reason": "x"}, {"status": ["must be 'accepted' or 'declined'"]}),
        (
            "no event",
            {"status": "accepted", "orderSum": 1625, "vatSum": 325},
            {"event": ["is required"]},
        ),
        (
            "the click given",
            {"status": "accepted", "event": None, "orderSum": 1, "vatSum": 0, "click": "x"},
            {"event": ["must be a UUID string"], "click": ["is not a known field"]},
        ),
    ],
)
def test_a_malformed_decision_is_refused(
    partner_client, store_client, claim_click, _case, body, fields
):
    claim = _filed(partner_client, claim_payload(claim_click))
    before = stored_counts()

    response = _decide(store_client, claim, body)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == fields
    assert stored_counts() == before


def test_an_acceptance_the_recording_refuses_leaves_the_claim_open(
    partner_client, store_client, claim_click, shop
):
    claim = _filed(partner_client, claim_payload(claim_click))
    before = stored_counts()

    response = _decide(store_client, claim, _accept(shop, event=str(shop.newsletter.uuid)))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "event_invalid"
    assert stored_counts() == before
    assert Claim.objects.get().status == "open"


def test_a_decided_claim_cannot_be_decided_again(partner_client, store_client, claim_click, shop):
    claim = _filed(partner_client, claim_payload(claim_click))
    _decide(store_client, claim, _accept(shop))
    before = stored_counts()

    again = _decide(store_client, claim, {"status": "declined", "reason": "Changed my mind."})

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "claim_not_open"
    assert stored_counts() == before
    assert Claim.objects.get().status == "accepted"


def test_accepting_an_order_tracked_meanwhile_is_refused(
    partner_client, store_client, claim_click, shop
):
    claim = _filed(partner_client, claim_payload(claim_click))
    conversion = ConversionFactory(click=claim_click, order_number="692549563")
    before = stored_counts()

    response = _decide(store_client, claim, _accept(shop))

    assert response.status_code == 409
    assert response.json()["error"]["fields"] == {"conversion": [str(conversion.uuid)]}
    assert stored_counts() == before


def test_another_stores_claim_is_unknown(partner_client, claim_click):
    claim = _filed(partner_client, claim_payload(claim_click))
    other_store = StoreFactory(name="Other store")
    ProgramFactory(store=other_store)
    _, secret = issue_store_token(other_store, "other")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    decided = _decide(other, claim, {"status": "declined", "reason": "Not ours."})
    listed = other.get("/api/v2/claims").json()["data"]
    shown = other.get(f"/api/v2/claims/{claim['uuid']}")

    assert (decided.status_code, listed, shown.status_code) == (404, [], 404)
    assert Claim.objects.get().status == "open"


def test_another_partners_claim_is_unknown(partner_client, claim_click):
    claim = _filed(partner_client, claim_payload(claim_click))
    other = client_for(ClickFactory().partner)

    assert other.get(f"/api/v2/partner/claims/{claim['uuid']}").status_code == 404
    assert other.get("/api/v2/partner/claims").json()["data"] == []
    assert partner_client.get(f"/api/v2/partner/claims/{claim['uuid']}").json()["data"] == claim


def test_the_conversion_history_names_who_accepted(partner_client, store_client, claim_click, shop):
    claim = _filed(partner_client, claim_payload(claim_click))

    _decide(store_client, claim, _accept(shop))

    change = ConversionChange.objects.get()
    assert (change.action, change.actor) == ("created", "store:Awesome Store")


def test_a_feed_cursor_is_not_a_claims_cursor(partner_client, claim_click):
    _filed(partner_client, claim_payload(claim_click))
    feed_cursor = partner_client.get("/api/v2/partner/conversions").json()["next_cursor"]

    response = partner_client.get("/api/v2/partner/claims", {"cursor": feed_cursor})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "cursor_invalid"


def test_a_decision_is_pushed_to_the_partners_webhooks(partner_client, store_client, claim_click):
    endpoint, _ = endpoint_for(claim_click.partner, "https://93.184.215.14/hooks")
    claim = _filed(partner_client, claim_payload(claim_click))
    assert WebhookDelivery.objects.count() == 0

    _decide(store_client, claim, {"status": "declined", "reason": "Returned in full."})

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    body = json.loads(delivery.body)
    shown = partner_client.get(f"/api/v2/partner/claims/{claim['uuid']}").json()["data"]
    assert (delivery.event_type, body["type"], body["data"]) == (
        "claim.declined",
        "claim.declined",
        shown,
    )
