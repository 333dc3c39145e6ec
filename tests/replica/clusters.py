"""A PostgreSQL 15 primary and its streaming standby for the read-replica tests.

Two clusters of this machine's PostgreSQL, made with Debian's tools the way an operator
would: `pg_createcluster` for the primary (port 5442), and for the standby (port 5443) a
`pg_basebackup -R` of it, which writes `standby.signal` and `primary_conninfo`, so the
standby streams the primary's WAL from then on. Both trust connections from 127.0.0.1
only, start only when asked (`start.conf` manual) and never touch another cluster (the
main one on 5432 included).

The pair is made once and reused while it runs: the tests leave it running for the next
run (every test database on it is dropped and remade), and `python -m tests.replica.clusters
drop` removes it. A file lock makes concurrent test processes (pytest-xdist, two
checkouts) make and check it one at a time.

Without root, Debian's postgresql-common tools or PostgreSQL 15, `unavailable_reason()`
says why, and the tests skip saying so.
"""

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

VERSION = "15"
BINARIES = Path(f"/usr/lib/postgresql/{VERSION}/bin")
LOCK_PATH = Path(tempfile.gettempdir()) / "retrack-test-replica.lock"
# Held while a test has the standby's replay paused, so that no other test process
# resumes it meanwhile (or waits on a paused standby for long).
PAUSE_LOCK_PATH = Path(tempfile.gettempdir()) / "retrack-test-replica-pause.lock"
# Test clusters: losing their data on a crash costs nothing, and fsync is the slowest part
# of every commit on a busy machine. Commits stay synchronous: a commit's WAL is then
# written, and on its way to the standby, before the client hears of it. A few WAL senders
# are enough for one standby and its base backups.
PRIMARY_SETTINGS = {
    "fsync": "off",
    "shared_buffers": "32MB",
    "max_connections": "60",
    "max_wal_senders": "4",
    "wal_keep_size": "256MB",
}
# Hot standby feedback: the replica's long reads keep the rows they read, rather than
# being cancelled by the primary's vacuum (the README recommends the same).
STANDBY_SETTINGS = {**PRIMARY_SETTINGS, "hot_standby_feedback": "on"}
HBA = (
    "# Retrack's replica tests: a test cluster on 127.0.0.1 only.\n"
    "local all all trust\n"
    "host all all 127.0.0.1/32 trust\n"
    "host replication all 127.0.0.1/32 trust\n"
)


@dataclass(frozen=True)
class Cluster:
    name: str
    port: int

    @property
    def config_dir(self) -> Path:
        return Path(f"/etc/postgresql/{VERSION}/{self.name}")

    @property
    def data_dir(self) -> Path:
        return Path(f"/var/lib/postgresql/{VERSION}/{self.name}")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=database,
            autocommit=True,
            connect_timeout=5,
        )


PRIMARY = Cluster("retrack_test_primary", 5442)
STANDBY = Cluster("retrack_test_standby", 5443)


class ClusterUnavailable(Exception):
    """The pair cannot be made or started here; the message says why."""


def unavailable_reason() -> str | None:
    """Why this machine cannot run the pair, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "making PostgreSQL test clusters needs root (CI runs as root)"
    for tool in ("pg_createcluster", "pg_ctlcluster", "pg_dropcluster", "pg_lsclusters"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (Debian's postgresql-common)"
    if not (BINARIES / "pg_basebackup").exists():
        return f"PostgreSQL {VERSION} is not installed ({BINARIES})"
    if shutil.which("runuser") is None:
        return "runuser is missing (util-linux)"
    return None


def _run(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise ClusterUnavailable(
            f"{' '.join(command)} failed: {(result.stderr or result.stdout).strip()[-600:]}"
        )
    return result.stdout


def _status(cluster: Cluster) -> str | None:
    """pg_lsclusters' status of the cluster ("online", "down", "online,recovery"), or None."""
    for line in _run("pg_lsclusters", "--no-header").splitlines():
        fields = line.split()
        if fields[:2] == [VERSION, cluster.name]:
            if int(fields[2]) != cluster.port:
                raise ClusterUnavailable(f"cluster {cluster.name} listens on {fields[2]}")
            return fields[3]
    return None


def _create(cluster: Cluster, settings: dict[str, str]) -> None:
    options = [
        argument for name, value in settings.items() for argument in ("-o", f"{name}={value}")
    ]
    _run(
        "pg_createcluster",
        "--quiet",
        "--start-conf=manual",
        f"--port={cluster.port}",
        *options,
        VERSION,
        cluster.name,
    )
    (cluster.config_dir / "pg_hba.conf").write_text(HBA)


def _start(cluster: Cluster) -> None:
    _run("pg_ctlcluster", "--skip-systemctl-redirect", VERSION, cluster.name, "start")


