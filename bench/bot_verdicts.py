"""CPU per bot verdict on the click path: `python bench/bot_verdicts.py`.

Compares, per user agent, Retrack's lookup of the crawler-user-agents list
(retrack/lib/crawlers.py) with the list's patterns as one regular expression and with the
package's own `is_crawler`, on the 30 real browsers of the tests and on the list's 2100
example robots; and the verdict once cached (retrack.lib.visitors.is_bot_agent). Process
CPU time, the median of 9 passes, so other load on the machine counts less.
"""

import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import crawleruseragents  # noqa: E402

from retrack.lib.crawlers import is_robot_agent  # noqa: E402
from tests.clicks.test_bot_detection import BROWSERS, CORPUS  # noqa: E402

ONE_EXPRESSION = re.compile(
    "|".join(entry["pattern"] for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA)
)


def microseconds_per_call(function: Callable[[str], object], agents: list[str]) -> float:
    passes = []
    for _ in range(9):
        started = time.process_time()
        for agent in agents:
            function(agent)
        passes.append((time.process_time() - started) / len(agents) * 1e6)
    return statistics.median(passes)


def main() -> None:
    import django

    django.setup()
    from retrack.lib.visitors import is_bot_agent

    browsers = list(BROWSERS.values()) * 10
    for name, agents in [("30 real browsers", browsers), (f"{len(CORPUS)} robots", CORPUS)]:
        print(
            f"{name}: Retrack's lookup {microseconds_per_call(is_robot_agent, agents):.0f} µs,"
            f" the list as one regex {microseconds_per_call(ONE_EXPRESSION.search, agents):.0f} µs,"
            f" crawleruseragents.is_crawler"
            f" {microseconds_per_call(crawleruseragents.is_crawler, agents):.0f} µs"
        )
    cached = [browsers[0]] * 100_000
    print(f"a cached verdict: {microseconds_per_call(is_bot_agent, cached):.2f} µs")


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retrack.settings_test")
    main()
