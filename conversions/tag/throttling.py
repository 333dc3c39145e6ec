"""How many reports the browser tag accepts per minute, per address and per click.

A limit counted in each process's memory lets N workers take N times the limit (2
gunicorn workers let 187 of 300 beacons through a limit of 120). So the counts live where
every worker sees them:

- in Redis or memcached when `CACHE_URL` names one (`add` then `incr`: atomic there);
- otherwise in the database, one `ThrottleCount` row per key and window, counted by one
  atomic upsert (`INSERT … ON CONFLICT … DO UPDATE … RETURNING`) in autocommit, so
  concurrent reports never lose a count and a refused report's count is kept.

`RETRACK_THROTTLE_COUNTS` (`auto`, `database`, `cache`) overrides the choice; a `cache`
that is not shared between processes draws the system check warning `conversions.W001`.
"""

import time
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import connection

from conversions.models import ThrottleCount
from retrack.lib.database import once_more_on_a_fresh_connection

THROTTLE_WINDOW_SECONDS = 60
AUTO, DATABASE, CACHE = "auto", "database", "cache"
CHOICES = (AUTO, DATABASE, CACHE)
# Cache backends whose counters every worker shares and whose incr is atomic.
SHARED_CACHE_BACKENDS = (
    "django.core.cache.backends.redis.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
    "django_redis.cache.RedisCache",
)

_table, _key, _window, _count = (
    connection.ops.quote_name(name)
    for name in (ThrottleCount._meta.db_table, "key", "window_number", "count")
)
# PostgreSQL and SQLite (3.35+) alike.
_COUNT_SQL = (
    f"INSERT INTO {_table} AS counted ({_key}, {_window}, {_count}) VALUES (%s, %s, 1) "
    f"ON CONFLICT ({_key}, {_window}) DO UPDATE SET {_count} = counted.{_count} + 1 "
    f"RETURNING {_count}"
)
_PRUNE_SQL = f"DELETE FROM {_table} WHERE {_window} < %s"
_last_pruned_window: int | None = None


def current_window() -> int:
    """The number of the current fixed throttling window."""
    return int(time.time() // THROTTLE_WINDOW_SECONDS)


def _count_in_window(key: str) -> int:
    return count_in_window(f"tag:{key}", current_window(), THROTTLE_WINDOW_SECONDS)


def ip_over_limit(ip_address: str) -> bool:
    """Count a tag request from `ip_address`; True once it is over the per-minute limit."""
    limit = settings.RETRACK_TAG_RATE_PER_IP
    return limit > 0 and _count_in_window(f"ip:{ip_address}") > limit


def click_over_limit(click: uuid.UUID) -> bool:
    """Count a report naming `click`; True once it is over the per-minute limit."""
    limit = settings.RETRACK_TAG_RATE_PER_CLICK
    return limit > 0 and _count_in_window(f"click:{click}") > limit


def cache_is_shared() -> bool:
    """Whether the default cache is one all worker processes share, with atomic counters."""
    return settings.CACHES["default"]["BACKEND"] in SHARED_CACHE_BACKENDS


def counts_in_cache() -> bool:
    """Whether throttles count in the cache (else in the database)."""
    choice = settings.RETRACK_THROTTLE_COUNTS
    if choice == AUTO:
        return cache_is_shared()
    return choice == CACHE


def count_in_window(key: str, window: int, window_seconds: int) -> int:
    """Add one to `key`'s count in fixed window number `window`; returns the new count."""
    if counts_in_cache():
        return _count_in_cache(key, window, window_seconds)
    return _count_in_database(key, window)


def _count_in_cache(key: str, window: int, window_seconds: int) -> int:
    cache = caches["default"]
    cache_key = f"retrack:throttle:{key}:{window}"
    # add() then incr(): atomic on Redis and memcached, so concurrent workers never lose
    # a count; a key that expired in between starts the window again.
    cache.add(cache_key, 0, timeout=window_seconds * 2)
    try:
        return cache.incr(cache_key)
    except ValueError:
        cache.set(cache_key, 1, timeout=window_seconds * 2)
        return 1


def _count_in_database(key: str, window: int) -> int:
    def count() -> int:
        with connection.cursor() as cursor:
            cursor.execute(_COUNT_SQL, [key, window])
            return cursor.fetchone()[0]

    # The first query of a beacon after a database restart: on a dead connection it is
    # counted again on a fresh one (at worst one report counted twice), never a 500.
    counted = once_more_on_a_fresh_connection(count, writing=ThrottleCount)
    _prune_once_per_window(window)
    return counted


def _prune_once_per_window(window: int) -> None:
    """Drop the windows before the previous one; each process does it once per window."""
    global _last_pruned_window
    if _last_pruned_window == window:
        return
    _last_pruned_window = window
    with connection.cursor() as cursor:
        cursor.execute(_PRUNE_SQL, [window - 1])
