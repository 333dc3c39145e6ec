"""Partner API test helpers: a client calling as a partner, and recorded conversion changes."""

from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from conversions.models import ChangeAction, ChangeCounter, Conversion, ConversionChange
from conversions.services import record_change, sequence_committed_changes
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
    """Change the conversion's fields (if any) and record the change, as the services do;
    then number it, as the sequencer does once it is committed (the change, refreshed)."""
    with transaction.atomic():
        if fields:
            Conversion.objects.filter(pk=conversion.pk).update(**fields, updated_at=timezone.now())
        change = record_change(conversion, action=action, actor="store:Test")
    sequence_committed_changes()
    change.refresh_from_db(fields=["sequence", "snapshot"])
    return change


def record_many(conversion: Conversion, count: int) -> None:
    """`count` changes of the conversion: the first recorded as `record` does, the others
    copies of it under the next sequence numbers, written in one INSERT."""
    first = record(conversion)
    sequences = range(first.sequence + 1, first.sequence + count)
    ConversionChange.objects.bulk_create(
        ConversionChange(
            conversion_id=first.conversion_id,
            partner_id=first.partner_id,
            sequence=sequence,
            action=first.action,
            actor=first.actor,
            snapshot={**first.snapshot, "change": sequence},
            created_at=first.created_at,
        )
        for sequence in sequences
    )
    # The counter moves on as if each had been recorded.
    ChangeCounter.objects.filter(pk=1).update(last_sequence=first.sequence + count - 1)


def feed(client: APIClient, **params):
    """GET the partner feed with the given query parameters."""
    return client.get("/api/v2/partner/conversions", params)
