"""Operators see open claims by age and decide them on the store's behalf."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversions.claims.models import Claim, ClaimChange
from conversions.claims.services import decline_claim, file_claim
from conversions.models import Conversion, ConversionChange
from tests.conversions.claim_helpers import claim_payload, stored_counts
from tests.factories import ClickFactory, EventFactory, ProgramFactory

pytestmark = pytest.mark.django_db

CLAIMS = "/admin/conversions/claim/"


def _claim(program, order_number: str, days_ago: int = 3) -> Claim:
    click = ClickFactory(program=program, created_at=timezone.now() - timedelta(days=days_ago))
    return file_claim(click.partner, claim_payload(click, orderNumber=order_number)).claim


@pytest.fixture
def program():
    return ProgramFactory(name="Awesome Store SE")


def test_the_list_shows_open_claims_oldest_first(operator_client, program):
    newer = _claim(program, "order-new", days_ago=1)
    older = _claim(program, "order-old", days_ago=5)
    Claim.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=2))
    declined = _claim(program, "order-declined")
    decline_claim(declined, "No such order.", actor="store:Awesome Store")

    response = operator_client.get(CLAIMS)

    assert response.status_code == 200
    assert [claim.pk for claim in response.context["cl"].result_list] == [older.pk, newer.pk]
    everything = operator_client.get(CLAIMS, {"status": "all"})
    assert len(everything.context["cl"].result_list) == 3


def test_an_operator_accepts_a_claim_for_the_store(operator_client, program):
    event = EventFactory(program=program, name="Shoes")
    claim = _claim(program, "692549563")

    response = operator_client.post(
        f"{CLAIMS}{claim.pk}/decide/",
        {"decision": "accept", "event": event.pk, "order_sum": 1625, "vat_sum": 325},
    )

    assert response.status_code == 302
    claim.refresh_from_db()
    conversion = Conversion.objects.get()
    assert (claim.status, claim.conversion_id) == ("accepted", conversion.pk)
    assert (conversion.source, conversion.order_sum, conversion.commission) == ("claim", 1625, 104)
    assert ClaimChange.objects.filter(action="accepted").get().actor == "operator:olivia"
    assert ConversionChange.objects.get().actor == "operator:olivia"


def test_an_operator_declines_with_a_reason(operator_client, program):
    claim = _claim(program, "692549563")

    operator_client.post(
        f"{CLAIMS}{claim.pk}/decide/", {"decision": "decline", "reason": "Returned in full."}
    )

    claim.refresh_from_db()
    assert (claim.status, claim.decision_reason) == ("declined", "Returned in full.")


def test_declining_without_a_reason_changes_nothing(operator_client, program):
    claim = _claim(program, "692549563")
    before = stored_counts()

    response = operator_client.post(f"{CLAIMS}{claim.pk}/decide/", {"decision": "decline"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": ["Give the reason: the partner sees it."]}
    assert stored_counts() == before


def test_a_refused_acceptance_is_shown_and_changes_nothing(operator_client, program):
    claim = _claim(program, "692549563")
    decline_claim(claim, "Cancelled.", actor="store:Awesome Store")
    event = EventFactory(program=program)
    before = stored_counts()

    response = operator_client.post(
        f"{CLAIMS}{claim.pk}/decide/",
        {"decision": "accept", "event": event.pk, "order_sum": 1625, "vat_sum": 325},
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The claim was already declined; a decided claim cannot be decided again."
    ]
    assert stored_counts() == before


def test_support_staff_cannot_decide(support_client, program):
    claim = _claim(program, "692549563")

    response = support_client.post(
        f"{CLAIMS}{claim.pk}/decide/", {"decision": "decline", "reason": "x"}
    )

    assert response.status_code == 403
    assert Claim.objects.get().status == "open"
    assert support_client.get(f"{CLAIMS}{claim.pk}/change/").status_code == 200
