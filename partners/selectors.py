"""Reads for partners: the conversion feed they poll and the programs they may promote."""

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Prefetch, QuerySet, TextField
from django.db.models.functions import Cast

from conversions.selectors import partner_visible_changes
from partners.models import INTEGRATION_TEST_PARTNER_NAME, Partner
from retrack.lib.replica import read_alias
from stores.models import Event, Program, ProgramStatus

FEED_DEFAULT_LIMIT = 100
FEED_MAX_LIMIT = 1000


@dataclass(frozen=True)
class FeedPage:
    """One page of a partner's feed.

    `snapshots` are the stored conversion documents as JSON text, ready to be spliced into
    a response without being parsed and re-encoded. `last_sequence` is the position the
    next page starts after: the last item's sequence, or the requested position when the
    page is empty, so a poller that is up to date keeps its place.
    """

    snapshots: list[str]
    last_sequence: int
    has_more: bool


def partner_feed_page(partner: Partner, *, after_sequence: int, limit: int) -> FeedPage:
    """The partner's conversion changes with a sequence above `after_sequence`, oldest first.

    Why this never skips a change: a change is written with no number and numbered only
    after it committed, by the sequencer (`conversions.services.sequencing`), whose runs
    are serial and each commit all their numbers at once, every one above the previous
    run's. So once this query (one statement, one snapshot) sees sequence N, any change it
    did not see is numbered by a later run, above N: a cursor at N can never miss one. The
    feed lags the commits by at most the time until the next run (the view runs one first
    on the primary; beat runs one every second), and never skips. Writers take no shared
    lock for this: the write path has no global serialisation.

    An ordering by `updated_at`, or by a number taken while the writer's transaction is
    open (a database sequence, an auto-increment id), would skip: a transaction that took
    number 5 and commits after one that took 6 has been read is never returned again
    past cursor 6.

    The page is an index range scan on (partner, sequence), never an OFFSET, so the last
    page of a long feed is as cheap as the first. The snapshots are returned as stored: the
    conversion as it was right after that change, with `change` set to its sequence.
    """
    # From the read replica when there is one: it lags, it never skips (README, "The read
    # replica"): its state is a prefix of the primary's commit order, as sequence order is.
    # While it cannot be reached, from the primary, which is never behind it: a cursor
    # carries over either way.
    rows = list(
        partner_visible_changes()
        .using(read_alias())
        .filter(partner=partner, sequence__gt=after_sequence)
        .order_by("sequence")
        .values_list("sequence", Cast("snapshot", output_field=TextField()))[: limit + 1]
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    return FeedPage(
        snapshots=[snapshot for _, snapshot in rows],
        last_sequence=rows[-1][0] if rows else after_sequence,
        has_more=has_more,
    )


def partner_conversion_snapshot(partner: Partner, conversion_uuid) -> str | None:
    """One of the partner's conversions as its latest feed item shows it (JSON text), or None.

    Test conversions and other partners' never have an item in this partner's feed, so
    they are as unknown here as a conversion that does not exist; nor is a conversion
    whose first change is not numbered yet. Read from the primary, even with a read
    replica: a webhook receiver looks up at once what it was just told of.
    """
    return (
        partner_visible_changes()
        .filter(partner=partner, conversion__uuid=conversion_uuid)
        .order_by("-sequence")
        .values_list(Cast("snapshot", output_field=TextField()), flat=True)
        .first()
    )


def admitted_programs(partner: Partner) -> QuerySet[Program]:
    """The active programs the partner is admitted to, with their store and events."""
    return (
        Program.objects.filter(admissions__partner=partner, status=ProgramStatus.ACTIVE)
        .select_related("store")
        .prefetch_related(Prefetch("events", queryset=Event.objects.order_by("name")))
        .order_by("name", "pk")
    )


def stats_programs(partner: Partner) -> QuerySet[Program]:
    """The programs the partner's stats cover: every one it is admitted to, any status
    (from the read replica when there is one, as the stats themselves)."""
    return (
        Program.objects.using(read_alias())
        .filter(admissions__partner=partner)
        .order_by("name", "pk")
    )


def integration_test_partner_id(using: str = DEFAULT_DB_ALIAS) -> int | None:
    """The primary key of the partner test clicks come from; None before the first one."""
    return (
        Partner.objects.using(using)
        .filter(name=INTEGRATION_TEST_PARTNER_NAME)
        .values_list("pk", flat=True)
        .first()
    )
