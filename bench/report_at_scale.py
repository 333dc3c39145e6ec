"""Times the overview's click query for the last 30 days and prints its plans (see the .sh).

Besides the query as shipped (bounded by the UUIDv7 key range as well), it runs the same
query without that range, which is what a covering index of the counted clicks would serve.
"""

import os
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retrack.settings")
django.setup()

from django.db.models import Count  # noqa: E402
from django.db.models.functions import TruncDate  # noqa: E402
from django.utils import timezone  # noqa: E402

from clicks.selectors import counted_clicks  # noqa: E402
from conversions.reports import (  # noqa: E402
    daily_click_counts,
    daily_conversion_figures,
    period_bounds,
    program_daily_report,
)
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


programs = list(Program.objects.select_related("store"))
program_ids = [program.pk for program in programs]
end = timezone.now().date()
start = end - timedelta(days=29)
since, until = period_bounds(start, end)
without_key_range = (
    counted_clicks()
    .filter(program_id__in=program_ids, created_at__gte=since, created_at__lt=until)
    .annotate(day=TruncDate("created_at"))
    .values("program_id", "day")
    .annotate(number=Count("*"))
    .order_by()
)
variants = [
    ("clicks, as shipped", daily_click_counts(program_ids, since, until)),
    ("clicks, without the key range", without_key_range),
    ("conversions, as shipped", daily_conversion_figures(program_ids, since, until)),
]
for name, queryset in variants:
    print(f"== {name}: {timed(queryset)}")
    print(summary(queryset.explain(analyze=True, buffers=True)))
began = time.perf_counter()
report = program_daily_report(programs, start, end)
seconds = time.perf_counter() - began
clicks = sum(entry.total.clicks for entry in report.programs)
conversions = sum(entry.total.conversions for entry in report.programs)
print(
    f"== the whole overview of {start}..{end} ({clicks} counted clicks, {conversions} "
    f"conversions): {seconds * 1000:.0f} ms"
)

# The dashboard (the admin's home): a period and the one before it. The first view counts
# each closed day's clicks into ClickDay once (cold); later views read those counts (warm).
from clicks.services import roll_up_click_days  # noqa: E402
from conversions.dashboard import comparison_start, operator_dashboard  # noqa: E402

for days in (7, 30, 90):
    first = end - timedelta(days=days - 1)
    began = time.perf_counter()
    rolled = roll_up_click_days(comparison_start(first, end), end)
    cold_roll_up = time.perf_counter() - began
    timings = []
    for _ in range(RUNS):
        began = time.perf_counter()
        dashboard = operator_dashboard(first, end)
        timings.append(time.perf_counter() - began)
    figures = dashboard.total.current
    print(
        f"== dashboard, last {days} days ({figures.clicks} counted clicks, {figures.conversions}"
        f" conversions; {days * 2} days read): roll-up of {len(rolled)} closed days "
        f"{cold_roll_up * 1000:.0f} ms once, then "
        + ", ".join(f"{seconds * 1000:.0f} ms" for seconds in timings)
    )
