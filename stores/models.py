import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from retrack.audit.services import history_user
from retrack.lib.tokens import ApiTokenBase
from stores.rules import event_problems, program_problems


def _raise_problems(problems: dict[str, list[str]]) -> None:
    if problems:
        raise ValidationError(problems)


class Store(models.Model):
    """An advertiser: an online shop that pays commission for sales and leads."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Every change, old and new values, with who made it (retrack/audit/models.py).
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProgramStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    CLOSED = "closed", "Closed"


class Program(models.Model):
    """A store's affiliate program: it owns events, allowed domains, redirect page, currency."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="programs")
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, help_text="ISO-4217 code, e.g. SEK.")
    landing_url = models.URLField(
        max_length=2048, help_text="Where a click lands when it has no acceptable deeplink."
    )
    allowed_domains = models.JSONField(
        default=list,
        blank=True,
        help_text="Host names a deeplink may point to (subdomains included), "
        'e.g. ["awesome-store.example"].',
    )
    redirect_page_url = models.URLField(
        max_length=2048,
        blank=True,
        help_text="The store's redirect page that saves the click; empty: redirect straight "
        "to the deeplink.",
    )
    attribution_days = models.PositiveSmallIntegerField(
        default=30, help_text="How old a click may be when its conversion arrives."
    )
    validation_days = models.PositiveSmallIntegerField(
        default=45, help_text="Pending conversions are approved automatically after this."
    )
    claim_days = models.PositiveSmallIntegerField(
        default=90,
        help_text="How long after an order a partner may claim it as missed (section 10).",
    )
    status = models.CharField(
        max_length=10, choices=ProgramStatus.choices, default=ProgramStatus.ACTIVE
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Every change, old and new values, with who made it (retrack/audit/models.py).
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["store", "name"], name="program_name_unique_in_store"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="program_currency_iso4217"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def uses_redirect_page(self) -> bool:
        return bool(self.redirect_page_url)

    def clean(self) -> None:
        _raise_problems(
            program_problems(
                currency=self.currency,
                allowed_domains=list(self.allowed_domains or []),
                landing_url=self.landing_url,
                redirect_page_url=self.redirect_page_url,
                attribution_days=self.attribution_days,
                validation_days=self.validation_days,
            )
        )


class EventKind(models.TextChoices):
    TRANSACTION = "transaction", "Transaction"
    LEAD = "lead", "Lead"


class Event(models.Model):
    """A commission group of a program: a percentage of the net amount, or a fixed amount."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="events")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    percent = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="Commission as a percentage of the net amount (sum minus VAT).",
    )
    fixed_amount = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Commission in minor units, per lead or per unit of a product line.",
    )
    # Every change, old and new values, with who made it (retrack/audit/models.py).
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["program", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "name"], name="event_name_unique_in_program"
            ),
            models.CheckConstraint(
                condition=(
                    Q(percent__isnull=False, fixed_amount__isnull=True)
                    | Q(percent__isnull=True, fixed_amount__isnull=False)
                ),
                name="event_percent_xor_fixed",
            ),
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | Q(percent__gte=0, percent__lte=100),
                name="event_percent_0_to_100",
            ),
            models.CheckConstraint(
                condition=Q(fixed_amount__isnull=True) | Q(fixed_amount__gte=0),
                name="event_fixed_amount_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.commission_label})"

    def clean(self) -> None:
        _raise_problems(event_problems(percent=self.percent, fixed_amount=self.fixed_amount))

    @property
    def commission_label(self) -> str:
        if self.percent is not None:
            return f"{self.percent.normalize():f} %"
        return f"{self.fixed_amount} minor units fixed"


class StoreToken(ApiTokenBase):
    """A bearer token for the store API; it reaches only its own store's programs."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="tokens")
    # Issued and renamed, with who did it; never the secret's hash.
    history = HistoricalRecords(excluded_fields=["key_hash", "last_used_at"], get_user=history_user)
    kind_prefix = "rts_"
