"""Missed-order claims (contract section 10): a partner's claim and its history."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from conversions.models import REFERENCE_MAX_LENGTH
from retrack.lib.uuids import uuid7
from stores.models import EventKind

NOTE_MAX_LENGTH = 2000


class ClaimStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


class Claim(models.Model):
    """A partner's claim that tracking missed an order its shopper placed after a click.

    The store (or an operator on its behalf) accepts it, which records the conversion on
    the claim's click, or declines it with a reason. `sequence` is the number of the
    claim's latest change: each change sets it to NULL and the sequencer numbers it once
    committed, from the same counter as the conversion feed's, so the partner's claim list
    in `sequence` order never skips a decision (see
    `conversions.claims.selectors.partner_claims_page`).
    """

    uuid = models.UUIDField(default=uuid7, unique=True, editable=False)
    # No single-column indexes: (partner, sequence) and (program, id) below serve them.
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="claims", db_index=False
    )
    program = models.ForeignKey(
        "stores.Program", on_delete=models.PROTECT, related_name="claims", db_index=False
    )
    click = models.ForeignKey("clicks.Click", on_delete=models.PROTECT, related_name="claims")
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    # NULL, not "", for the other kind's key: the partial unique constraints rely on it.
    order_number = models.CharField(max_length=REFERENCE_MAX_LENGTH, null=True, blank=True)  # noqa: DJ001
    reference = models.CharField(max_length=REFERENCE_MAX_LENGTH, null=True, blank=True)  # noqa: DJ001
    order_sum = models.BigIntegerField(null=True, blank=True, help_text="Minor units, claimed.")
    vat_sum = models.BigIntegerField(null=True, blank=True, help_text="Minor units, claimed.")
    currency = models.CharField(max_length=3, blank=True)
    ordered_at = models.DateTimeField(help_text="When the shopper ordered, as the partner says.")
    note = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.OPEN)
    decision_reason = models.TextField(blank=True)
    conversion = models.OneToOneField(
        "conversions.Conversion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claim",
    )
    payload_fingerprint = models.CharField(
        max_length=64,
        editable=False,
        help_text="SHA-256 of the claim's fields: a replay's is equal.",
    )
    # NULL from a change until the sequencer numbers it (committed); unique once set.
    sequence = models.BigIntegerField(unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            # One claim per order: the same claim again is a replay, a different one a conflict.
            models.UniqueConstraint(
                fields=["program", "order_number"],
                condition=Q(kind=EventKind.TRANSACTION),
                name="claim_order_number_unique",
            ),
            models.UniqueConstraint(
                fields=["program", "reference"],
                condition=Q(kind=EventKind.LEAD),
                name="claim_reference_unique",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind=EventKind.TRANSACTION, order_number__isnull=False)
                    | Q(kind=EventKind.LEAD, reference__isnull=False)
                ),
                name="claim_has_its_key",
            ),
            models.CheckConstraint(
                condition=Q(order_sum__isnull=True)
                | Q(order_sum__gte=0, vat_sum__gte=0, vat_sum__lte=F("order_sum")),
                name="claim_sums_valid",
            ),
            models.CheckConstraint(
                condition=Q(status=ClaimStatus.ACCEPTED, conversion__isnull=False)
                | (~Q(status=ClaimStatus.ACCEPTED) & Q(conversion__isnull=True)),
                name="claim_accepted_has_conversion",
            ),
        ]
        indexes = [
            # The partner's list: WHERE partner = … AND sequence > cursor ORDER BY sequence.
            models.Index(fields=["partner", "sequence"], name="claim_partner_sequence"),
            # The sequencer's work: committed claim changes not numbered yet.
            models.Index(
                fields=["id"], condition=Q(sequence__isnull=True), name="claim_unsequenced"
            ),
            # The store's list and the back office's: open claims oldest first.
            models.Index(
                fields=["program", "id"],
                condition=Q(status=ClaimStatus.OPEN),
                name="claim_open_program",
            ),
            models.Index(fields=["program", "id"], name="claim_program"),
        ]

    def __str__(self) -> str:
        key = self.order_number if self.kind == EventKind.TRANSACTION else self.reference
        return f"Claim for {self.get_kind_display().lower()} {key}"

    @property
    def key(self) -> str:
        return self.order_number if self.kind == EventKind.TRANSACTION else self.reference


class ClaimChangeAction(models.TextChoices):
    FILED = "filed", "Filed"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


class ClaimChange(models.Model):
    """One entry of a claim's history: who did what, when and why."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="changes")
    action = models.CharField(max_length=10, choices=ClaimChangeAction.choices)
    actor = models.CharField(max_length=200, help_text="Who: partner:…, store:…, operator:…")
    reason = models.TextField(blank=True)
    changes = models.JSONField(default=dict, help_text="Field → [old, new].")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["claim", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor}"
