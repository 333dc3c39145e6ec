"""A partner files a claim for a missed order (contract section 10): answers and refusals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversions.claims.models import Claim, ClaimChange
from conversions.claims.services import decline_claim
from tests.conversions.claim_helpers import claim_payload, lead_claim_payload, stored_counts
from tests.factories import ClickFactory, ConversionFactory, PartnerFactory, ProgramFactory

pytestmark = pytest.mark.django_db

CLAIMS = "/api/v2/partner/claims"


def _file(client, payload):
    return client.post(CLAIMS, payload, format="json")


def test_it_files_a_claim_and_answers_it_open(partner_client, claim_click, shop):
    response = _file(partner_client, claim_payload(claim_click))

    assert response.status_code == 201
    claim = Claim.objects.get()
    body = response.json()["data"]
    assert response["Location"] == f"{CLAIMS}/{claim.uuid}"
    assert body == {
        "uuid": str(claim.uuid),
        "status": "open",
        "kind": "transaction",
        "program": {"uuid": str(shop.program.uuid), "name": "Awesome Store SE"},
        "publisher": {"uuid": str(claim_click.partner.uuid), "name": "Refunder SE"},
        "click": str(claim_click.uuid),
        "order_number": "692549563",
        "order_sum": 1625,
        "vat_sum": 325,
        "currency": "SEK",
        "ordered_at": (claim_click.created_at + timedelta(hours=1))
        .isoformat()
        .replace("+00:00", "Z"),
        "note": "Paid by invoice.",
        "decision_reason": "",
        "conversion": None,
        "change": claim.sequence,
        "created_at": claim.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": claim.updated_at.isoformat().replace("+00:00", "Z"),
    }
    history = ClaimChange.objects.get()
    assert (history.action, history.actor) == ("filed", "partner:Refunder SE")


def test_it_files_a_lead_claim(partner_client, claim_click):
    response = _file(partner_client, lead_claim_payload(claim_click))

    assert response.status_code == 201
    body = response.json()["data"]
    assert (body["kind"], body["reference"], body["order_sum"]) == ("lead", "member-1001", None)
    assert "order_number" not in body


def test_the_same_claim_again_answers_the_stored_claim(partner_client, claim_click):
    first = _file(partner_client, claim_payload(claim_click))

    again = _file(partner_client, claim_payload(claim_click, note="Sent again by our retry."))

    assert again.status_code == 200
    assert again.json() == first.json()
    assert stored_counts() == (1, 1, 0, 0)


def test_the_same_claim_after_a_decline_answers_the_declined_claim(partner_client, claim_click):
    _file(partner_client, claim_payload(claim_click))
    decline_claim(Claim.objects.get(), "Returned in full.", actor="store:Awesome Store")

    again = _file(partner_client, claim_payload(claim_click))

    assert again.status_code == 200
    assert (again.json()["data"]["status"], again.json()["data"]["decision_reason"]) == (
        "declined",
        "Returned in full.",
    )
    assert stored_counts() == (1, 2, 0, 0)


def test_a_different_claim_for_the_same_order_is_refused(partner_client, claim_click):
    _file(partner_client, claim_payload(claim_click))
    before = stored_counts()

    response = _file(partner_client, claim_payload(claim_click, orderSum=9999))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "duplicate_conflict"
    assert response.json()["error"]["fields"] == {
        "orderNumber": ["has a claim already, with different data"]
    }
    assert stored_counts() == before
    assert Claim.objects.get().order_sum == 1625


def test_it_refuses_an_unknown_click(partner_client, claim_click):
    payload = claim_payload(claim_click, click="019a6f52-1c3d-7b4e-9f20-3a4b5c6d7e8f")

    response = _file(partner_client, payload)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "click_not_found"
    assert response.json()["error"]["fields"] == {"click": ["is not a known click"]}
    assert stored_counts() == (0, 0, 0, 0)


def test_it_refuses_another_partners_click(partner_client, shop):
    click = ClickFactory(program=shop.program, partner=PartnerFactory(name="Other cashback"))

    response = _file(partner_client, claim_payload(click))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "click_not_yours"
    assert stored_counts() == (0, 0, 0, 0)


def test_it_refuses_a_click_of_another_program(partner_client, claim_click):
    other = ProgramFactory(store=claim_click.program.store, name="Awesome Store NO")

    response = _file(partner_client, claim_payload(claim_click, program=str(other.uuid)))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "click_not_yours"
    assert stored_counts() == (0, 0, 0, 0)


def test_it_refuses_an_order_placed_before_the_click(partner_client, claim_click):
    ordered_at = (claim_click.created_at - timedelta(minutes=1)).isoformat()

    response = _file(partner_client, claim_payload(claim_click, orderedAt=ordered_at))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "click_expired"
    assert response.json()["error"]["fields"] == {
        "orderedAt": ["is before the click or past its attribution window"]
    }
    assert stored_counts() == (0, 0, 0, 0)


def test_it_refuses_an_order_placed_past_the_attribution_window(partner_client, shop):
    click = ClickFactory(
        program=shop.program,
        partner=shop.click.partner,
        created_at=timezone.now() - timedelta(days=40),
    )
    ordered_at = (click.created_at + timedelta(days=30, minutes=1)).isoformat()

    response = _file(partner_client, claim_payload(click, orderedAt=ordered_at))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "click_expired"
    assert stored_counts() == (0, 0, 0, 0)


def test_it_refuses_a_claim_past_the_programs_claim_period(partner_client, shop):
    shop.program.claim_days = 20
    shop.program.save()
    click = ClickFactory(
        program=shop.program,
        partner=shop.click.partner,
        created_at=timezone.now() - timedelta(days=22),
    )
    ordered_at = (click.created_at + timedelta(days=1, minutes=1)).isoformat()

    response = _file(partner_client, claim_payload(click, orderedAt=ordered_at))

    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "claim_too_late",
        "message": "The program takes claims up to 20 days after the order.",
        "fields": {"orderedAt": ["is more than 20 days ago"]},
    }
    assert stored_counts() == (0, 0, 0, 0)


def test_the_claim_period_is_ninety_days_by_default(partner_client, shop):
    shop.program.attribution_days = 365
    shop.program.save()
    click = ClickFactory(
        program=shop.program,
        partner=shop.click.partner,
        created_at=timezone.now() - timedelta(days=100),
    )
    within = (timezone.now() - timedelta(days=89)).isoformat()
    past = (timezone.now() - timedelta(days=91)).isoformat()

    too_late = _file(partner_client, claim_payload(click, orderedAt=past))
    in_time = _file(partner_client, claim_payload(click, orderedAt=within))

    assert (too_late.status_code, in_time.status_code) == (422, 201)
    assert too_late.json()["error"]["code"] == "claim_too_late"


def test_it_refuses_an_order_the_program_has_tracked(partner_client, claim_click):
    conversion = ConversionFactory(click=claim_click, order_number="692549563")
    before = stored_counts()

    response = _file(partner_client, claim_payload(claim_click))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_tracked"
    assert response.json()["error"]["fields"] == {"conversion": [str(conversion.uuid)]}
    assert stored_counts() == before


def test_it_refuses_another_currency(partner_client, claim_click):
    response = _file(partner_client, claim_payload(claim_click, currency="NOK"))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "currency_mismatch"
    assert stored_counts() == (0, 0, 0, 0)


def test_it_refuses_an_order_in_the_future(partner_client, claim_click):
    ordered_at = (timezone.now() + timedelta(hours=1)).isoformat()

    response = _file(partner_client, claim_payload(claim_click, orderedAt=ordered_at))

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"orderedAt": ["must not be in the future"]}
    assert stored_counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("_case", "changes", "fields"),
    [
        ("no kind", {"kind": None}, {"kind": ["must be 'transaction' or 'lead'"]}),
        (
            "an amount as text",
            {"orderSum": "16.25"},
            {"orderSum": ["must be an integer (minor units)"]},
        ),
        ("VAT above the sum", {"vatSum": 2000}, {"vatSum": ["must not be more than the orderSum"]}),
        (
            "a time without offset",
            {"orderedAt": "2026-11-20T14:03:00"},
            {
                "orderedAt": [
                    "must be an ISO-8601 date-time with an offset, e.g. 2026-11-20T14:03:00Z"
                ]
            },
        ),
        ("an unknown field", {"shopper": "x"}, {"shopper": ["is not a known field"]}),
        ("a missing order number", {"orderNumber": None}, {"orderNumber": ["is required"]}),
    ],
)
def test_it_refuses_a_malformed_claim_naming_the_field(
    partner_client, claim_click, _case, changes, fields
):
    payload = claim_payload(claim_click, **changes)

    response = _file(partner_client, payload)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["fields"] == fields
    assert stored_counts() == (0, 0, 0, 0)


def test_a_store_token_is_refused(store_client, claim_click):
    response = _file(store_client, claim_payload(claim_click))

    assert response.status_code == 403
    assert stored_counts() == (0, 0, 0, 0)
