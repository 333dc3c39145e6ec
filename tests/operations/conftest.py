import pytest
from django.db import connection

from tests.operations.pgbouncer import PGBOUNCER, Bouncer, running_pgbouncer


@pytest.fixture(scope="session")
def pgbouncer(django_db_setup, tmp_path_factory) -> Bouncer:
    """A PgBouncer of this test session, in transaction mode, before the test database.

    It depends on the test database's set-up so that it stops first: its idle server
    connections would otherwise keep a `--create-db` run from dropping that database.
    """
    if connection.vendor != "postgresql":
        pytest.skip("PgBouncer pools PostgreSQL connections; run with DATABASE_URL=postgres://…")
    if PGBOUNCER is None:
        pytest.skip("needs PgBouncer: Debian's pgbouncer package (`make pgbouncer`, as root)")
    with running_pgbouncer(tmp_path_factory.mktemp("pgbouncer")) as bouncer:
        yield bouncer
