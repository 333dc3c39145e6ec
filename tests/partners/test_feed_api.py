import base64
import json

import pytest
from django.core import signing
from rest_framework.test import APIClient

from conversions.models import ChangeAction, ChangeCounter, ConversionChange
from partners.api.cursors import CURSOR_INVALID_MESSAGE, encode_feed_cursor
from partners.services import issue_partner_token, revoke_partner_token
from stores.services import issue_store_token
from tests.factories import (
    ClickFactory,
    ConversionFactory,
    PartnerFactory,
    ProductLineFactory,
    StoreFactory,
)
from tests.partners.helpers import client_for, feed, record, record_many

pytestmark = pytest.mark.django_db

CURSOR_INVALID = {
    "error": {
        "code": "cursor_invalid",
        "message": CURSOR_INVALID_MESSAGE,
        "fields": {"cursor": [CURSOR_INVALID_MESSAGE]},
    }
}


def conversion_of(partner, **fields):
    return ConversionFactory(click=ClickFactory(partner=partner), **fields)


def feed_with_header(authorization: str | None):
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return feed(client)


def sequences(response) -> list[int]:
    return [item["change"] for item in response.json()["data"]]


def test_it_returns_every_change_oldest_first_as_the_stored_snapshot():
    partner = PartnerFactory(name="Refunder SE")
    conversion = conversion_of(partner, order_number="692549563", order_sum=10100, vat_sum=2020)
    ProductLineFactory(conversion=conversion, position=0, price=10100, vat=2020)
    created = record(conversion)
    amended = record(conversion, ChangeAction.AMENDED, order_sum=5050, vat_sum=1010)
    rejected = record(
        conversion, ChangeAction.REJECTED, status="rejected", status_reason="Order cancelled"
    )

    response = feed(client_for(partner))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["data"] == [created.snapshot, amended.snapshot, rejected.snapshot]
    assert [item["change"] for item in body["data"]] == [
        created.sequence,
        amended.sequence,
        rejected.sequence,
    ]
    assert [item["status"] for item in body["data"]] == ["pending", "pending", "rejected"]
    assert [item["order_sum"] for item in body["data"]] == [10100, 5050, 5050]
    assert body["data"][0]["click"]["ref"] == conversion.click.ref
    assert body["data"][0]["products"][0]["price"] == 10100
    assert body["data"][2]["reason"] == "Order cancelled"
    assert body["has_more"] is False
    assert body["next_cursor"] == encode_feed_cursor(partner, rejected.sequence)


def test_it_pages_with_next_cursor_until_has_more_is_false():
    partner = PartnerFactory()
    changes = [record(conversion_of(partner)) for _ in range(5)]
    client = client_for(partner)

    first = feed(client, limit=2)
    second = feed(client, limit=2, cursor=first.json()["next_cursor"])
    third = feed(client, limit=2, cursor=second.json()["next_cursor"])

    expected = [change.sequence for change in changes]
    assert sequences(first) == expected[0:2]
    assert sequences(second) == expected[2:4]
    assert sequences(third) == expected[4:5]
    assert [page.json()["has_more"] for page in (first, second, third)] == [True, True, False]


def test_a_page_that_ends_exactly_at_the_last_change_says_there_is_no_more():
    partner = PartnerFactory()
    changes = [record(conversion_of(partner)) for _ in range(2)]

    response = feed(client_for(partner), limit=2)

    assert sequences(response) == [change.sequence for change in changes]
    assert response.json()["has_more"] is False


def test_an_up_to_date_poller_keeps_its_place_and_then_gets_only_what_is_new():
    partner = PartnerFactory()
    conversion = conversion_of(partner)
    created = record(conversion)
    client = client_for(partner)
    drained = feed(client).json()

    idle = feed(client, cursor=drained["next_cursor"]).json()
    approved = record(conversion, ChangeAction.APPROVED, status="approved")
    later = feed(client, cursor=idle["next_cursor"]).json()

    assert drained["next_cursor"] == encode_feed_cursor(partner, created.sequence)
    assert idle == {"data": [], "next_cursor": drained["next_cursor"], "has_more": False}
    assert [item["change"] for item in later["data"]] == [approved.sequence]
    assert later["data"][0]["status"] == "approved"
    assert later["next_cursor"] == encode_feed_cursor(partner, approved.sequence)


def test_an_empty_feed_answers_a_cursor_at_the_start():
    partner = PartnerFactory()

    response = feed(client_for(partner))

    assert response.status_code == 200
    assert response.json() == {
        "data": [],
        "next_cursor": encode_feed_cursor(partner, 0),
        "has_more": False,
    }


def test_an_empty_cursor_reads_from_the_first_change():
    partner = PartnerFactory()
    changes = [record(conversion_of(partner)) for _ in range(3)]

    response = feed(client_for(partner), cursor="")

    assert sequences(response) == [change.sequence for change in changes]


def test_a_partner_sees_only_its_own_conversions():
    partner = PartnerFactory(name="Refunder SE")
    other = PartnerFactory(name="Refunder NO")
    own_first = record(conversion_of(partner))
    record(conversion_of(other))
    own_second = record(conversion_of(partner))
    record(conversion_of(other))

    response = feed(client_for(partner))

    assert sequences(response) == [own_first.sequence, own_second.sequence]
    assert {item["publisher"]["name"] for item in response.json()["data"]} == {"Refunder SE"}


