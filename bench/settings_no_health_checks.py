"""Retrack's settings with the one change `make bench-clicks` also measures.

With CONN_HEALTH_CHECKS on, Django sends `SELECT 1` before the first query of every
request that reuses a persistent connection: a second round trip to PostgreSQL for a
click whose only query is its INSERT. The click path does not need it: a click INSERT
that fails on a dead connection is tried once more on a fresh one.
"""

from retrack.settings import *  # noqa: F403
from retrack.settings import DATABASES

DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
