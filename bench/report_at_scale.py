"""Times the overview's click query for the last 30 days and prints its plans (see the .sh).

Besides the query as shipped (bounded by the UUIDv7 key range as well), it runs the same
query without that range, which is what a covering index of the counted clicks would serve.
With the argument `partner-stats` it times the partner stats of the last 30 days instead
(`GET /api/v2/partner/stats`: the partner's click counts and conversion figures), counted
from the clicks' index; with `partner-stats rolled-up`, after running the daily rollup.
"""

import os
import sys
import time
from datetime import timedelta

import django

# Python puts this script's folder first on the path, where bench/clicks.py would shadow
# the clicks app; the project's root (PYTHONPATH=.) is what the imports mean.
sys.path[:] = [
    entry
    for entry in sys.path
    if os.path.abspath(entry or ".") != os.path.dirname(os.path.abspath(__file__))
]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retrack.settings")
django.setup()

from django.db.models import Count  # noqa: E402
from django.db.models.functions import TruncDate  # noqa: E402
from django.utils import timezone  # noqa: E402

from clicks.models import ClickDay, ClickRollup  # noqa: E402
from clicks.selectors import counted_clicks  # noqa: E402
from clicks.services import roll_up_click_days  # noqa: E402
from conversions.reports import (  # noqa: E402
    daily_conversion_figures,
    partner_daily_click_counts,
    partner_daily_conversion_figures,
    partner_daily_stats,
    period_bounds,
    program_daily_report,
)
from partners.models import Partner  # noqa: E402
from retrack.lib.uuids import created_between  # noqa: E402
from stores.models import Program  # noqa: E402

RUNS = 3


def timed(queryset) -> str:
    timings = []
    for _ in range(RUNS):
        began = time.perf_counter()
        list(queryset.all())
        timings.append(time.perf_counter() - began)
    return ", ".join(f"{seconds * 1000:.0f} ms" for seconds in timings)


def summary(plan: str) -> str:
    """The plan's scans, the pages it touched and its execution time."""
    lines = plan.splitlines()
    scans = [line.strip() for line in lines if "Scan" in line][:2]
    pages = [line.strip() for line in lines if "Buffers: shared" in line][:1]
    total = [line.strip() for line in lines if line.startswith("Execution Time")]
    return "\n".join(f"   {line}" for line in scans + pages + total)


