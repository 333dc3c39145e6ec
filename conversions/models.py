from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from clicks.models import Click
from partners.models import Partner
from retrack.lib.uuids import uuid7
from stores.models import Event, EventKind, Program

REFERENCE_MAX_LENGTH = 255


class ConversionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ConversionSource(models.TextChoices):
    API = "api", "Store API"
    SCRIPT = "script", "Browser tag"
    PIXEL = "pixel", "Pixel"
    CLAIM = "claim", "Accepted claim"


class Conversion(models.Model):
    """A transaction (purchase) or a lead (sign-up), attributed to a click."""

    uuid = models.UUIDField(default=uuid7, unique=True, editable=False)
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    status = models.CharField(
        max_length=10, choices=ConversionStatus.choices, default=ConversionStatus.PENDING
    )
    status_reason = models.TextField(blank=True)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="conversions")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="conversions")
    click = models.ForeignKey(Click, on_delete=models.PROTECT, related_name="conversions")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="conversions")
    # NULL, not "", for the other kind's key: the partial unique constraints rely on it.
    order_number = models.CharField(max_length=REFERENCE_MAX_LENGTH, null=True, blank=True)  # noqa: DJ001
    reference = models.CharField(max_length=REFERENCE_MAX_LENGTH, null=True, blank=True)  # noqa: DJ001
    order_sum = models.BigIntegerField(default=0, help_text="Minor units, VAT included.")
    vat_sum = models.BigIntegerField(default=0, help_text="Minor units.")
    commission = models.BigIntegerField(default=0, help_text="Minor units.")
    commission_breakdown = models.JSONField(
        default=list, help_text="How the commission was computed: event, base, rate, result."
    )
    currency = models.CharField(max_length=3)
    vouchers = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=6, choices=ConversionSource.choices)
    confirmed = models.BooleanField(
        default=False,
        help_text="The store's server reported or confirmed it through the store API.",
    )
    test = models.BooleanField(
        default=False,
        editable=False,
        help_text="Made on a test click: never reaches a partner, left out of overviews.",
    )
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, editable=False)  # noqa: DJ001
    payload_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="SHA-256 of the creating report's business fields: a replay has the same.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            # The pattern operator class lets the same unique indexes serve the back office's
            # prefix search (LIKE 'term%') as well as equality on PostgreSQL.
            models.UniqueConstraint(
                # A test order never blocks the real order with the same number.
                fields=["program", "test", "order_number"],
                condition=Q(kind=EventKind.TRANSACTION),
                name="conversion_order_number_unique",
                opclasses=["int8_ops", "bool_ops", "varchar_pattern_ops"],
            ),
            models.UniqueConstraint(
                fields=["program", "test", "reference"],
                condition=Q(kind=EventKind.LEAD),
                name="conversion_reference_unique",
                opclasses=["int8_ops", "bool_ops", "varchar_pattern_ops"],
            ),
            models.UniqueConstraint(
                fields=["program", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="conversion_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind=EventKind.TRANSACTION, order_number__isnull=False)
                    | Q(kind=EventKind.LEAD, reference__isnull=False)
                ),
                name="conversion_has_its_key",
            ),
            models.CheckConstraint(
                condition=Q(order_sum__gte=0, vat_sum__gte=0, vat_sum__lte=F("order_sum")),
                name="conversion_sums_valid",
            ),
            models.CheckConstraint(
                condition=Q(commission__gte=0), name="conversion_commission_non_negative"
            ),
            # What the store's server reported (the API, an accepted claim) is confirmed.
            models.CheckConstraint(
                condition=(
                    Q(confirmed=True)
                    | ~Q(source__in=[ConversionSource.API, ConversionSource.CLAIM])
                ),
                name="conversion_store_report_confirmed",
            ),
        ]
        indexes = [
            models.Index(fields=["program", "created_at"], name="conversion_program_created"),
            models.Index(fields=["partner", "created_at"], name="conversion_partner_created"),
            # The auto-approval job looks for old pending conversions.
            models.Index(
                fields=["created_at"],
                condition=Q(status=ConversionStatus.PENDING),
                name="conversion_pending_created",
            ),
        ]

    def __str__(self) -> str:
        key = self.order_number if self.kind == EventKind.TRANSACTION else self.reference
        return f"{self.get_kind_display()} {key}"


