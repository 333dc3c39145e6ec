"""How many cores each tier needs at 10 M, 100 M and 1 B clicks a month: docs/scaling.md.

Arithmetic, not a benchmark: the CPU each unit of work costs, as measured on this
machine and recorded in bench/RESULTS.md (each figure names its section), times the
rate at the busiest hour, divided by the share of a core a tier may use at that hour.
The workload's shape (peak factor, conversion rate, ...) is an assumption, printed with
the tables and changeable on the command line, so that the tables can be redone for
another network:

    .venv/bin/python bench/fleet.py                      # the tables in docs/scaling.md
    .venv/bin/python bench/fleet.py --conversion-rate 0.1 --peak-factor 20

What it leaves out, on purpose: the network between tiers (it adds latency, not CPU),
disks (PostgreSQL's I/O is sized from the storage figures, not from CPU) and the
back office (a few people; its reports are measured per call in bench/RESULTS.md).
"""

import argparse
import math
from dataclasses import dataclass

SECONDS_A_MONTH = 30 * 24 * 3600


@dataclass(frozen=True)
class Cost:
    milliseconds: float
    source: str


# CPU per unit of work, milliseconds; the section of bench/RESULTS.md each comes from.
COSTS = {
    "click_web": Cost(1.3, "Clicks: where the time goes (app per request under wrk)"),
    "click_postgres": Cost(0.4, "Clicks: where the time goes (PostgreSQL per request)"),
    "click_pgbouncer": Cost(0.08, "PgBouncer in transaction mode (PgBouncer per click)"),
    "transaction_pgbouncer": Cost(
        0.7, "PgBouncer in transaction mode (PgBouncer per store API create)"
    ),
    # Measured on a host 1.6-1.8x slower than the other figures' (the bare-psycopg baseline
    # cost 3.1-4.3 ms there against 1.8-2.6): scaled by the tree from before issue 17,
    # measured in the same runs, to this table's machine.
    "transaction_web": Cost(
        4.0, "Server-bound prepared statements (0.37-0.51 of before's 8.7-10.2 ms)"
    ),
    "transaction_postgres": Cost(
        2.0, "Server-bound prepared statements (0.56-0.82, median 0.64, of before's 3.0-3.6 ms)"
    ),
    "delivery_worker": Cost(5.0, "Webhooks, run of 2026-11-29 07:11 (worker, threads pool)"),
    "delivery_postgres": Cost(1.0, "Webhooks, run of 2026-11-29 07:11 (PostgreSQL)"),
    "feed_item_postgres": Cost(0.010, "Partner feed (jsonb_out, ~10 ms a 1000-item page)"),
    "feed_item_web": Cost(0.008, "Partner feed (18 ms a 1000-item page, less PostgreSQL's)"),
}
# Bytes a stored click takes, table and indexes: 419 measured ("PgBouncer in transaction
# mode"), rounded up for longer user agents and referers than the bench's, and bloat.
CLICK_BYTES = 600


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--months", nargs="+", type=float, default=[10e6, 100e6, 1e9])
    parser.add_argument(
        "--peak-factor",
        type=float,
        default=10,
        help="busiest hour over the month's average rate (Black Friday evening); default 10",
    )
    parser.add_argument(
        "--conversion-rate", type=float, default=0.05, help="conversions per click; 0.05"
    )
    parser.add_argument(
        "--changes-per-conversion",
        type=float,
        default=2.2,
        help="feed changes per conversion: created, approved or rejected, some amended; 2.2",
    )
    parser.add_argument(
        "--webhook-share",
        type=float,
        default=0.5,
        help="share of changes whose partner has a webhook endpoint; 0.5",
    )
    parser.add_argument(
        "--utilisation",
        type=float,
        default=0.5,
        help="share of each core a tier may use at the busiest hour; 0.5",
    )
    parser.add_argument(
        "--retention-days", type=float, default=400, help="days clicks are kept; 400"
    )
    return parser.parse_args()


def cores(rate_per_second: float, *costs: str, utilisation: float) -> float:
    """Cores to carry `rate_per_second` units costing the sum of `costs` each."""
    milliseconds = sum(COSTS[name].milliseconds for name in costs)
    return rate_per_second * milliseconds / 1000 / utilisation


def tiers(clicks_a_month: float, arguments: argparse.Namespace) -> dict[str, float]:
    peak = arguments.peak_factor / SECONDS_A_MONTH
    clicks = clicks_a_month * peak
    transactions = clicks * arguments.conversion_rate
    changes = transactions * arguments.changes_per_conversion
    deliveries = changes * arguments.webhook_share
    # Approvals and rejections run as worker jobs: costed as one store API write each,
    # an upper bound (no HTTP, no DRF; not measured on its own).
    settlements = transactions
    use = arguments.utilisation
    return {
        "clicks/s at peak": clicks,
        "store API transactions/s at peak": transactions,
        "feed changes/s at peak": changes,
        "web cores": cores(clicks, "click_web", utilisation=use)
        + cores(transactions, "transaction_web", utilisation=use)
        + cores(changes, "feed_item_web", utilisation=use),
        "worker cores": cores(deliveries, "delivery_worker", utilisation=use)
        + cores(settlements, "transaction_web", utilisation=use),
        "PgBouncer cores": cores(clicks, "click_pgbouncer", utilisation=use)
        + cores(transactions + settlements, "transaction_pgbouncer", utilisation=use),
        "primary cores (writes)": cores(clicks, "click_postgres", utilisation=use)
        + cores(transactions + settlements, "transaction_postgres", utilisation=use)
        + cores(deliveries, "delivery_postgres", utilisation=use),
        "replica cores (feed reads)": cores(changes, "feed_item_postgres", utilisation=use),
        "clicks stored": clicks_a_month * arguments.retention_days / 30,
        "click storage, GB": clicks_a_month * arguments.retention_days / 30 * CLICK_BYTES / 1e9,
    }


def shown(value: float) -> str:
    if value >= 1e9:
        return f"{value / 1e9:.1f} B"
    if value >= 1e6:
        return f"{value / 1e6:.0f} M"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{math.ceil(value * 10) / 10:.1f}"


def main() -> None:
    arguments = parse_arguments()
    columns = [tiers(month, arguments) for month in arguments.months]
    names = [f"{shown(month)} clicks a month" for month in arguments.months]
    print("| | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for row in columns[0]:
        print(f"| {row} | " + " | ".join(shown(column[row]) for column in columns) + " |")
    print()
    print(
        f"Assumptions: peak factor {arguments.peak_factor:g}, conversion rate "
        f"{arguments.conversion_rate:g}, {arguments.changes_per_conversion:g} changes per "
        f"conversion, webhooks for {arguments.webhook_share:.0%} of changes, cores used to "
        f"{arguments.utilisation:.0%} at peak, clicks kept {arguments.retention_days:g} days "
        f"at {CLICK_BYTES} bytes each."
    )
    print()
    print("| cost | ms of CPU | bench/RESULTS.md |")
    print("|---|---:|---|")
    for name, cost in COSTS.items():
        print(f"| {name} | {cost.milliseconds:g} | {cost.source} |")


if __name__ == "__main__":
    main()
