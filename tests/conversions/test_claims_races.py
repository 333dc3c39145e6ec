"""Racing claims on real PostgreSQL: the unique constraint and the row lock decide."""

import pytest

from conversions.claims.models import Claim, ClaimChange
from conversions.claims.services import accept_claim, decline_claim, file_claim
from conversions.models import Conversion
from conversions.refusals import ConversionRefused
from tests.conversions.claim_helpers import claim_payload
from tests.conversions.test_races import THREADS, _race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_identical_claims_racing_store_one_claim(shop, claim_click):
    payload = claim_payload(claim_click)

    results = _race(lambda _: file_claim(claim_click.partner, payload))

    assert not [result for result in results if isinstance(result, Exception)], results
    assert sorted(result.created for result in results) == [False] * (THREADS - 1) + [True]
    assert {result.claim.pk for result in results} == {Claim.objects.get().pk}
    assert ClaimChange.objects.count() == 1


def test_different_claims_racing_for_one_order_store_one_and_refuse_the_rest(shop, claim_click):
    results = _race(
        lambda index: file_claim(
            claim_click.partner, claim_payload(claim_click, orderSum=2000 + index)
        )
    )

    refused = [result for result in results if isinstance(result, ConversionRefused)]
    assert [refusal.code for refusal in refused] == ["duplicate_conflict"] * (THREADS - 1)
    assert Claim.objects.count() == 1


def test_racing_decisions_decide_a_claim_once(shop, claim_click):
    claim = file_claim(claim_click.partner, claim_payload(claim_click)).claim
    fields = {"event": str(shop.shoes.uuid), "orderSum": 1625, "vatSum": 325}

    def decide(index: int):
        if index % 2:
            return decline_claim(claim, "Returned.", actor="store:Awesome Store")
        return accept_claim(claim, fields, actor="operator:admin")

    results = _race(decide)

    decided = [result for result in results if isinstance(result, Claim)]
    refused = [result for result in results if isinstance(result, ConversionRefused)]
    assert len(decided) == 1
    assert [refusal.code for refusal in refused] == ["claim_not_open"] * (THREADS - 1)
    assert ClaimChange.objects.count() == 2
    stored = Claim.objects.get()
    assert Conversion.objects.count() == (1 if stored.status == "accepted" else 0)
