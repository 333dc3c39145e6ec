"""What a feed item says about its change, and one conversion as the feed shows it."""

import importlib
import json
from datetime import timedelta

import pytest
from django.apps import apps as django_apps

from conversions.models import ChangeAction, ConversionChange
from conversions.selectors import change_type
from conversions.services import amend_transaction, approve_conversion, reject_conversion
from tests.factories import ClickFactory, ConversionFactory, PartnerFactory
from tests.partners.helpers import client_for, feed, record
from tests.shop import transaction_payload

pytestmark = pytest.mark.django_db


def test_each_item_says_what_its_change_was(store_client, shop):
    created = store_client.post("/api/v2/transactions", transaction_payload(shop), format="json")
    conversion = ConversionChange.objects.get().conversion
    amend_transaction(
        conversion,
        {
            "orderSum": 1375,
            "vatSum": 275,
            "products": [
                {"event": str(shop.shoes.uuid), "quantity": 1, "price": 1250, "vat": 250},
                {"event": str(shop.socks.uuid), "quantity": 1, "price": 125, "vat": 25},
            ],
        },
        actor="store:Awesome Store",
    )
    reject_conversion(conversion, actor="store:Awesome Store", reason="Cancelled")

    items = feed(client_for(shop.click.partner)).json()["data"]

    assert created.status_code == 201
    assert [(item["change_type"], item["status"]) for item in items] == [
        ("created", "pending"),
        ("amended", "pending"),
        ("rejected", "rejected"),
    ]


def test_an_approval_is_an_approved_item():
    conversion = ConversionFactory()
    record(conversion)

    approve_conversion(conversion, actor="operator:admin")

    items = feed(client_for(conversion.partner)).json()["data"]
    assert [item["change_type"] for item in items] == ["created", "approved"]


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (ChangeAction.CREATED, "created"),
        (ChangeAction.AMENDED, "amended"),
        (ChangeAction.APPROVED, "approved"),
        (ChangeAction.REJECTED, "rejected"),
        ("reviewed", "amended"),
    ],
)
def test_change_type_follows_the_action_and_reads_any_other_as_amended(action, expected):
    assert change_type(action) == expected


def test_one_conversion_is_its_latest_feed_item():
    conversion = ConversionFactory()
    record(conversion)
    rejected = record(
        conversion, ChangeAction.REJECTED, status="rejected", status_reason="Order cancelled"
    )

    response = client_for(conversion.partner).get(f"/api/v2/partner/conversions/{conversion.uuid}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"data": json.loads(json.dumps(rejected.snapshot))}
    assert response.json()["data"]["change_type"] == "rejected"


def test_another_partners_conversion_is_not_found():
    conversion = ConversionFactory()
    record(conversion)
    other = client_for(PartnerFactory(name="Other cashback"))

    response = other.get(f"/api/v2/partner/conversions/{conversion.uuid}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_conversion_without_a_feed_item_is_not_found():
    conversion = ConversionFactory(click=ClickFactory())

    response = client_for(conversion.partner).get(f"/api/v2/partner/conversions/{conversion.uuid}")

    assert response.status_code == 404


def test_a_pending_item_says_when_it_will_be_approved_and_a_decided_one_does_not():
    conversion = ConversionFactory(click__program__validation_days=45)
    record(conversion)
    reject_conversion(conversion, actor="store:Test", reason="Cancelled")

    items = feed(client_for(conversion.partner)).json()["data"]

    approve_at = conversion.created_at + timedelta(days=45)
    assert [item["auto_approve_at"] for item in items] == [
        approve_at.isoformat().replace("+00:00", "Z"),
        None,
    ]


def test_the_migration_gives_items_stored_before_it_their_change_type():
    conversion = ConversionFactory()
    created = record(conversion)
    approved = record(conversion, ChangeAction.APPROVED, status="approved")
    for change in (created, approved):
        del change.snapshot["change_type"]
        change.save(update_fields=["snapshot"])
    migration = importlib.import_module("conversions.migrations.0005_feed_items_change_type")

    migration.add_change_type(django_apps, None)

    items = feed(client_for(conversion.partner)).json()["data"]
    assert [item["change_type"] for item in items] == ["created", "approved"]