class ProductLine(models.Model):
    """One product line of a transaction, earning commission at its own event."""

    conversion = models.ForeignKey(Conversion, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=REFERENCE_MAX_LENGTH, blank=True)
    name = models.CharField(max_length=REFERENCE_MAX_LENGTH, blank=True)
    quantity = models.PositiveIntegerField()
    price = models.BigIntegerField(help_text="Unit price in minor units, VAT included.")
    vat = models.BigIntegerField(help_text="The VAT in the unit price, minor units.")
    commission = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["conversion", "position"]
        constraints = [
            models.UniqueConstraint(fields=["conversion", "position"], name="line_position_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(price__gte=0, vat__gte=0, vat__lte=F("price")), name="line_sums_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name or self.reference}"


class ChangeAction(models.TextChoices):
    CREATED = "created", "Created"
    AMENDED = "amended", "Amended"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    # An operator cleared a flag: a held conversion may become auto-approvable again.
    REVIEWED = "reviewed", "Reviewed"


class ConversionChange(models.Model):
    """One entry of a conversion's history, and one item of its partner's feed.

    The writer inserts it with `sequence` NULL, taking no shared lock; the sequencer
    (`conversions.services.sequencing.sequence_committed_changes`) numbers committed
    changes afterwards, in runs that hold the `ChangeCounter` row one at a time, so
    `sequence` order is the order in which changes became numbered and a feed reader that
    has seen N never later finds a new number below N. Per conversion, `id` order is commit
    order (the id is taken while the conversion's row is locked) and so is `sequence` order.
    """

    conversion = models.ForeignKey(Conversion, on_delete=models.CASCADE, related_name="changes")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    # NULL until the sequencer numbers the committed change; unique once set.
    sequence = models.BigIntegerField(unique=True, null=True, blank=True, editable=False)
    action = models.CharField(max_length=10, choices=ChangeAction.choices)
    actor = models.CharField(max_length=200, help_text="Who: store:…, operator:…, system:…")
    reason = models.TextField(blank=True)
    changes = models.JSONField(default=dict, help_text="Field → [old, new].")
    # A test conversion's changes stay out of the partner's feed and webhooks.
    test = models.BooleanField(default=False, editable=False)
    snapshot = models.JSONField(help_text="The conversion as the API showed it after the change.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        # A conversion's changes in the order they were made, numbered or not yet.
        ordering = ["id"]
        indexes = [
            # The partner feed: WHERE partner = … AND sequence > cursor ORDER BY sequence.
            models.Index(fields=["partner", "sequence"], name="change_partner_sequence"),
            models.Index(fields=["conversion", "sequence"], name="change_conversion_sequence"),
            # The sequencer's work: committed changes not numbered yet, oldest first.
            models.Index(
                fields=["id"], condition=Q(sequence__isnull=True), name="change_unsequenced"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence or '…'} {self.action} by {self.actor}"


class ChangeCounter(models.Model):
    """A single row holding the last change sequence number handed out.

    Only the sequencer takes it, one run at a time; writers never touch it.
    """

    last_sequence = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="change_counter_single_row"),
        ]

    def __str__(self) -> str:
        return f"last change #{self.last_sequence}"


class FlagCode(models.TextChoices):
    LIMIT_EXCEEDED = "limit_exceeded", "Over a program limit"
    BOT_CLICK = "bot_click", "The click looked like a bot"
    CLICK_REUSED = "click_reused", "Too many conversions on one click"
    TOO_FAST = "too_fast", "Too soon after the click"


class ConversionFlag(models.Model):
    """A reason to hold a conversion for review: never auto-approved while one is open.

    An operator clears a flag (it stays, with who cleared it and when) or rejects the
    conversion. At most one open flag of each code per conversion.
    """

    conversion = models.ForeignKey(Conversion, on_delete=models.CASCADE, related_name="flags")
    code = models.CharField(max_length=20, choices=FlagCode.choices)
    reason = models.TextField(help_text="Why it was raised, for the operator and the store.")
    raised_at = models.DateTimeField(default=timezone.now, editable=False)
    cleared_at = models.DateTimeField(null=True, blank=True, editable=False)
    cleared_by = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["conversion", "raised_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversion", "code"],
                condition=Q(cleared_at__isnull=True),
                name="flag_open_unique_per_code",
            ),
            models.CheckConstraint(condition=Q(code__in=FlagCode.values), name="flag_code_known"),
            models.CheckConstraint(
                condition=(
                    Q(cleared_at__isnull=True, cleared_by="")
                    | (
                        Q(cleared_at__isnull=False, cleared_at__gte=F("raised_at"))
                        & ~Q(cleared_by="")
                    )
                ),
                name="flag_cleared_by_someone",
            ),
        ]
        indexes = [
            # The review list and the auto-approval job look for open flags only.
            models.Index(
                fields=["conversion"],
                condition=Q(cleared_at__isnull=True),
                name="flag_open_conversion",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} on {self.conversion_id}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class ConversionForReview(Conversion):
    """The back office's "needs review" list: pending conversions with an open flag."""

    class Meta:
        proxy = True
        verbose_name = "conversion to review"
        verbose_name_plural = "needs review"


class ThrottleCount(models.Model):
    """How many browser reports one key (an IP address, a click) sent in one window.

    Shared by every worker process: each report adds one with a single atomic upsert
    (`conversions.tag.throttling`), so the limit holds however many workers serve the tag.
    """

    key = models.CharField(max_length=100)
    window_number = models.BigIntegerField(help_text="Unix time // the window's length.")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "window_number"], name="throttle_key_window_unique"
            ),
        ]
        indexes = [models.Index(fields=["window_number"], name="throttle_window")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_number}: {self.count}"


