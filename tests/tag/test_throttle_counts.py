"""The tag's throttles count where every worker process sees the same counts."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.db import connection

from conversions.models import ThrottleCount
from conversions.tag.throttling import count_in_window, counts_in_cache
from tests.operations.helpers import free_port

BEACONS = 300
LIMIT_PER_IP = 120
REPOSITORY = Path(__file__).resolve().parents[2]


def _check_ids() -> list[str]:
    return [message.id for message in run_checks() if message.id.startswith("conversions.")]


@pytest.mark.django_db
def test_it_counts_each_key_in_its_own_window_in_the_database():
    counts = [
        count_in_window("ip:192.0.2.1", 1000, 60),
        count_in_window("ip:192.0.2.1", 1000, 60),
        count_in_window("ip:192.0.2.2", 1000, 60),
        count_in_window("ip:192.0.2.1", 1001, 60),
        count_in_window("ip:192.0.2.1", 1001, 60),
    ]

    assert counts == [1, 2, 1, 1, 2]
    assert not counts_in_cache()


@pytest.mark.django_db
def test_it_drops_the_counts_of_windows_before_the_previous_one():
    count_in_window("ip:192.0.2.1", 1000, 60)
    count_in_window("ip:192.0.2.1", 1001, 60)

    count_in_window("ip:192.0.2.1", 1002, 60)

    assert sorted(ThrottleCount.objects.values_list("window_number", "count")) == [
        (1001, 1),
        (1002, 1),
    ]


def test_the_checks_warn_when_the_counts_stay_in_each_process(settings):
    settings.RETRACK_THROTTLE_COUNTS = "cache"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    assert _check_ids() == ["conversions.W001"]


def test_the_checks_are_quiet_when_the_counts_are_shared(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    for choice in ("auto", "database"):
        settings.RETRACK_THROTTLE_COUNTS = choice
        assert _check_ids() == []
    settings.RETRACK_THROTTLE_COUNTS = "cache"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/1",
        }
    }
    assert _check_ids() == []


def test_the_checks_refuse_an_unknown_choice(settings):
    settings.RETRACK_THROTTLE_COUNTS = "memory"

    assert _check_ids() == ["conversions.E001"]


def _wait_for(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited: {server.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/track/v2/retrack.js", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not start")


def _beacon(port: int) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/track/v2/conversion",
        data=b"{}",
        headers={"Content-Type": "text/plain", "Origin": "https://www.store.example"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _start_of_a_fresh_minute() -> None:
    """Wait while the minute is about to turn, so that the beacons share one window."""
    if time.time() % 60 > 45:
        time.sleep(60 - time.time() % 60 + 0.5)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_limit_holds_across_two_gunicorn_workers():
    # given Retrack under gunicorn, 2 workers with the default per-process cache, on the
    # test database, and a limit of 120 reports a minute per address
    settings_dict = connection.settings_dict
    port = free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "retrack.settings",
        "DEBUG": "false",
        "SECRET_KEY": "throttle-test-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": (
            f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:"
            f"{settings_dict['PORT']}/{settings_dict['NAME']}"
        ),
        "CACHE_URL": "locmemcache://",
        "RETRACK_TAG_RATE_PER_IP": str(LIMIT_PER_IP),
        "RETRACK_TAG_RATE_PER_CLICK": "0",
    }
    environment.pop("RETRACK_THROTTLE_COUNTS", None)
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers=2",
            f"--bind=127.0.0.1:{port}",
            "retrack.wsgi:application",
        ],
        cwd=REPOSITORY,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(port, server)
        _start_of_a_fresh_minute()

        # when 300 beacons arrive from one address, 8 at a time
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda _: _beacon(port), range(BEACONS)))
    finally:
        server.terminate()
        server.wait(timeout=30)

    # then exactly the limit got through, whichever worker answered
    assert (statuses.count(204), statuses.count(429)) == (LIMIT_PER_IP, BEACONS - LIMIT_PER_IP)
