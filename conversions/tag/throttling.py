"""How many reports the browser tag accepts per minute, per address and per click."""

import time
import uuid

from django.conf import settings
from django.core.cache import cache

THROTTLE_WINDOW_SECONDS = 60


def current_window() -> int:
    """The number of the current fixed throttling window."""
    return int(time.time() // THROTTLE_WINDOW_SECONDS)


def _count_in_window(key: str) -> int:
    cache_key = f"retrack:tag:{key}:{current_window()}"
    # add() then incr(): atomic on Redis and memcached, so concurrent workers never lose
    # a count; a key that expired in between starts the window again.
    cache.add(cache_key, 0, timeout=THROTTLE_WINDOW_SECONDS * 2)
    try:
        return cache.incr(cache_key)
    except ValueError:
        cache.set(cache_key, 1, timeout=THROTTLE_WINDOW_SECONDS * 2)
        return 1


def ip_over_limit(ip_address: str) -> bool:
    """Count a tag request from `ip_address`; True once it is over the per-minute limit."""
    limit = settings.RETRACK_TAG_RATE_PER_IP
    return limit > 0 and _count_in_window(f"ip:{ip_address}") > limit


def click_over_limit(click: uuid.UUID) -> bool:
    """Count a report naming `click`; True once it is over the per-minute limit."""
    limit = settings.RETRACK_TAG_RATE_PER_CLICK
    return limit > 0 and _count_in_window(f"click:{click}") > limit
