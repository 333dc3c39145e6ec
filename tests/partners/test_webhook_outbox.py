import json
import uuid

import pytest
from django.db import transaction

from conversions.models import ChangeAction, ConversionStatus
from conversions.services import approve_conversion, sequence_committed_changes
from partners.models import DeliveryStatus, WebhookDelivery
from tests.factories import ClickFactory, ConversionFactory, PartnerFactory
from tests.partners.helpers import client_for, feed, record
from tests.partners.webhooks import endpoint_for

pytestmark = pytest.mark.django_db


def test_a_change_writes_one_delivery_per_active_endpoint_with_the_feed_item():
    partner = PartnerFactory()
    first, _ = endpoint_for(partner, "https://93.184.215.14/a")
    second, _ = endpoint_for(partner, "https://93.184.215.14/b")
    inactive, _ = endpoint_for(partner, "https://93.184.215.14/c")
    inactive.active = False
    inactive.save()
    endpoint_for(PartnerFactory(), "https://93.184.215.14/someone-else")

    change = record(ConversionFactory(click=ClickFactory(partner=partner)))

    deliveries = list(WebhookDelivery.objects.order_by("endpoint_id"))
    assert [delivery.endpoint_id for delivery in deliveries] == [first.pk, second.pk]
    assert deliveries[0].event_id == deliveries[1].event_id
    assert deliveries[0].body == deliveries[1].body
    body = json.loads(deliveries[0].body)
    feed_item = feed(client_for(partner)).json()["data"][0]
    assert body == {
        "type": "conversion.created",
        "timestamp": change.created_at.isoformat(),
        "data": feed_item,
    }
    assert deliveries[0].status == DeliveryStatus.PENDING
    assert deliveries[0].attempts == 0
    assert deliveries[0].next_attempt_at == deliveries[0].created_at


def test_each_change_is_its_own_event_typed_by_what_it_did():
    partner = PartnerFactory()
    endpoint_for(partner, "https://93.184.215.14/a")
    conversion = ConversionFactory(click=ClickFactory(partner=partner))
    record(conversion)

    approve_conversion(conversion, actor="operator:ada")
    sequence_committed_changes()

    deliveries = list(WebhookDelivery.objects.order_by("pk"))
    assert [delivery.event_type for delivery in deliveries] == [
        "conversion.created",
        "conversion.approved",
    ]
    assert len({delivery.event_id for delivery in deliveries}) == 2
    approved = json.loads(deliveries[1].body)["data"]
    assert approved["status"] == ConversionStatus.APPROVED
    assert approved["uuid"] == str(conversion.uuid)


def test_the_event_id_is_derived_from_the_change():
    partner = PartnerFactory()
    endpoint_for(partner, "https://93.184.215.14/a")

    change = record(ConversionFactory(click=ClickFactory(partner=partner)), ChangeAction.CREATED)

    expected = uuid.uuid5(
        uuid.UUID("5b0f7a53-3b0e-4c55-9d0e-7f2f1c3c8a21"), f"conversion-change:{change.sequence}"
    )
    assert WebhookDelivery.objects.get().event_id == expected


def test_a_rolled_back_change_leaves_no_delivery():
    partner = PartnerFactory()
    endpoint_for(partner, "https://93.184.215.14/a")
    conversion = ConversionFactory(click=ClickFactory(partner=partner))

    with pytest.raises(RuntimeError), transaction.atomic():
        record(conversion)
        raise RuntimeError("the change's transaction fails after the outbox write")

    assert not WebhookDelivery.objects.exists()


def test_a_partner_without_endpoints_gets_no_delivery():
    partner = PartnerFactory()

    record(ConversionFactory(click=ClickFactory(partner=partner)))

    assert not WebhookDelivery.objects.exists()
