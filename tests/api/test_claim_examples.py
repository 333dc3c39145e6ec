"""The claim calls' documented examples, sent to a real server, get their documented answers."""
# ruff: noqa: F811 (pytest fixtures imported from the store examples' test are parameters here)

import pytest

from partners.services import issue_partner_token
from tests.api.test_documented_examples import (  # noqa: F401 (fixtures)
    _client,
    _examples,
    _request_examples,
    document,
    documented_shop,
    store_client,
)

pytestmark = pytest.mark.django_db

# What only the server knows: the claim's and conversion's UUIDs, times and change number.
_SERVERS_OWN = ("uuid", "conversion", "change", "created_at", "updated_at", "ordered_at")


def _comparable(claim: dict) -> dict:
    return {key: value for key, value in claim.items() if key not in _SERVERS_OWN}


@pytest.fixture
def filed(document, documented_shop) -> tuple:
    """The documented claim, filed by the documented partner, as the server answered it."""
    click = documented_shop.claims.model.click.field.related_model.objects.get()
    operation = document["paths"]["/api/v2/partner/claims"]["post"]
    body = dict(_request_examples(operation)["AMissedOrder"])
    # The documented order time, moved to just after this test's click.
    body["orderedAt"] = click.created_at.isoformat()
    partner = _client(issue_partner_token(click.partner, "claims")[1])
    response = partner.post("/api/v2/partner/claims", body, format="json")
    return operation, response


def test_the_documented_claim_is_filed_as_documented(filed):
    operation, response = filed

    assert response.status_code == 201
    documented = _examples(operation, "201")["Filed"]["data"]
    assert _comparable(response.json()["data"]) == _comparable(documented)


@pytest.mark.parametrize(("example", "answer"), [("Accept", "Accepted"), ("Decline", None)])
def test_the_documented_decisions_get_their_documented_answers(
    document, filed, store_client, example, answer
):
    claim = filed[1].json()["data"]
    operation = document["paths"]["/api/v2/claims/{uuid}"]["patch"]

    response = store_client.patch(
        f"/api/v2/claims/{claim['uuid']}", _request_examples(operation)[example], format="json"
    )

    assert response.status_code == 200
    data = response.json()["data"]
    if answer is None:
        assert (data["status"], data["decision_reason"]) == (
            "declined",
            "The order was returned in full.",
        )
    else:
        assert _comparable(data) == _comparable(_examples(operation, "200")[answer]["data"])
        assert data["conversion"] is not None
