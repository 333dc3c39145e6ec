"""Webhook test data: endpoints registered through the service, and their deliveries."""

from django.test import override_settings

from partners.models import Partner, WebhookDelivery, WebhookEndpoint
from partners.webhooks.services import register_webhook_endpoint


def endpoint_for(partner: Partner, url: str) -> tuple[WebhookEndpoint, str]:
    """An endpoint of the partner at `url` (any address: tests allow private ones)."""
    with override_settings(RETRACK_WEBHOOK_ALLOW_PRIVATE=True):
        return register_webhook_endpoint(partner, url=url)


def delivery_of(endpoint: WebhookEndpoint) -> WebhookDelivery:
    return WebhookDelivery.objects.get(endpoint=endpoint)
