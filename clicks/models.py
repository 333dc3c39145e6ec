from django.db import models
from django.db.models import Q
from django.utils import timezone

from partners.models import Partner
from retrack.lib.uuids import uuid7
from stores.models import Program

REF_MAX_LENGTH = 255
URL_MAX_LENGTH = 2048
USER_AGENT_MAX_LENGTH = 512


class Click(models.Model):
    """One visit a partner sent to a program. The table grows by millions of rows a day.

    The primary key is the public click UUID, a time-ordered UUIDv7, so inserts append to
    the end of the index and no second identifier index is needed. Jobs that walk the table
    by age (anonymising, pruning) use UUID ranges (`retrack.lib.uuids.created_between`) on it.
    """

    uuid = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # No single-column indexes on the foreign keys: the (program, created_at) and
    # (partner, created_at) indexes serve those lookups, and every index costs each insert.
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+", db_index=False)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+", db_index=False)
    ref = models.CharField(max_length=REF_MAX_LENGTH, blank=True)
    ref2 = models.CharField(max_length=REF_MAX_LENGTH, blank=True)
    ref3 = models.CharField(max_length=REF_MAX_LENGTH, blank=True)
    deeplink = models.CharField(max_length=URL_MAX_LENGTH, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    browser = models.CharField(
        max_length=USER_AGENT_MAX_LENGTH, blank=True, help_text="The User-Agent header."
    )
    referer = models.CharField(max_length=URL_MAX_LENGTH, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO-3166 alpha-2.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    is_bot = models.BooleanField(
        default=False, help_text="A HEAD request, a crawler or a link preview: not counted."
    )
    test = models.BooleanField(
        default=False,
        editable=False,
        help_text="Made by a store developer to test an integration: its conversions are tests.",
    )
    is_anonymized = models.BooleanField(
        default=False,
        editable=False,
        help_text="The IP address is cut and the user agent reduced to its family.",
    )

    class Meta:
        indexes = [
            # Reports and admin filters per program and per partner over a date range.
            models.Index(fields=["program", "created_at"], name="click_program_created"),
            # Also the partner stats' click counts, from the index alone (index-only scan):
            # it carries program_id and is_bot (PostgreSQL; SQLite builds the plain index).
            models.Index(
                fields=["partner", "created_at"],
                include=["program", "is_bot"],
                name="click_partner_created_cover",
            ),
            # "Where is my cashback?": operators search by the partner's own reference.
            # Its pattern operator class serves a prefix (LIKE 'term%') as well as equality
            # on PostgreSQL, in one index: a second one would cost every click's INSERT.
            models.Index(fields=["ref"], name="click_ref", opclasses=["varchar_pattern_ops"]),
            # The anonymizing job walks only the clicks it has not done yet, oldest first,
            # without reading past the (ever larger) anonymized part of the table.
            models.Index(
                fields=["uuid"], condition=Q(is_anonymized=False), name="click_to_anonymize"
            ),
        ]

    def __str__(self) -> str:
        return str(self.uuid)


class ClickDay(models.Model):
    """Counted clicks (bots apart) of one partner on one program on one finished UTC day;
    test clicks are never in it.

    A rollup of the click table, written by `roll_up_click_days` for each day once it has
    ended, so that statistics read at most programs × days rows however many clicks there
    are. `ClickRollup` says up to which day the rows are complete.
    """

    # No index of its own: the unique constraint's index leads with the partner.
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+", db_index=False)
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    clicks = models.PositiveBigIntegerField()
    # The day's clicks flagged as bots (crawlers, link previews, HEAD requests), which
    # `clicks` leaves out: the dashboard shows them apart.
    bot_clicks = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            # Also the partner stats' index: WHERE partner = … AND day BETWEEN ….
            models.UniqueConstraint(fields=["partner", "day", "program"], name="click_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.clicks}"


class ClickRollup(models.Model):
    """A single row: the last UTC day whose clicks are all in `ClickDay`."""

    last_day = models.DateField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="click_rollup_single_row"),
        ]

    def __str__(self) -> str:
        return f"clicks rolled up through {self.last_day}"
