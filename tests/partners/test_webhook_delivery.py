"""One attempt at a time, in this process, against a real HTTP receiver on 127.0.0.1."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import WebhookVerificationError

from partners.models import DeliveryStatus, WebhookDelivery
from partners.webhooks.services import (
    attempt_webhook_delivery,
    redeliver_webhook_deliveries,
    sweep_due_deliveries,
)
from tests.factories import ClickFactory, ConversionFactory, PartnerFactory
from tests.partners.helpers import record
from tests.partners.receiver import WebhookReceiver, verified_payload
from tests.partners.webhooks import delivery_of, endpoint_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def allow_private(settings):
    settings.RETRACK_WEBHOOK_ALLOW_PRIVATE = True
    settings.RETRACK_WEBHOOK_RETRY_SECONDS = [60, 300]


def announce(url: str):
    """An endpoint at `url`, and a conversion change that makes a delivery for it."""
    partner = PartnerFactory()
    endpoint, secret = endpoint_for(partner, url)
    record(ConversionFactory(click=ClickFactory(partner=partner)))
    return endpoint, secret, delivery_of(endpoint)


def test_it_delivers_a_signed_event_a_receiver_verifies(allow_private):
    with WebhookReceiver([204]) as receiver:
        endpoint, secret, delivery = announce(f"{receiver.url}/hooks?from=retrack")

        outcome = attempt_webhook_delivery(delivery.pk)

    assert outcome == "delivered"
    [received] = receiver.received
    assert received.path == "/hooks?from=retrack"
    assert received.headers["content-type"] == "application/json"
    assert received.headers["webhook-id"] == str(delivery.event_id)
    assert received.body == delivery.body.encode()
    assert verified_payload(secret, received) == json.loads(delivery.body)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 204
    assert delivery.next_attempt_at is None


def test_a_wrong_secret_fails_verification(allow_private):
    with WebhookReceiver([204]) as receiver:
        _, _, delivery = announce(receiver.url)
        attempt_webhook_delivery(delivery.pk)

    other_secret = "whsec_" + "A" * 43 + "="
    with pytest.raises(WebhookVerificationError):
        verified_payload(other_secret, receiver.received[0])


def test_a_failed_attempt_is_retried_after_the_configured_delay(allow_private):
    with WebhookReceiver([500]) as receiver:
        endpoint, _, delivery = announce(receiver.url)
        before = timezone.now()

        outcome = attempt_webhook_delivery(delivery.pk)

    assert outcome.startswith("failed: HTTP 500")
    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert before + timedelta(seconds=60) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= timezone.now() + timedelta(seconds=60)
    assert endpoint.failing_since is not None
    # Not due yet: a second message for it sends nothing.
    assert attempt_webhook_delivery(delivery.pk) == "not due"
    assert len(receiver.received) == 1


def test_a_delivery_gives_up_after_the_last_delay(allow_private):
    with WebhookReceiver([503]) as receiver:
        _, _, delivery = announce(receiver.url)
        for _ in range(3):
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
            attempt_webhook_delivery(delivery.pk)

    delivery.refresh_from_db()
    assert len(receiver.received) == 3
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert delivery.next_attempt_at is None
    assert {received.headers["webhook-id"] for received in receiver.received} == {
        str(delivery.event_id)
    }


def test_a_redirect_is_not_followed(allow_private):
    with WebhookReceiver([302]) as receiver:
        _, _, delivery = announce(receiver.url)

        outcome = attempt_webhook_delivery(delivery.pk)

    assert outcome.startswith("failed: HTTP 302")
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING


def test_at_most_64_kb_of_the_answer_is_read(allow_private):
    with WebhookReceiver([200], answer_body=b"x" * 200_000) as receiver:
        _, _, delivery = announce(receiver.url)

        outcome = attempt_webhook_delivery(delivery.pk)

    assert outcome == "delivered"


def test_a_name_that_now_resolves_to_a_private_address_is_refused_at_delivery(settings):
    settings.RETRACK_WEBHOOK_ALLOW_PRIVATE = True
    with WebhookReceiver([204]) as receiver:
        port = receiver.url.rsplit(":", 1)[1]
        # Registered while its name was acceptable (here: while private ones were allowed) …
        _, _, delivery = announce(f"https://localhost:{port}/hook")
        settings.RETRACK_WEBHOOK_ALLOW_PRIVATE = False

        outcome = attempt_webhook_delivery(delivery.pk)

    # … and resolved and checked again when sending: nothing reaches 127.0.0.1.
    assert outcome.startswith("failed: URL refused: must point to a public address")
    assert "localhost resolves to" in outcome
    assert receiver.received == []


def test_an_unreachable_endpoint_is_a_failed_attempt(allow_private):
    _, _, delivery = announce("http://127.0.0.1:9/closed")

    outcome = attempt_webhook_delivery(delivery.pk)

    assert outcome.startswith("failed: ")
    delivery.refresh_from_db()
    assert delivery.last_status_code is None
    assert (
        "Connection refused" in delivery.last_error or "NewConnectionError" in delivery.last_error
    )


def test_an_endpoint_failing_for_3_days_is_deactivated(allow_private):
    with WebhookReceiver([500]) as receiver:
        endpoint, _, delivery = announce(receiver.url)
        partner = endpoint.partner
        record(ConversionFactory(click=ClickFactory(partner=partner)))
        endpoint.failing_since = timezone.now() - timedelta(days=3, minutes=1)
        endpoint.save()

        attempt_webhook_delivery(delivery.pk)

    endpoint.refresh_from_db()
    assert endpoint.active is False
    assert endpoint.deactivated_at is not None
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}
    # No new deliveries for an inactive endpoint.
    record(ConversionFactory(click=ClickFactory(partner=partner)))
    assert WebhookDelivery.objects.count() == 2


def test_a_success_clears_the_endpoints_failing_since(allow_private):
    with WebhookReceiver([204]) as receiver:
        endpoint, _, delivery = announce(receiver.url)
        endpoint.failing_since = timezone.now() - timedelta(days=2)
        endpoint.save()

        attempt_webhook_delivery(delivery.pk)

    endpoint.refresh_from_db()
    assert endpoint.failing_since is None
    assert endpoint.active is True


def test_the_sweep_queues_due_deliveries_that_no_message_covers(settings, allow_private):
    settings.RETRACK_WEBHOOK_LEASE_SECONDS = 60
    _, _, fresh = announce("http://127.0.0.1:9/a")
    _, _, lost = announce("http://127.0.0.1:9/b")
    _, _, retry_later = announce("http://127.0.0.1:9/c")
    long_ago = timezone.now() - timedelta(minutes=5)
    WebhookDelivery.objects.filter(pk=lost.pk).update(queued_at=long_ago, next_attempt_at=long_ago)
    WebhookDelivery.objects.filter(pk=retry_later.pk).update(
        queued_at=long_ago, next_attempt_at=timezone.now() + timedelta(minutes=1)
    )

    first = sweep_due_deliveries()
    again = sweep_due_deliveries()

    assert first == [lost.pk]
    assert again == []
    fresh.refresh_from_db()
    assert fresh.status == DeliveryStatus.PENDING


def test_redelivery_starts_a_failed_delivery_again(allow_private):
    with WebhookReceiver([204]) as receiver:
        _, _, delivery = announce(receiver.url)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, attempts=10, next_attempt_at=None
        )

        queued, skipped = redeliver_webhook_deliveries(WebhookDelivery.objects.all())
        outcome = attempt_webhook_delivery(delivery.pk)

    assert (queued, skipped) == (1, 0)
    assert outcome == "delivered"
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.status == DeliveryStatus.DELIVERED
