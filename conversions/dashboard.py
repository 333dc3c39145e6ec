"""Reads for the back office's home: a period's figures against the period before it.

Both periods are read at once (they are contiguous): clicks per (program, partner, UTC day),
counted and bots apart, from their daily roll-up (`clicks.selectors.daily_click_rows`:
ClickDay for the days the beat job has rolled up, the clicks' UUIDv7 index for the days
after, today included), and conversions grouped by
(program, partner, day, kind, status, currency) through conversion_program_created.
Everything else is summed here in Python from those rows, so the cost grows with the days
and the conversions of the two periods, not with the size of the click table.
Money stays per currency: programs may pay in different ones.

The dashboard reads from the read replica when there is one (`retrack.lib.replica`): one
server for all of its queries, so that its figures are of one moment; the open claims
beside it are counted on the primary, as the claims' own pages show them.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate

from clicks.selectors import daily_click_rows
from conversions.models import Conversion, ConversionStatus, ReportLogEntry, ReportOutcome
from conversions.reports import Figures, period_bounds
from conversions.trust import open_flags_exist
from partners.models import Partner
from retrack.lib.money import average_of
from retrack.lib.replica import read_alias
from stores.models import EventKind, Program, ProgramStatus

PERIOD_DAYS = (7, 30, 90)
# A program that has reported nothing for this long is shown under integration health.
QUIET_AFTER = timedelta(hours=24)


@dataclass
class Totals:
    """One period's figures for a program, a partner or everything."""

    clicks: int = 0
    bot_clicks: int = 0
    conversions: int = 0
    # currency → status → commission, in minor units
    commission: dict[str, dict[str, int]] = field(default_factory=dict)
    # currency → [order sum, number] of the transactions not rejected
    orders: dict[str, list[int]] = field(default_factory=dict)

    @property
    def conversion_rate(self) -> Decimal | None:
        """Conversions per 100 counted clicks, two decimals; None without clicks."""
        return _rate(self.conversions, self.clicks)

    def commission_in(self, status: str) -> dict[str, int]:
        return {
            currency: by_status[status]
            for currency, by_status in sorted(self.commission.items())
            if by_status.get(status)
        }

    @property
    def average_order_value(self) -> dict[str, int]:
        """Per currency: the mean order sum of the transactions not rejected."""
        return {
            currency: average_of(total, number)
            for currency, (total, number) in sorted(self.orders.items())
            if number
        }

    @property
    def earnings_per_click(self) -> dict[str, int]:
        """Per currency: commission not rejected (pending and approved) per counted click."""
        if not self.clicks:
            return {}
        earned = {
            currency: by_status.get(ConversionStatus.PENDING, 0)
            + by_status.get(ConversionStatus.APPROVED, 0)
            for currency, by_status in sorted(self.commission.items())
        }
        return {currency: average_of(total, self.clicks) for currency, total in earned.items()}


@dataclass
class Row:
    """A program's, a partner's or the whole selection's figures in both periods."""

    label: str
    current: Totals
    previous: Totals
    # The query that narrows the dashboard to this row's program or partner.
    narrowed_query: str = ""

    def change(self, figure: str) -> Decimal | None:
        """The change of a count (clicks, conversions) against the previous period, in %."""
        return percent_change(getattr(self.current, figure), getattr(self.previous, figure))


@dataclass
class ProgramHealth:
    program: Program
    last_report: datetime | None
    now: datetime
    # Reports logged for the program in the last 24 hours, and how many were refused.
    reports: int = 0
    refused: int = 0

    @property
    def is_quiet(self) -> bool:
        return self.last_report is None or self.last_report < self.now - QUIET_AFTER

    @property
    def refusal_rate(self) -> Decimal | None:
        """Refused reports per 100 received in the last 24 hours; None without reports."""
        return _rate(self.refused, self.reports)


@dataclass
class Dashboard:
    start: date
    end: date
    previous_start: date
    previous_end: date
    total: Row
    programs: list[Row]
    partners: list[Row]
    # The current period's clicks and conversions per day, for the charts.
    daily: dict[date, Figures]


def percent_change(current: int | Decimal | None, previous: int | Decimal | None):
    """How much `current` differs from `previous`, in % with one decimal; None from nothing."""
    if current is None or not previous:
        return None
    change = (Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)
    return change.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def dashboard_conversions(
    since: datetime, until: datetime, *, using: str = DEFAULT_DB_ALIAS, **scope
) -> list[dict]:
    """Conversions per (program, partner, UTC day, kind, status, currency) in [since, until),
    test conversions left out."""
    return list(
        Conversion.objects.using(using)
        .filter(created_at__gte=since, created_at__lt=until, test=False, **scope)
        .annotate(day=TruncDate("created_at"))
        .values("program_id", "partner_id", "day", "kind", "status", "currency")
        .annotate(number=Count("*"), order_sum=Sum("order_sum"), commission=Sum("commission"))
        .order_by()
    )


def comparison_start(start: date, end: date) -> date:
    """The first day of the period the days `start`-`end` are compared with."""
    return start - timedelta(days=(end - start).days + 1)


