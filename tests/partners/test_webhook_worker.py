"""Webhooks end to end: real Celery workers on RabbitMQ deliver to a real HTTP receiver.

Skipped, saying why, when RabbitMQ is not reachable (CI starts it).
"""

import json
import signal

import pytest
from rest_framework.test import APIClient

from conversions.models import ConversionChange
from partners.models import DeliveryStatus, WebhookDelivery
from retrack.celery import app
from stores.services import issue_store_token
from tests.factories import (
    AdmissionFactory,
    ClickFactory,
    ConversionFactory,
    LeadEventFactory,
    PartnerFactory,
)
from tests.partners.celery_worker import (
    BROKER_URL,
    SilentBroker,
    celery_worker,
    stop_worker,
    wait_for,
)
from tests.partners.helpers import client_for, record
from tests.partners.receiver import WebhookReceiver, verified_payload
from tests.partners.webhooks import endpoint_for

pytestmark = [pytest.mark.rabbitmq, pytest.mark.django_db(transaction=True)]


def statuses() -> list[str]:
    return list(WebhookDelivery.objects.order_by("pk").values_list("status", flat=True))


def test_a_partner_registers_an_endpoint_and_receives_signed_events(broker_queue, tmp_path):
    partner = PartnerFactory()
    with WebhookReceiver([204]) as receiver, celery_worker(broker_queue, tmp_path / "w.log"):
        registered = client_for(partner).post(
            "/api/v2/partner/webhooks", {"url": f"{receiver.url}/hook"}, format="json"
        )
        secret = registered.json()["data"]["secret"]
        conversion = ConversionFactory(click=ClickFactory(partner=partner))
        change = record(conversion)

        assert wait_for(lambda: statuses() == [DeliveryStatus.DELIVERED])

    [received] = receiver.received
    payload = verified_payload(secret, received)
    assert payload["type"] == "conversion.created"
    assert payload["data"]["uuid"] == str(conversion.uuid)
    assert payload["data"]["change"] == change.sequence


def test_a_receiver_failing_twice_gets_the_same_event_three_times_and_ends_delivered(
    broker_queue, tmp_path
):
    partner = PartnerFactory()
    with WebhookReceiver([500, 503, 204]) as receiver:
        _, secret = endpoint_for(partner, receiver.url)
        with celery_worker(broker_queue, tmp_path / "w.log"):
            record(ConversionFactory(click=ClickFactory(partner=partner)))

            assert wait_for(lambda: statuses() == [DeliveryStatus.DELIVERED])

    delivery = WebhookDelivery.objects.get()
    assert len(receiver.received) == 3
    assert {r.headers["webhook-id"] for r in receiver.received} == {str(delivery.event_id)}
    for received in receiver.received:
        assert verified_payload(secret, received) == json.loads(delivery.body)
    assert (delivery.attempts, delivery.last_status_code) == (3, 204)


def test_a_delivery_cut_off_by_a_killed_worker_is_made_later(broker_queue, tmp_path):
    partner = PartnerFactory()
    with WebhookReceiver([204], hold_first=True) as receiver:
        _, secret = endpoint_for(partner, receiver.url)
        with celery_worker(broker_queue, tmp_path / "first.log") as first:
            record(ConversionFactory(click=ClickFactory(partner=partner)))
            assert receiver.arrived.wait(30)
            # The worker dies in the middle of the attempt, its request unanswered.
            stop_worker(first, signal.SIGKILL)
        receiver.release.set()
        assert statuses() == [DeliveryStatus.PENDING]

        with celery_worker(broker_queue, tmp_path / "second.log"):
            assert wait_for(lambda: statuses() == [DeliveryStatus.DELIVERED])

    delivery = WebhookDelivery.objects.get()
    assert len(receiver.received) == 2
    assert {r.headers["webhook-id"] for r in receiver.received} == {str(delivery.event_id)}
    assert verified_payload(secret, receiver.received[1]) == json.loads(delivery.body)


def test_conversions_written_while_the_broker_hangs_are_answered_and_all_delivered_later(
    broker_queue, tmp_path
):
    partner = PartnerFactory()
    click = ClickFactory(partner=partner)
    AdmissionFactory(partner=partner, program=click.program)
    event = LeadEventFactory(program=click.program)
    _, token = issue_store_token(click.program.store)
    store = APIClient()
    store.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    silent = SilentBroker()
    app.conf.broker_url = silent.url
    with WebhookReceiver([204]) as receiver:
        endpoint_for(partner, receiver.url)

        answers = [
            store.post(
                "/api/v2/leads",
                {"event": str(event.uuid), "click": str(click.uuid), "reference": f"m-{n}"},
                format="json",
            )
            for n in range(3)
        ]

        # Answered while the publish to the hanging broker has not even given up: the
        # request never waited for it. The changes are committed all the same, waiting
        # for the sequencer's run that numbers them and writes their deliveries.
        assert [answer.status_code for answer in answers] == [201, 201, 201]
        assert wait_for(silent.has_connections, 10)
        assert not silent.closed_by_client()
        assert ConversionChange.objects.filter(sequence__isnull=True).count() == 3
        assert statuses() == []

        # The broker comes back: every delivery is made, each once.
        app.conf.broker_url = BROKER_URL
        silent.close()
        with celery_worker(broker_queue, tmp_path / "w.log"):
            assert wait_for(lambda: statuses() == [DeliveryStatus.DELIVERED] * 3)

    event_ids = {str(d.event_id) for d in WebhookDelivery.objects.all()}
    assert sorted(r.headers["webhook-id"] for r in receiver.received) == sorted(event_ids)
