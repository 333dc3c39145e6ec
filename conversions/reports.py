"""The back office's overview: clicks and conversions per program and per day.

Test clicks and test conversions (contract section 8) are never in these figures, nor in
the partner stats below.

Clicks come from their daily roll-up (`clicks.selectors.daily_click_rows`: `ClickDay` for
the days the beat job has rolled up, the clicks' UUIDv7 key range only for the days after),
so the overview never counts the click table's history. Conversions are grouped by
(program, day) through conversion_program_created. Their cost grows with the period's
conversions, not with the size of the click table; bench/RESULTS.md has the figures at
100 million clicks.

The overview and the partner stats read from the read replica when there is one
(`retrack.lib.replica.read_alias`): every query of one report on the same server, so
that its figures are of one moment, however far that lags.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate

from clicks.models import Click, ClickDay
from clicks.selectors import BOT, REAL, daily_click_rows, rolled_up_through
from conversions.models import Conversion, ConversionStatus
from partners.selectors import integration_test_partner_id
from retrack.lib.replica import read_alias
from stores.models import EventKind, Program

MAX_REPORT_DAYS = 366
# The (kind, status) pairs the overview shows as columns, in this order.
COLUMNS = [(kind, status) for kind in EventKind.values for status in ConversionStatus.values]


def conversion_rate(conversions: int, clicks: int) -> Decimal | None:
    """Conversions per 100 clicks, two decimals; None without clicks."""
    if not clicks:
        return None
    rate = Decimal(conversions * 100) / Decimal(clicks)
    return rate.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class Figures:
    """Clicks and conversions of one program over one day (or a whole period)."""

    clicks: int = 0
    # (kind, status) → number of conversions
    conversions_by: dict[tuple[str, str], int] = field(default_factory=dict)
    # Order sum and commission of the conversions not rejected, in the program's minor units.
    order_sum: int = 0
    commission: int = 0

    @property
    def conversions(self) -> int:
        return sum(self.conversions_by.values())

    @property
    def conversion_rate(self) -> Decimal | None:
        return conversion_rate(self.conversions, self.clicks)

    def count(self, kind: str, status: str) -> int:
        return self.conversions_by.get((kind, status), 0)

    @property
    def counts(self) -> list[int]:
        """The number of conversions for each of COLUMNS."""
        return [self.count(kind, status) for kind, status in COLUMNS]

    def add(self, other: "Figures") -> None:
        self.clicks += other.clicks
        for key, number in other.conversions_by.items():
            self.conversions_by[key] = self.conversions_by.get(key, 0) + number
        self.order_sum += other.order_sum
        self.commission += other.commission


@dataclass
class ProgramReport:
    program: Program
    days: dict[date, Figures]
    total: Figures


@dataclass
class Report:
    start: date
    end: date
    programs: list[ProgramReport]
    # Clicks and conversions of all the report's programs together, per day.
    daily: dict[date, Figures]


def _period_days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC instants [since, until) covering the days `start` to `end`, both included."""
    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )


def daily_conversion_figures(
    program_ids: list[int], since: datetime, until: datetime, using: str = DEFAULT_DB_ALIAS
) -> QuerySet:
    """Conversions per (program, UTC day, kind, status) in [since, until), with their sums;
    test conversions left out."""
    return (
        Conversion.objects.using(using)
        .filter(program_id__in=program_ids, created_at__gte=since, created_at__lt=until, test=False)
        .annotate(day=TruncDate("created_at"))
        .values("program_id", "day", "kind", "status")
        .annotate(number=Count("*"), order_sum=Sum("order_sum"), commission=Sum("commission"))
        .order_by()
    )