class ReportOutcome(models.TextChoices):
    CREATED = "created", "Created"
    REPLAYED = "replayed", "Replayed"
    CONFIRMED = "confirmed", "Confirmed"
    AMENDED = "amended", "Amended"
    FLAGGED = "flagged", "Flagged"
    IGNORED = "ignored", "Ignored"
    REFUSED = "refused", "Refused"


class ReportSource(models.TextChoices):
    API = "api", "Store API"
    SCRIPT = "script", "Browser tag"
    PIXEL = "pixel", "Pixel"


PAYLOAD_LOG_MAX_BYTES = 8 * 1024


class ReportLogEntry(models.Model):
    """One report Retrack received (store API create or amend, beacon, pixel) and its fate.

    Written by `conversions.services.log_report` with one INSERT, after the report was
    handled. `store` is whose log it is: the token's store, or for a browser report the
    store of its click's program; None for a browser report that belongs to nobody.
    Everything "as sent" is cut to its column; `payload` to 8 KB of text.
    """

    uuid = models.UUIDField(default=uuid7, unique=True, editable=False)
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    source = models.CharField(max_length=6, choices=ReportSource.choices)
    kind = models.CharField(max_length=12, choices=EventKind.choices, null=True, blank=True)  # noqa: DJ001
    outcome = models.CharField(max_length=10, choices=ReportOutcome.choices)
    code = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    message = models.TextField(blank=True)
    status_code = models.PositiveSmallIntegerField()
    store = models.ForeignKey(
        "stores.Store", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    click = models.CharField(max_length=64, blank=True, help_text="As sent.")
    key = models.CharField(
        max_length=REFERENCE_MAX_LENGTH, blank=True, help_text="The orderNumber or reference sent."
    )
    conversion = models.ForeignKey(
        Conversion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    test = models.BooleanField(default=False)
    payload = models.TextField(blank=True, help_text="The body as received, at most 8 KB.")

    class Meta:
        indexes = [
            # GET /api/v2/reports: the store's entries, newest first, by UUIDv7 cursor.
            models.Index(fields=["store", "-uuid"], name="report_store_uuid"),
            # The back office per program, and the pruning job.
            models.Index(fields=["program", "-received_at"], name="report_program_received"),
            models.Index(fields=["received_at"], name="report_received"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.outcome} {self.code or ''}".strip()


# Claims live in their own module; imported here so that Django finds their models.
from conversions.claims.models import Claim, ClaimChange  # noqa: E402, F401
