"""Which database a read goes to: the read replica, when there is one, or the primary.

The reads that may lag behind the writes by a replica's replay delay say so explicitly,
`.using(read_alias())`, in their selectors: the partner feed, the partner stats, the
overview and the dashboard. Everything else reads from "default", the primary: a store
reading back what it just sent, the back office's change pages, the token lookup (a
revoked token must stop working at once), and every write. A database router would have
to guess that from the model, and the same model (a conversion) is read both ways.

A replica that cannot be reached sends those reads to the primary rather than failing
them. `read_alias()` opens the thread's replica connection when it has none, which the
read's first query would do a moment later anyway, so telling costs nothing: a failure
to connect holds the replica down in this process for RETRACK_REPLICA_RETRY_SECONDS,
during which every thread reads from the primary without trying, and then one thread
tries again. An open connection is not checked before each read (that would be a
`SELECT 1` per read): one that died with the replica fails its read, is closed at the
end of the request as any broken connection is, and the next connect tells.

Falling back keeps the feed's cursor contract: the primary is never behind the replica,
so a cursor handed out from the replica finds every later change there; and a replica
that is behind a cursor handed out from the primary answers empty pages with the same
cursor until it has caught up (README, "The read replica").
"""

import logging
import threading
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections

from retrack.metrics import count_replica_connect_failure

REPLICA_ALIAS = "replica"

logger = logging.getLogger(__name__)


class _Outages:
    """The replica as this process has found it: down since when, when last tried."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_since: float | None = None
        self.last_try = 0.0
        # How many times it has gone down: a thread whose connection was opened under an
        # earlier count opens another, since that one may have died with the replica.
        self.count = 0


_outages = _Outages()
_this_thread = threading.local()


def read_alias() -> str:
    """The alias of the database for reads that may lag: "replica" when DATABASE_REPLICA_URL
    is set and the replica can be reached, else "default".

    Inside a transaction on the primary it is always "default": what that transaction has
    written (or locked) is not on the replica, and a read inside it belongs to it.
    """
    if REPLICA_ALIAS not in settings.DATABASES:
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return REPLICA_ALIAS if _replica_connected() else DEFAULT_DB_ALIAS


def replica_state() -> str:
    """The read replica as this process finds it, for /readyz: "none" without
    DATABASE_REPLICA_URL, "down" while the reads that may lag go to the primary, else "up".

    Unlike a read, this asks the replica a query: a probe is rare enough to afford one,
    and so it also notices a replica that died under an open connection.
    """
    if REPLICA_ALIAS not in settings.DATABASES:
        return "none"
    if not _replica_connected():
        return "down"
    replica = connections[REPLICA_ALIAS]
    try:
        with replica.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        # A connection that died: whether the replica is back is told by opening another.
        replica.close()
        return "up" if _replica_connected() else "down"
    return "up"


def forget_replica_outages() -> None:
    """Hold the replica up again, as a fresh process does (for tests)."""
    with _outages.lock:
        _outages.down_since = None
        _outages.last_try = 0.0


def _replica_connected() -> bool:
    """Whether this thread holds a connection to the replica, opened now if need be; not
    tried while the replica is held down, until its retry time has come."""
    if _outages.down_since is not None and not _claim_retry():
        return False
    replica = connections[REPLICA_ALIAS]
    count = _outages.count
    try:
        if getattr(_this_thread, "outages", 0) != count:
            replica.close()
        # What the read's first query would do; with DATABASE_HEALTH_CHECKS it closes a
        # dead connection here, so that the connect below tells.
        replica.close_if_health_check_failed()
        replica.ensure_connection()
    except (OperationalError, InterfaceError) as error:
        _mark_down(error)
        return False
    _this_thread.outages = count
    if _outages.down_since is not None:
        _mark_up()
    return True


def _claim_retry() -> bool:
    """Whether this thread is the one to try the down replica now: one a retry period,
    the others read from the primary meanwhile rather than wait on a connect timeout."""
    with _outages.lock:
        now = time.monotonic()
        if now - _outages.last_try < settings.RETRACK_REPLICA_RETRY_SECONDS:
            return False
        _outages.last_try = now
        return True


def _mark_down(error: Exception) -> None:
    with _outages.lock:
        _outages.last_try = time.monotonic()
        went_down = _outages.down_since is None
        if went_down:
            _outages.down_since = _outages.last_try
            _outages.count += 1
    count_replica_connect_failure()
    if went_down:
        logger.warning(
            "The read replica cannot be reached (%s: %s); the partner feed, partner stats, "
            "overview and dashboard read from the primary, and the replica is tried again "
            "every %s s",
            type(error).__name__,
            str(error).strip(),
            settings.RETRACK_REPLICA_RETRY_SECONDS,
        )


def _mark_up() -> None:
    with _outages.lock:
        since, _outages.down_since = _outages.down_since, None
    if since is not None:
        logger.info(
            "The read replica answers again after %.0f s; the reads that may lag go to it again",
            time.monotonic() - since,
        )