def program_daily_report(programs: list[Program], start: date, end: date) -> Report:
    """Clicks (bots excluded) and conversions per program and UTC day, `start`-`end` included."""
    if end < start or (end - start).days >= MAX_REPORT_DAYS:
        raise ValueError(f"a report covers 1 to {MAX_REPORT_DAYS} days")
    days = _period_days(start, end)
    by_program = {
        program.pk: ProgramReport(
            program=program, days={day: Figures() for day in days}, total=Figures()
        )
        for program in programs
    }
    since, until = period_bounds(start, end)
    using = read_alias()
    # Rolled-up days come from ClickDay (one row per partner), so a day's rows are summed.
    for row in daily_click_rows(start, end, using=using, program_id__in=list(by_program)):
        by_program[row["program_id"]].days[row["day"]].clicks += row["clicks"]
    for row in daily_conversion_figures(list(by_program), since, until, using):
        figures = by_program[row["program_id"]].days[row["day"]]
        figures.conversions_by[(row["kind"], row["status"])] = row["number"]
        if row["status"] != ConversionStatus.REJECTED:
            figures.order_sum += row["order_sum"]
            figures.commission += row["commission"]
    daily = {day: Figures() for day in days}
    for program_report in by_program.values():
        for day, figures in program_report.days.items():
            program_report.total.add(figures)
            daily[day].add(figures)
    return Report(start=start, end=end, programs=list(by_program.values()), daily=daily)


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    value: int


def chart_bars(
    values: list[tuple[date, int]], *, width: float, height: float
) -> tuple[list[Bar], int]:
    """Bar geometry for an SVG chart of daily values, and the largest value (the scale's top)."""
    top = max((value for _, value in values), default=0)
    slot = width / max(len(values), 1)
    bars = []
    for index, (day, value) in enumerate(values):
        bar_height = height * value / top if top else 0
        bars.append(
            Bar(
                x=round(index * slot + slot * 0.1, 2),
                y=round(height - bar_height, 2),
                width=round(slot * 0.8, 2),
                height=round(bar_height, 2),
                day=day,
                value=value,
            )
        )
    return bars, top


CHART_WIDTH = 900
CHART_HEIGHT = 110


