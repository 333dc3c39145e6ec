import pytest

from partners.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.factories import ClickFactory, ConversionFactory, PartnerFactory
from tests.partners.helpers import record
from tests.partners.webhooks import endpoint_for

pytestmark = pytest.mark.django_db

ADD = "/admin/partners/webhookendpoint/add/"


def test_an_operator_registers_an_endpoint_and_sees_its_secret_once(operator_client):
    partner = PartnerFactory(name="Refunder SE")

    response = operator_client.post(
        ADD, {"partner": partner.pk, "url": "https://93.184.215.14/hook", "description": "SE"}
    )

    endpoint = WebhookEndpoint.objects.get()
    page = response.content.decode()
    secret = page.split('readonly value="')[1].split('"')[0]
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert secret == endpoint.secret
    assert secret.startswith("whsec_")
    assert (endpoint.partner, endpoint.url, endpoint.description) == (
        partner,
        "https://93.184.215.14/hook",
        "SE",
    )
    later = operator_client.get(f"/admin/partners/webhookendpoint/{endpoint.pk}/change/")
    assert later.status_code == 200
    assert secret not in later.content.decode()
    assert endpoint.secret_hint in later.content.decode()


def test_the_back_office_refuses_a_private_endpoint_and_registers_nothing(operator_client):
    partner = PartnerFactory()

    response = operator_client.post(ADD, {"partner": partner.pk, "url": "https://10.0.0.5/h"})

    assert response.status_code == 200
    assert "must point to a public address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_an_operator_redelivers_failed_deliveries(operator_client):
    partner = PartnerFactory()
    endpoint, _ = endpoint_for(partner, "https://93.184.215.14/hook")
    record(ConversionFactory(click=ClickFactory(partner=partner)))
    WebhookDelivery.objects.update(status=DeliveryStatus.FAILED, attempts=10, next_attempt_at=None)
    delivery = WebhookDelivery.objects.get()

    response = operator_client.post(
        "/admin/partners/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [delivery.pk]},
        follow=True,
    )

    assert "Queued 1 delivery to send again." in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert delivery.next_attempt_at is not None


def test_support_staff_cannot_redeliver(support_client):
    partner = PartnerFactory()
    endpoint_for(partner, "https://93.184.215.14/hook")
    record(ConversionFactory(click=ClickFactory(partner=partner)))
    WebhookDelivery.objects.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    delivery = WebhookDelivery.objects.get()

    listing = support_client.get("/admin/partners/webhookdelivery/")
    support_client.post(
        "/admin/partners/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [delivery.pk]},
    )

    assert listing.status_code == 200
    assert "redeliver" not in listing.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_an_operator_reactivates_an_endpoint_and_its_failures_count_afresh(operator_client):
    endpoint, _ = endpoint_for(PartnerFactory(), "https://93.184.215.14/hook")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        active=False, failing_since="2026-01-01T00:00Z", deactivated_at="2026-01-04T00:00Z"
    )

    response = operator_client.post(
        f"/admin/partners/webhookendpoint/{endpoint.pk}/change/",
        {"description": "back up", "active": "on"},
    )

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.active, endpoint.failing_since, endpoint.deactivated_at) == (True, None, None)
    assert endpoint.description == "back up"
    assert endpoint.url == "https://93.184.215.14/hook"
