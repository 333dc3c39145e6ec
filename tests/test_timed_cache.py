import time

from retrack.lib.timed_cache import MISSING, TimedCache


def test_it_returns_a_value_until_it_expires(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    cache = TimedCache(max_entries=10)
    cache.set("route", "value", seconds=30)

    now[0] += 29.9
    assert cache.get("route") == "value"
    now[0] += 0.1
    assert cache.get("route") is MISSING


def test_it_keeps_none_as_a_value():
    cache = TimedCache(max_entries=10)

    cache.set("unknown link", None, seconds=30)

    assert cache.get("unknown link") is None


def test_it_starts_over_at_its_size_bound():
    cache = TimedCache(max_entries=2)
    cache.set("a", 1, seconds=30)
    cache.set("b", 2, seconds=30)

    cache.set("c", 3, seconds=30)

    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (MISSING, MISSING, 3)