def overview() -> None:
    programs = list(Program.objects.select_related("store"))
    program_ids = [program.pk for program in programs]
    end = timezone.now().date()
    start = end - timedelta(days=29)
    since, until = period_bounds(start, end)
    # What the overview counted before it read the roll-up: every click of the period.
    live_count = (
        counted_clicks()
        .filter(created_between(since, until), program_id__in=program_ids)
        .annotate(day=TruncDate("created_at"))
        .values("program_id", "day")
        .annotate(number=Count("*"))
        .order_by()
    )
    without_key_range = (
        counted_clicks()
        .filter(program_id__in=program_ids, created_at__gte=since, created_at__lt=until)
        .annotate(day=TruncDate("created_at"))
        .values("program_id", "day")
        .annotate(number=Count("*"))
        .order_by()
    )
    variants = [
        ("clicks counted live, UUIDv7 key range (before the roll-up)", live_count),
        ("clicks counted live, without the key range", without_key_range),
        ("conversions, as shipped", daily_conversion_figures(program_ids, since, until)),
    ]
    for name, queryset in variants:
        print(f"== {name}: {timed(queryset)}")
        print(summary(queryset.explain(analyze=True, buffers=True)))
    began = time.perf_counter()
    rolled = roll_up_click_days()
    print(f"== roll_up_clicks over {rolled} days: {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    report = program_daily_report(programs, start, end)
    seconds = time.perf_counter() - began
    clicks = sum(entry.total.clicks for entry in report.programs)
    conversions = sum(entry.total.conversions for entry in report.programs)
    print(
        f"== the whole overview of {start}..{end} ({clicks} counted clicks, {conversions} "
        f"conversions): {seconds * 1000:.0f} ms"
    )


def dashboard() -> None:
    """The dashboard (the admin's home): a period against the one before, both read from
    ClickDay once the beat job has rolled their days up (then only today is counted live)."""
    from conversions.dashboard import operator_dashboard

    end = timezone.now().date()
    began = time.perf_counter()
    rolled = roll_up_click_days()
    print(f"== roll_up_clicks over {rolled} days: {time.perf_counter() - began:.1f} s")
    for days in (7, 30, 90):
        first = end - timedelta(days=days - 1)
        timings = []
        for _ in range(RUNS):
            began = time.perf_counter()
            board = operator_dashboard(first, end)
            timings.append(time.perf_counter() - began)
        figures = board.total.current
        print(
            f"== dashboard, last {days} days ({figures.clicks} counted clicks, "
            f"{figures.conversions} conversions; {days * 2} days read): "
            + ", ".join(f"{seconds * 1000:.0f} ms" for seconds in timings)
        )
        dashboard_parts(first, end)


def dashboard_parts(first, end) -> None:
    """Where a dashboard's time goes: its two reads, each timed alone (both periods)."""
    from clicks.selectors import daily_click_rows, rolled_up_through
    from conversions.dashboard import comparison_start, dashboard_conversions

    previous_start = comparison_start(first, end)
    since, until = period_bounds(previous_start, end)
    for name, read in [
        (
            "clicks (ClickDay, then the days after it live)",
            lambda: daily_click_rows(previous_start, end),
        ),
        ("conversions (grouped)", lambda: dashboard_conversions(since, until)),
    ]:
        timings = []
        for _ in range(RUNS):
            began = time.perf_counter()
            rows = read()
            timings.append(time.perf_counter() - began)
        print(
            f"   {name}: {len(rows)} rows, "
            + ", ".join(f"{seconds * 1000:.0f} ms" for seconds in timings)
        )
    print(f"   rolled up through {rolled_up_through()}; counted live after it")


def partner_stats(rolled_up: bool) -> None:
    """The partner stats of the last 30 days: from the clicks' index, or after the rollup."""
    ClickDay.objects.all().delete()
    ClickRollup.objects.all().delete()
    if rolled_up:
        began = time.perf_counter()
        days = roll_up_click_days()
        print(f"== roll_up_clicks over {days} days: {time.perf_counter() - began:.1f} s")
    partner = Partner.objects.order_by("pk").first()
    programs = list(Program.objects.order_by("name", "pk"))
    program_ids = [program.pk for program in programs]
    end = timezone.now().date()
    start = end - timedelta(days=29)
    since, until = period_bounds(start, end)
    variants = [
        (
            "partner stats, conversions",
            partner_daily_conversion_figures(partner.pk, program_ids, since, until),
        ),
    ]
    if not rolled_up:  # after the rollup, only today's clicks are counted from the index
        live_clicks = partner_daily_click_counts(partner.pk, program_ids, since, until)
        variants.insert(0, ("partner stats, clicks", live_clicks))
    for name, queryset in variants:
        print(f"== {name}: {timed(queryset)}")
        print(summary(queryset.explain(analyze=True, buffers=True)))
    timings = []
    for _ in range(RUNS):
        began = time.perf_counter()
        rows = partner_daily_stats(partner.pk, programs, start, end)
        timings.append(time.perf_counter() - began)
    clicks = sum(row.clicks for row in rows)
    conversions = sum(row.conversions for row in rows)
    print(
        f"== the whole partner stats of {start}..{end} ({clicks} counted clicks, {conversions} "
        f"conversions, {len(rows)} rows): "
        + ", ".join(f"{seconds * 1000:.0f} ms" for seconds in timings)
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["partner-stats"]:
        partner_stats(rolled_up=sys.argv[2:] == ["rolled-up"])
    elif sys.argv[1:2] == ["dashboard"]:
        dashboard()
    else:
        overview()
