import uuid

from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from retrack.lib.tokens import ApiTokenBase
from stores.models import Program


class Partner(models.Model):
    """A publisher that sends traffic, e.g. the cashback site Refunder SE."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Every change, old and new values, with who made it (retrack/audit/models.py).
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Admission(models.Model):
    """A partner's admission to promote a program; clicks are accepted only through one."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="admissions")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="admissions")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Every change, old and new values, with who made it (retrack/audit/models.py).
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "partner"], name="admission_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} → {self.program}"


class PartnerToken(ApiTokenBase):
    """A bearer token for the partner API; it reaches only its own partner's data."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="tokens")
    # Issued and renamed, with who did it; never the secret's hash.
    history = HistoricalRecords(excluded_fields=["key_hash", "last_used_at"])
    kind_prefix = "rtp_"
