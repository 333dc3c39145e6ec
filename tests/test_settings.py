import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What a child Python needs to start; nothing else of this process's environment (a
# developer's DEBUG, HOST or DATABASE_URL) reaches the settings under test.
PASSED_THROUGH = {"PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR"}


def run_settings(*command: str, **environment: str) -> subprocess.CompletedProcess:
    """Run a command with the real settings, an environment of only `environment`, and no
    .env file (RETRACK_ENV_FILE empty), whatever `make run` wrote beside manage.py."""
    env = {key: value for key, value in os.environ.items() if key in PASSED_THROUGH}
    env.update(environment, DJANGO_SETTINGS_MODULE="retrack.settings", RETRACK_ENV_FILE="")
    return subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True
    )


def run_check(**environment: str) -> subprocess.CompletedProcess:
    return run_settings("manage.py", "check", **environment)


def public_url(**environment: str) -> str:
    result = run_settings(
        "-c",
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.RETRACK_PUBLIC_URL)",
        DEBUG="true",
        **environment,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


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


def test_it_reads_the_env_file_named_by_retrack_env_file(tmp_path):
    env_file = tmp_path / "local.env"
    env_file.write_text("SECRET_KEY=from-the-file\nALLOWED_HOSTS=retrack.example\n")

    without_file = run_check(DEBUG="false")
    from_file = run_settings(
        "-c",
        "import os; os.environ['RETRACK_ENV_FILE'] = os.environ.pop('LOCAL_ENV'); "
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SECRET_KEY, settings.ALLOWED_HOSTS)",
        DEBUG="false",
        LOCAL_ENV=str(env_file),
    )

    assert without_file.returncode != 0
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout.strip() == "from-the-file ['retrack.example']"


def test_the_public_url_defaults_to_where_make_run_serves():
    assert public_url() == "http://127.0.0.1:8000"
    assert public_url(PORT="18500") == "http://127.0.0.1:18500"
    assert public_url(HOST="localhost", PORT="18500") == "http://localhost:18500"
    assert public_url(HOST="0.0.0.0", PORT="18500") == "http://127.0.0.1:18500"


def test_a_set_public_url_wins_over_host_and_port():
    assert (
        public_url(RETRACK_PUBLIC_URL="https://retrack.example/", PORT="18500")
        == "https://retrack.example"
    )


def read_settings(*names: str, **environment: str) -> list[str]:
    """The named settings as Django sees them with this environment, one repr per name."""
    code = "import django; django.setup(); from django.conf import settings; " + "; ".join(
        f"print(repr(settings.{name}))" for name in names
    )
    result = run_settings(
        "-c",
        code,
        **{"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "retrack.example", "DEBUG": "false"},
        **environment,
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


# Not read_alias(): with a replica it connects to it (an unreachable host here), and which
# alias it then answers is tests/replica's subject.
_DATABASES = (
    "import django; django.setup(); from django.conf import settings; "
    "replica = settings.DATABASES.get('replica', {}); "
    "print(sorted(settings.DATABASES), settings.RETRACK_REPLICA_RETRY_SECONDS, "
    "replica.get('HOST'), replica.get('PORT'), replica.get('NAME'), "
    "replica.get('CONN_MAX_AGE'), replica.get('TEST', {}).get('MIRROR'))"
)
_PRIMARY = "postgres://retrack@primary.example:5432/retrack"


def test_without_a_replica_url_every_read_uses_the_primary():
    result = run_settings("-c", _DATABASES, DEBUG="true", DATABASE_URL=_PRIMARY)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['default'] 30 None None None None None"


def test_a_replica_url_adds_the_replica_alias_for_the_reads_that_may_lag():
    result = run_settings(
        "-c",
        _DATABASES,
        DEBUG="true",
        DATABASE_URL=_PRIMARY,
        DATABASE_REPLICA_URL="postgres://retrack@replica.example:5433/retrack",
        DATABASE_CONN_MAX_AGE="60",
        RETRACK_REPLICA_RETRY_SECONDS="5",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "['default', 'replica'] 5 replica.example 5433 retrack 60 default"
    )


def test_it_refuses_a_replica_of_an_sqlite_database():
    result = run_settings(
        "-c",
        _DATABASES,
        DEBUG="true",
        DATABASE_URL="sqlite:///db.sqlite3",
        DATABASE_REPLICA_URL="postgres://retrack@replica.example:5433/retrack",
    )

    assert result.returncode != 0
    assert "DATABASE_REPLICA_URL needs DATABASE_URL to be PostgreSQL" in result.stderr


def test_it_refuses_a_replica_url_that_is_not_postgresql():
    result = run_settings(
        "-c",
        _DATABASES,
        DEBUG="true",
        DATABASE_URL=_PRIMARY,
        DATABASE_REPLICA_URL="sqlite:///replica.sqlite3",
    )

    assert result.returncode != 0
    assert "DATABASE_REPLICA_URL must be a postgres:// URL" in result.stderr
