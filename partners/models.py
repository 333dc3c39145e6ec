import uuid

from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from retrack.audit.services import history_user
from retrack.lib.tokens import ApiTokenBase
from stores.models import Program

# The partner that test clicks come from (contract section 8), made on first use.
INTEGRATION_TEST_PARTNER_NAME = "Retrack integration test"


class Partner(models.Model):
    """A publisher that sends traffic, e.g. the cashback site Refunder SE."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Every change, old and new values, with who made it (retrack/audit/models.py).
    history = HistoricalRecords(get_user=history_user)

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
    history = HistoricalRecords(get_user=history_user)

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
    history = HistoricalRecords(excluded_fields=["key_hash", "last_used_at"], get_user=history_user)
    kind_prefix = "rtp_"


class WebhookEndpoint(models.Model):
    """A partner's URL that receives its feed items as signed POSTs (Standard Webhooks).

    The signing secret is kept as issued, not hashed like API tokens: every delivery is
    signed with it, so the server must be able to read it back. It is shown to the partner
    once, when the endpoint is registered, and never again (not in the API, not in the
    back office, which shows its first characters only).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="webhooks")
    url = models.CharField(max_length=2000, help_text="https on a public address.")
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First failure since the last delivery that succeeded."
    )
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # The outbox looks up a partner's active endpoints with every change.
            models.Index(fields=["partner", "active"], name="webhook_partner_active"),
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def secret_hint(self) -> str:
        return f"{self.secret[:10]}…"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one endpoint: the transactional outbox row and its attempts.

    Written in the transaction of the change it announces, so that a committed change
    always has its deliveries. `body` is the exact JSON sent, the same on every attempt;
    `next_attempt_at` is set while pending (a due time, or the end of an attempt's lease).
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=60)
    body = models.TextField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(
        default=timezone.now, help_text="When a message to attempt it was last sent to the queue."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="delivery_event_unique"),
            models.CheckConstraint(
                condition=(
                    models.Q(status=DeliveryStatus.PENDING, next_attempt_at__isnull=False)
                    | (
                        ~models.Q(status=DeliveryStatus.PENDING)
                        & models.Q(next_attempt_at__isnull=True)
                    )
                ),
                name="delivery_pending_has_next_attempt",
            ),
        ]
        indexes = [
            # The sweep: pending deliveries whose next attempt is due.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status=DeliveryStatus.PENDING),
                name="delivery_due",
            ),
            # An endpoint's latest deliveries (API and back office).
            models.Index(fields=["endpoint", "-id"], name="delivery_endpoint_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.endpoint_id}"
