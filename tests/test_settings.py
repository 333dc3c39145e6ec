import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_check(**environment: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(environment, DJANGO_SETTINGS_MODULE="retrack.settings")
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_it_refuses_to_start_without_a_secret_key_outside_debug():
    result = run_check(ALLOWED_HOSTS="retrack.example", DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_it_refuses_to_start_without_allowed_hosts_outside_debug():
    result = run_check(SECRET_KEY="x" * 50, DEBUG="false")

    assert result.returncode != 0
    assert "ALLOWED_HOSTS is not set" in result.stderr


def test_it_starts_with_both_set():
    result = run_check(SECRET_KEY="x" * 50, ALLOWED_HOSTS="retrack.example", DEBUG="false")

    assert result.returncode == 0, result.stderr


def test_it_refuses_webhook_retry_delays_that_are_not_whole_seconds():
    result = run_check(
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="retrack.example",
        DEBUG="false",
        RETRACK_WEBHOOK_RETRY_SECONDS="60,5m,0",
    )

    assert result.returncode != 0
    assert "RETRACK_WEBHOOK_RETRY_SECONDS must be whole numbers of seconds" in result.stderr
