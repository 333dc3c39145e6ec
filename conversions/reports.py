"""The back office's overview: clicks and conversions per program and per day.

Two aggregate queries grouped by (program, day), both bounded by `program_id IN (…) AND
created_at in [start, end)`: conversions through conversion_program_created; clicks also by
the matching range of their time-ordered primary key, which keeps the scan within the
period's part of the table. Their cost grows with the rows in the period, not with the size
of the tables; the README says what it costs at 100 million clicks and what to add then.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate

from clicks.selectors import click_key_range, counted_clicks
from conversions.models import Conversion, ConversionStatus
from stores.models import EventKind, Program

MAX_REPORT_DAYS = 366
# The (kind, status) pairs the overview shows as columns, in this order.
COLUMNS = [(kind, status) for kind in EventKind.values for status in ConversionStatus.values]


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
        """Conversions per 100 clicks, two decimals; None without clicks."""
        if not self.clicks:
            return None
        rate = Decimal(self.conversions * 100) / Decimal(self.clicks)
        return rate.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

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


def daily_click_counts(program_ids: list[int], since: datetime, until: datetime) -> QuerySet:
    """Counted clicks per (program, UTC day) in [since, until): rows of program_id, day, number.

    Programs' clicks interleave on disk, so a scan of click_program_created would visit
    heap pages all over the table; the UUIDv7 primary key follows insertion order, so a
    range on it confines the scan to the period's part of the table however big the table
    grows. COUNT(*) (not of a column) lets a covering index answer alone (see README).
    """
    return (
        counted_clicks()
        .filter(program_id__in=program_ids, created_at__gte=since, created_at__lt=until)
        .filter(click_key_range(since, until))
        .annotate(day=TruncDate("created_at"))
        .values("program_id", "day")
        .annotate(number=Count("*"))
        .order_by()
    )


def daily_conversion_figures(program_ids: list[int], since: datetime, until: datetime) -> QuerySet:
    """Conversions per (program, UTC day, kind, status) in [since, until), with their sums."""
    return (
        Conversion.objects.filter(
            program_id__in=program_ids, created_at__gte=since, created_at__lt=until
        )
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
    clicks = daily_click_counts(list(by_program), since, until)
    for row in clicks:
        by_program[row["program_id"]].days[row["day"]].clicks = row["number"]
    for row in daily_conversion_figures(list(by_program), since, until):
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
