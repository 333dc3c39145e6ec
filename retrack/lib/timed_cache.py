"""A small in-process cache with expiry, for lookups on the click hot path.

Django's cache would do, but with a shared backend (Redis) every click would pay a
network round trip and a pickle for a value that is the same for every worker anyway.
"""

import time
from collections.abc import Hashable
from typing import Any

MISSING = object()


class TimedCache:
    """Values kept for a number of seconds; at `max_entries` it starts over, so a flood of
    made-up keys cannot grow it without bound. Safe to share between threads: each call
    is a single dictionary operation."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable) -> Any:
        """The value, or MISSING when there is none or it has expired."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return MISSING
        return entry[1]

    def set(self, key: Hashable, value: Any, seconds: float) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + seconds, value)

    def clear(self) -> None:
        self._entries.clear()
