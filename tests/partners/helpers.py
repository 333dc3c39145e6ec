"""Partner API test helpers: a client calling as a partner, and recorded conversion changes."""

from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from conversions.models import ChangeAction, Conversion, ConversionChange
from conversions.services import record_change
from partners.models import Partner
from partners.services import issue_partner_token


def client_for(partner: Partner) -> APIClient:
    """An API client carrying a fresh token of the partner."""
    _, secret = issue_partner_token(partner, name="feed poller")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def record(
    conversion: Conversion, action: ChangeAction = ChangeAction.CREATED, **fields
) -> ConversionChange:
    """Change the conversion's fields (if any) and record the change, as the services do."""
    with transaction.atomic():
        if fields:
            Conversion.objects.filter(pk=conversion.pk).update(**fields, updated_at=timezone.now())
        return record_change(conversion, action=action, actor="store:Test")


def feed(client: APIClient, **params):
    """GET the partner feed with the given query parameters."""
    return client.get("/api/v2/partner/conversions", params)