def test_it_refuses_the_cursor_of_another_partner():
    partner = PartnerFactory()
    other = PartnerFactory()
    record(conversion_of(partner))
    others_cursor = feed(client_for(other)).json()["next_cursor"]

    response = feed(client_for(partner), cursor=others_cursor)

    assert response.status_code == 400
    assert response.json() == CURSOR_INVALID


def _altered_sequence(cursor: str) -> str:
    payload, signature = cursor.split(":")
    value = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    value["s"] = 0
    forged = base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode())
    return forged.decode().rstrip("=") + ":" + signature


def _other_signature(cursor: str) -> str:
    payload, signature = cursor.split(":")
    return payload + ":" + ("A" if signature[0] != "A" else "B") + signature[1:]


def _signed_with_another_salt(partner) -> str:
    return signing.Signer(salt="elsewhere", algorithm="sha256").sign_object(
        {"p": partner.uuid.hex, "s": 0}
    )


@pytest.mark.parametrize(
    "make_cursor",
    [
        pytest.param(lambda partner, cursor: _altered_sequence(cursor), id="altered sequence"),
        pytest.param(lambda partner, cursor: _other_signature(cursor), id="altered signature"),
        pytest.param(lambda partner, cursor: cursor.split(":")[0], id="signature removed"),
        pytest.param(lambda partner, cursor: _signed_with_another_salt(partner), id="other salt"),
        pytest.param(lambda partner, cursor: "1042", id="a bare number"),
        pytest.param(lambda partner, cursor: "not a cursor: ÅÄÖ", id="garbage"),
        pytest.param(lambda partner, cursor: cursor + "x" * 300, id="too long"),
    ],
)
def test_it_refuses_a_malformed_or_altered_cursor(make_cursor):
    partner = PartnerFactory()
    record(conversion_of(partner))
    record(conversion_of(partner))
    client = client_for(partner)
    cursor = feed(client, limit=1).json()["next_cursor"]
    counter_before = ChangeCounter.objects.get(pk=1).last_sequence

    response = feed(client, cursor=make_cursor(partner, cursor))

    assert response.status_code == 400
    assert response.json() == CURSOR_INVALID
    assert ChangeCounter.objects.get(pk=1).last_sequence == counter_before
    assert ConversionChange.objects.count() == 2


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        ("0", "Ensure this value is greater than or equal to 1."),
        ("-5", "Ensure this value is greater than or equal to 1."),
        ("1001", "Ensure this value is less than or equal to 1000."),
        ("ten", "A valid integer is required."),
        ("2.5", "A valid integer is required."),
    ],
)
def test_it_refuses_a_limit_outside_1_to_1000(limit, message):
    partner = PartnerFactory()
    record(conversion_of(partner))

    response = feed(client_for(partner), limit=limit)

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "The request has invalid fields: limit.",
            "fields": {"limit": [message]},
        }
    }
    assert ConversionChange.objects.count() == 1


def test_it_returns_100_changes_by_default_and_up_to_1000():
    partner = PartnerFactory()
    record_many(conversion_of(partner), 1001)
    client = client_for(partner)

    default_page = feed(client)
    largest_page = feed(client, limit=1000)
    smallest_page = feed(client, limit=1)

    assert len(default_page.json()["data"]) == 100
    assert default_page.json()["has_more"] is True
    assert len(largest_page.json()["data"]) == 1000
    assert largest_page.json()["has_more"] is True
    assert len(smallest_page.json()["data"]) == 1


def test_an_empty_limit_means_the_default_of_100():
    partner = PartnerFactory()
    record_many(conversion_of(partner), 101)

    response = feed(client_for(partner), limit="")

    assert len(response.json()["data"]) == 100


def test_it_reads_a_page_in_four_queries_however_many_items(django_assert_max_num_queries):
    partner = PartnerFactory()
    for _ in range(30):
        conversion = conversion_of(partner)
        ProductLineFactory(conversion=conversion, position=0)
        ProductLineFactory(conversion=conversion, position=1)
        record(conversion)
        record(conversion, ChangeAction.APPROVED, status="approved")
    client = client_for(partner)

    # The token lookup, its last-used stamp, the sequencer's look for anything to number
    # (nothing: it stops there), and the page itself.
    with django_assert_max_num_queries(4):
        response = feed(client, limit=1000)

    assert len(response.json()["data"]) == 60


def test_it_refuses_a_store_token_with_403():
    _, secret = issue_store_token(StoreFactory())

    response = feed_with_header(f"Bearer {secret}")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_it_refuses_a_call_without_a_token_with_401():
    response = feed_with_header(None)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_it_refuses_a_revoked_partner_token_with_401():
    partner = PartnerFactory()
    record(conversion_of(partner))
    token, secret = issue_partner_token(partner)
    revoke_partner_token(token)

    response = feed_with_header(f"Bearer {secret}")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "data" not in response.json()