def operator_dashboard(
    start: date, end: date, *, program: Program | None = None, partner: Partner | None = None
) -> Dashboard:
    """The figures of the days `start`-`end` (UTC, both included) and of as many days before.

    `program` or `partner` narrows everything to one of them.
    """
    length = (end - start).days + 1
    previous_start = comparison_start(start, end)
    since, until = period_bounds(start, end)
    previous_since, _ = period_bounds(previous_start, start)
    scope = {}
    if program is not None:
        scope["program_id"] = program.pk
    if partner is not None:
        scope["partner_id"] = partner.pk
    using = read_alias()

    def totals() -> defaultdict[int, Totals]:
        return defaultdict(Totals)

    current = {"program": totals(), "partner": totals(), "all": totals()}
    previous = {"program": totals(), "partner": totals(), "all": totals()}
    daily = {start + timedelta(days=offset): Figures() for offset in range(length)}
    for row in daily_click_rows(previous_start, end, using=using, **scope):
        period = current if row["day"] >= start else previous
        for bucket in _buckets(period, row):
            bucket.clicks += row["clicks"]
            bucket.bot_clicks += row["bot_clicks"]
        if row["day"] in daily:
            daily[row["day"]].clicks += row["clicks"]
    for row in dashboard_conversions(previous_since, until, using=using, **scope):
        period = current if row["day"] >= start else previous
        for bucket in _buckets(period, row):
            _add_conversions(bucket, row)
        if row["day"] in daily:
            key = (row["kind"], row["status"])
            figures = daily[row["day"]]
            figures.conversions_by[key] = figures.conversions_by.get(key, 0) + row["number"]
    return Dashboard(
        start=start,
        end=end,
        previous_start=previous_start,
        previous_end=start - timedelta(days=1),
        total=Row("All", current["all"][0], previous["all"][0]),
        programs=_rows(
            Program.objects.using(using).select_related("store"), current, previous, "program"
        ),
        partners=_rows(Partner.objects.using(using), current, previous, "partner"),
        daily=daily,
    )


def _buckets(period: dict, row: dict) -> list[Totals]:
    return [period["program"][row["program_id"]], period["partner"][row["partner_id"]]] + [
        period["all"][0]
    ]


def _add_conversions(totals: Totals, row: dict) -> None:
    totals.conversions += row["number"]
    by_status = totals.commission.setdefault(row["currency"], {})
    by_status[row["status"]] = by_status.get(row["status"], 0) + row["commission"]
    if row["kind"] == EventKind.TRANSACTION and row["status"] != ConversionStatus.REJECTED:
        orders = totals.orders.setdefault(row["currency"], [0, 0])
        orders[0] += row["order_sum"]
        orders[1] += row["number"]


def _rows(queryset, current: dict, previous: dict, kind: str) -> list[Row]:
    """A row for each program or partner with figures in either period, busiest first."""
    ids = set(current[kind]) | set(previous[kind])
    rows = [
        Row(str(item), current[kind][item.pk], previous[kind][item.pk], f"{kind}={item.pk}")
        for item in queryset.filter(pk__in=ids)
    ]
    return sorted(rows, key=lambda row: (-row.current.clicks, -row.current.conversions, row.label))


def count_needing_review(program: Program | None = None, partner: Partner | None = None) -> int:
    """Real pending conversions held by an open flag (the "Needs review" list's default),
    counted on the primary as the list shows them, like the open claims."""
    held = Conversion.objects.filter(open_flags_exist(), status=ConversionStatus.PENDING)
    held = held.filter(test=False)
    if program is not None:
        held = held.filter(program=program)
    if partner is not None:
        held = held.filter(partner=partner)
    return held.count()


def integration_health(now: datetime) -> list[ProgramHealth]:
    """Each active program with its latest report, the quiet ones (none in 24 h) first, and
    its reports and refusals of the last 24 hours from the report log.

    The latest report is the newest report log entry, or the newest conversion when that
    is later (conversions recorded before the log existed, or by `seed_demo`): one index
    lookup each per program (report_program_received, conversion_program_created). The
    day's counts are one grouped range read of report_received. A report on an unknown
    click or program belongs to no program and is not counted here. Test reports count:
    they are the integration at work.
    """
    latest_entry = ReportLogEntry.objects.filter(program=OuterRef("pk")).order_by("-received_at")
    latest = Conversion.objects.filter(program=OuterRef("pk")).order_by("-created_at")
    programs = (
        Program.objects.using(read_alias())
        .filter(status=ProgramStatus.ACTIVE)
        .select_related("store")
        .annotate(
            last_entry=Subquery(latest_entry.values("received_at")[:1]),
            last_conversion=Subquery(latest.values("created_at")[:1]),
        )
    )
    day = (
        ReportLogEntry.objects.using(read_alias())
        .filter(received_at__gte=now - QUIET_AFTER, program__isnull=False)
        .values("program_id")
        .annotate(reports=Count("pk"), refused=Count("pk", filter=Q(outcome=ReportOutcome.REFUSED)))
        .order_by()
    )
    counts = {row["program_id"]: (row["reports"], row["refused"]) for row in day}
    health = [
        ProgramHealth(
            program,
            max(filter(None, [program.last_entry, program.last_conversion]), default=None),
            now,
            *counts.get(program.pk, (0, 0)),
        )
        for program in programs
    ]
    return sorted(health, key=lambda item: (not item.is_quiet, item.program.name))