def _drop(cluster: Cluster) -> None:
    if _status(cluster) is not None:
        _run("pg_dropcluster", "--stop", VERSION, cluster.name)


def _wait_until_accepting(cluster: Cluster, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            cluster.connect().close()
            return
        except psycopg.OperationalError as error:
            if time.monotonic() > deadline:
                raise ClusterUnavailable(f"{cluster.name} does not answer: {error}") from None
            time.sleep(0.2)


def _system_identifier(cluster: Cluster) -> int:
    with cluster.connect() as connection:
        return connection.execute("SELECT system_identifier FROM pg_control_system()").fetchone()[0]


def _is_streaming(seconds: float = 30) -> bool:
    """Whether the standby is in recovery and receiving the primary's WAL."""
    deadline = time.monotonic() + seconds
    while True:
        with STANDBY.connect() as connection:
            in_recovery = connection.execute("SELECT pg_is_in_recovery()").fetchone()[0]
            receiving = connection.execute(
                "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'"
            ).fetchone()[0]
        if in_recovery and receiving:
            return True
        if not in_recovery or time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def _make_standby() -> None:
    """A fresh standby of the running primary: a cluster whose data is a base backup."""
    _drop(STANDBY)
    _create(STANDBY, STANDBY_SETTINGS)
    # Debian keeps the configuration in /etc: only the data folder's content is replaced
    # (the folder itself stays, owned by postgres, in a parent postgres cannot write to).
    for entry in STANDBY.data_dir.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    _run(
        "runuser",
        "-u",
        "postgres",
        "--",
        str(BINARIES / "pg_basebackup"),
        "--host=127.0.0.1",
        f"--port={PRIMARY.port}",
        "--username=postgres",
        f"--pgdata={STANDBY.data_dir}",
        "--write-recovery-conf",
        "--wal-method=stream",
        "--checkpoint=fast",
        "--no-sync",
    )
    _start(STANDBY)
    _wait_until_accepting(STANDBY)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_pair() -> None:
    """The primary and its streaming standby, running: reused, started, or made."""
    reason = unavailable_reason()
    if reason:
        raise ClusterUnavailable(reason)
    with _locked(LOCK_PATH):
        primary = _status(PRIMARY)
        if primary is None:
            # A standby left from an earlier primary cannot follow a new one.
            _drop(STANDBY)
            _create(PRIMARY, PRIMARY_SETTINGS)
        if primary != "online":
            _start(PRIMARY)
        _wait_until_accepting(PRIMARY)
        standby = _status(STANDBY)
        if standby is None:
            _make_standby()
        elif not standby.startswith("online"):
            try:
                _start(STANDBY)
                _wait_until_accepting(STANDBY)
            except ClusterUnavailable:
                # Left half-made by an interrupted run: made again.
                _make_standby()
        if _system_identifier(STANDBY) != _system_identifier(PRIMARY) or not _is_streaming():
            _make_standby()
            if not _is_streaming():
                raise ClusterUnavailable("the standby does not stream from the primary")
        _resume_if_left_paused()


def _resume_if_left_paused() -> None:
    """Resume a replay an interrupted run left paused, unless a test has it paused now."""
    with PAUSE_LOCK_PATH.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        try:
            with STANDBY.connect() as connection:
                connection.execute("SELECT pg_wal_replay_resume()")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def replay_paused() -> Iterator[None]:
    """The standby applies none of the primary's WAL meanwhile: the replica lags."""
    with _locked(PAUSE_LOCK_PATH), STANDBY.connect() as connection:
        connection.execute("SELECT pg_wal_replay_pause()")
        while connection.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] != (
            "paused"
        ):
            time.sleep(0.05)
        try:
            yield
        finally:
            connection.execute("SELECT pg_wal_replay_resume()")


def wait_for_replay(seconds: float = 60) -> None:
    """Until the standby has replayed everything the primary had written when called."""
    with PRIMARY.connect() as primary:
        # The insert position: everything committed so far is before it, even a commit
        # whose WAL a background writer has yet to write out.
        target = primary.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
    deadline = time.monotonic() + seconds
    with STANDBY.connect() as standby:
        while True:
            behind = standby.execute(
                "SELECT pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn()) > 0", [target]
            ).fetchone()[0]
            if not behind:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the standby did not replay up to {target} in {seconds} s")
            time.sleep(0.05)


def drop_pair() -> None:
    """Stop and remove both clusters (their data and configuration)."""
    with _locked(LOCK_PATH):
        _drop(STANDBY)
        _drop(PRIMARY)


if __name__ == "__main__":
    if sys.argv[1:] == ["drop"]:
        drop_pair()
    elif sys.argv[1:] == ["ensure"]:
        ensure_pair()
    else:
        sys.exit("usage: python -m tests.replica.clusters ensure|drop")