def daily_charts(daily: dict[date, Figures]) -> list[dict]:
    """The overview's and the dashboard's two bar charts: counted clicks and conversions a day.

    Drawn server-side as SVG by templates/admin/conversions/daily_charts.html.
    """
    charts = []
    for title, values in [
        ("Clicks per day (bots excluded)", [(d, f.clicks) for d, f in daily.items()]),
        ("Conversions per day", [(d, f.conversions) for d, f in daily.items()]),
    ]:
        bars, top = chart_bars(values, width=CHART_WIDTH, height=CHART_HEIGHT)
        step = max(1, len(bars) // 6)
        charts.append(
            {
                "title": title,
                "bars": bars,
                "top": top,
                "labels": [bar for index, bar in enumerate(bars) if index % step == 0],
                "width": CHART_WIDTH,
                "height": CHART_HEIGHT,
            }
        )
    return charts


@dataclass(frozen=True)
class PartnerDay:
    """One program's figures for one partner on one UTC day (the partner stats' row)."""

    day: date
    program: Program
    clicks: int
    conversions: int
    # Commission of the day's conversions by their status now, in the program's minor units.
    commission: dict[str, int]

    @property
    def conversion_rate(self) -> Decimal | None:
        return Figures(
            clicks=self.clicks, conversions_by={("", ""): self.conversions}
        ).conversion_rate


def partner_daily_click_counts(
    partner_id: int,
    program_ids: list[int],
    since: datetime,
    until: datetime,
    using: str = DEFAULT_DB_ALIAS,
) -> QuerySet:
    """The partner's counted clicks per (program, UTC day) in [since, until), from the clicks.

    Served from `click_partner_created_cover` alone (an index-only scan: it holds
    program_id and is_bot besides its keys), so it reads the index entries of the period's
    clicks of this partner and no table page. The stats use it only for the days the
    rollup (`ClickDay`) does not hold yet: today, and any day before its next run.

    Test clicks all come from the integration test partner (`make_test_click`), so only
    its counts filter them out: for any other partner the filter would hold for every
    click and cost the index-only scan a visit to each click's table page.
    """
    clicks = Click.objects.using(using).filter(~BOT)
    if partner_id == integration_test_partner_id(using):
        clicks = clicks.filter(REAL)
    return (
        clicks.filter(
            partner_id=partner_id,
            program_id__in=program_ids,
            created_at__gte=since,
            created_at__lt=until,
        )
        .annotate(day=TruncDate("created_at"))
        .values("program_id", "day")
        .annotate(number=Count("*"))
        .order_by()
    )


def partner_click_counts(
    partner_id: int, program_ids: list[int], start: date, end: date, using: str = DEFAULT_DB_ALIAS
) -> dict[tuple[int, date], int]:
    """Counted clicks per (program, day), `start`-`end`: rolled-up days read from ClickDay
    (at most programs × days rows), the rest counted from the clicks' index."""
    counts: dict[tuple[int, date], int] = {}
    rolled_through = rolled_up_through(using)
    live_from = start
    if rolled_through is not None and rolled_through >= start:
        for row in (
            ClickDay.objects.using(using)
            .filter(
                partner_id=partner_id,
                program_id__in=program_ids,
                day__gte=start,
                day__lte=min(end, rolled_through),
            )
            .values("program_id", "day", "clicks")
        ):
            counts[(row["program_id"], row["day"])] = row["clicks"]
        live_from = rolled_through + timedelta(days=1)
    if live_from <= end:
        since, until = period_bounds(live_from, end)
        for row in partner_daily_click_counts(partner_id, program_ids, since, until, using):
            counts[(row["program_id"], row["day"])] = row["number"]
    return counts


def partner_daily_conversion_figures(
    partner_id: int,
    program_ids: list[int],
    since: datetime,
    until: datetime,
    using: str = DEFAULT_DB_ALIAS,
) -> QuerySet:
    """The partner's conversions per (program, UTC day of creation, status), with commission;
    test conversions left out."""
    return (
        Conversion.objects.using(using)
        .filter(
            test=False,
            partner_id=partner_id,
            program_id__in=program_ids,
            created_at__gte=since,
            created_at__lt=until,
        )
        .annotate(day=TruncDate("created_at"))
        .values("program_id", "day", "status")
        .annotate(number=Count("*"), commission=Sum("commission"))
        .order_by()
    )


def partner_daily_stats(
    partner_id: int, programs: list[Program], start: date, end: date
) -> list[PartnerDay]:
    """Per UTC day and program, `start`-`end` included: the partner's counted clicks, the
    conversions created that day, and their commission by status. Every day and program
    has a row, zeros included; ordered by day, then program name."""
    if end < start or (end - start).days >= MAX_REPORT_DAYS:
        raise ValueError(f"stats cover 1 to {MAX_REPORT_DAYS} days")
    since, until = period_bounds(start, end)
    program_ids = [program.pk for program in programs]
    using = read_alias()
    clicks = partner_click_counts(partner_id, program_ids, start, end, using)
    conversions: dict[tuple[int, date], int] = {}
    commission: dict[tuple[int, date], dict[str, int]] = {}
    for row in partner_daily_conversion_figures(partner_id, program_ids, since, until, using):
        key = (row["program_id"], row["day"])
        conversions[key] = conversions.get(key, 0) + row["number"]
        commission.setdefault(key, dict.fromkeys(ConversionStatus.values, 0))
        commission[key][row["status"]] = row["commission"] or 0
    ordered = sorted(programs, key=lambda program: (program.name, program.pk))
    return [
        PartnerDay(
            day=day,
            program=program,
            clicks=clicks.get((program.pk, day), 0),
            conversions=conversions.get((program.pk, day), 0),
            commission=commission.get((program.pk, day), dict.fromkeys(ConversionStatus.values, 0)),
        )
        for day in _period_days(start, end)
        for program in ordered
    ]
