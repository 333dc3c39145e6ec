"""DATABASE_POOLER: the settings Retrack needs behind PgBouncer in transaction mode, and the
ones it refuses there (the journey through a real PgBouncer: tests/operations/test_pgbouncer.py)."""

import pytest

from tests.test_settings import read_settings, run_check

BOUNCER_URL = "postgres://retrack@127.0.0.1:6432/retrack"
POOLER_SETTINGS = (
    "DATABASES['default'].get('DISABLE_SERVER_SIDE_CURSORS', False)",
    "DATABASES['default']['OPTIONS'].get('prepare_threshold', 'unset')",
)


def check(**environment: str):
    return run_check(SECRET_KEY="x" * 50, ALLOWED_HOSTS="retrack.example", **environment)


def test_without_a_pooler_server_side_cursors_and_prepared_statements_stay_on():
    assert read_settings(*POOLER_SETTINGS, DATABASE_URL=BOUNCER_URL) == ["False", "5"]


def test_sqlite_is_given_no_prepared_statements_option():
    values = read_settings(*POOLER_SETTINGS, DATABASE_URL="sqlite:///unused.sqlite3")

    assert values == ["False", "'unset'"]


def test_transaction_mode_turns_server_side_cursors_and_prepared_statements_off():
    values = read_settings(
        *POOLER_SETTINGS, DATABASE_URL=BOUNCER_URL, DATABASE_POOLER="Transaction"
    )

    assert values == ["True", "None"]


def test_it_refuses_a_pooler_mode_it_does_not_know():
    result = check(DATABASE_URL=BOUNCER_URL, DATABASE_POOLER="statement")

    assert result.returncode != 0
    assert "DATABASE_POOLER must be one of none, transaction, not 'statement'" in result.stderr


def test_it_refuses_transaction_mode_on_sqlite():
    result = check(DATABASE_URL="sqlite:///unused.sqlite3", DATABASE_POOLER="transaction")

    assert result.returncode != 0
    assert "DATABASE_POOLER=transaction is for PostgreSQL behind PgBouncer" in result.stderr


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ("?prepare_threshold=5", "prepare_threshold must be unset"),
        ("?pool=true", "the database option 'pool' cannot be used"),
        ("?assume_role=reporting", "the database option 'assume_role' cannot be used"),
        ("?options=-c%20statement_timeout%3D5000", "the database option 'options' cannot be used"),
    ],
)
def test_it_refuses_session_state_behind_a_pooler_in_transaction_mode(query, refused):
    result = check(DATABASE_URL=BOUNCER_URL + query, DATABASE_POOLER="transaction")

    assert result.returncode != 0
    assert refused in result.stderr


def test_the_replica_is_configured_for_the_pooler_too():
    values = read_settings(
        "DATABASES['replica']['DISABLE_SERVER_SIDE_CURSORS']",
        "DATABASES['replica']['OPTIONS']['prepare_threshold']",
        DATABASE_URL=BOUNCER_URL,
        DATABASE_REPLICA_URL="postgres://retrack@127.0.0.1:6433/retrack",
        DATABASE_POOLER="transaction",
    )

    assert values == ["True", "None"]
