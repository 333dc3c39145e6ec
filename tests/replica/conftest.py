import pytest

from tests.replica.clusters import ClusterUnavailable, ensure_pair
from tests.replica.server import Server, fresh_database, replica_server, seed_shop


@pytest.fixture(scope="session")
def replica_database() -> str:
    """A fresh database on the test primary, streamed to its standby (tests/replica/clusters.py);
    the tests skip, saying why, where the pair cannot be made."""
    try:
        ensure_pair()
    except ClusterUnavailable as reason:
        pytest.skip(f"no PostgreSQL primary and standby for the replica tests: {reason}")
    return fresh_database()


@pytest.fixture(scope="module")
def server(replica_database, tmp_path_factory) -> Server:
    log_path = tmp_path_factory.mktemp("replica") / "gunicorn.log"
    with replica_server(replica_database, log_path) as running:
        yield running


@pytest.fixture
def replica_shop(replica_database) -> dict:
    """A shop of its own for each test, on the primary and replayed on the standby."""
    return seed_shop(replica_database)
