"""Reads for partner webhooks: a partner's endpoints and their latest deliveries."""

from django.db.models import QuerySet

from partners.models import DeliveryStatus, Partner, WebhookDelivery, WebhookEndpoint

DELIVERIES_LISTED = 100


def partner_webhook_endpoints(partner: Partner) -> QuerySet[WebhookEndpoint]:
    """The partner's endpoints, oldest first."""
    return WebhookEndpoint.objects.filter(partner=partner).order_by("created_at", "pk")


def latest_deliveries(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first."""
    return WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-pk")[:DELIVERIES_LISTED]


def waiting_delivery_count() -> int:
    """How many deliveries are pending (for the readiness check and the back office)."""
    return WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count()
