"""Times the overview's queries for the last 30 days and prints their plans (see the .sh)."""

import os
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retrack.settings")
django.setup()

from django.utils import timezone  # noqa: E402

from conversions.reports import (  # noqa: E402
    daily_click_counts,
    daily_conversion_figures,
    period_bounds,
    program_daily_report,
)
from stores.models import Program  # noqa: E402

RUNS = 3

programs = list(Program.objects.select_related("store"))
program_ids = [program.pk for program in programs]
end = timezone.now().date()
start = end - timedelta(days=29)
since, until = period_bounds(start, end)
for name, queryset in [
    ("clicks", daily_click_counts(program_ids, since, until)),
    ("conversions", daily_conversion_figures(program_ids, since, until)),
]:
    print(f"== plan of the {name} query")
    print(queryset.explain(analyze=True, buffers=True))
timings = []
for _ in range(RUNS):
    began = time.perf_counter()
    report = program_daily_report(programs, start, end)
    timings.append(time.perf_counter() - began)
clicks = sum(entry.total.clicks for entry in report.programs)
conversions = sum(entry.total.conversions for entry in report.programs)
print(
    f"== overview of {start}..{end}: {clicks} counted clicks, {conversions} conversions; "
    f"{RUNS} runs: " + ", ".join(f"{seconds * 1000:.0f} ms" for seconds in timings)
)
