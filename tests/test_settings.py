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


def read_settings(*names: str, **environment: str) -> list[str]:
    """The named settings as Django sees them with this environment, one repr per name."""
    code = "import django; django.setup(); from django.conf import settings; " + "; ".join(
        f"print(repr(settings.{name}))" for name in names
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "RETRACK_", "DJANGO_")) and key != "DEBUG"
    }
    env.update(
        {"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "retrack.example", "DEBUG": "false"},
        **environment,
        DJANGO_SETTINGS_MODULE="retrack.settings",
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split("\n")[: len(names)]


HTTPS_SETTINGS = (
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
)


def test_https_settings_default_to_a_year_of_hsts_and_no_redirect():
    assert read_settings(*HTTPS_SETTINGS) == ["31536000", "False", "False", "False", "None"]
    assert read_settings("SECURE_PROXY_SSL_HEADER", RETRACK_TRUSTED_PROXIES="1") == [
        "('HTTP_X_FORWARDED_PROTO', 'https')"
    ]


def test_https_settings_come_from_the_environment():
    values = read_settings(
        *HTTPS_SETTINGS,
        SECURE_HSTS_SECONDS="63072000",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        SECURE_HSTS_PRELOAD="true",
        SECURE_SSL_REDIRECT="true",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Scheme: https",
    )

    assert values == ["63072000", "True", "True", "True", "('HTTP_X_FORWARDED_SCHEME', 'https')"]


def test_it_refuses_to_start_with_a_proxy_ssl_header_it_cannot_read():
    result = run_check(
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="retrack.example",
        DEBUG="false",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
    )

    assert result.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER must read 'Header-Name: value'" in result.stderr


def test_login_lockout_settings_come_from_the_environment():
    values = read_settings(
        "AXES_FAILURE_LIMIT",
        "AXES_COOLOFF_TIME",
        RETRACK_LOGIN_FAILURE_LIMIT="10",
        RETRACK_LOGIN_LOCKOUT_MINUTES="0",
    )

    assert values == ["10", "None"]


def test_it_refuses_webhook_retry_delays_that_are_not_whole_seconds():
    result = run_check(
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="retrack.example",
        DEBUG="false",
        RETRACK_WEBHOOK_RETRY_SECONDS="60,5m,0",
    )

    assert result.returncode != 0
    assert "RETRACK_WEBHOOK_RETRY_SECONDS must be whole numbers of seconds" in result.stderr
