"""Database settings for PostgreSQL behind a connection pooler (`DATABASE_POOLER`).

In transaction mode (PgBouncer's `pool_mode = transaction`) a client's connection is
lent a server connection for one transaction only: anything a session keeps between
transactions is lost or, worse, seen by another client. Retrack keeps none of it:

- no server-side cursors: `QuerySet.iterator()` (the conversions' CSV export) would
  declare a `WITH HOLD` cursor and fetch from it in later transactions, which may run on
  another server connection ("cursor does not exist");
- no prepared statements: psycopg would prepare a query after five uses, and the next
  transaction's server connection does not have it;
- no advisory locks, `LISTEN`, temporary tables or `SET` (only `SET LOCAL`): none is
  used; Django's own `SET TIME ZONE` at connect is a parameter PgBouncer tracks and
  restores on whichever server connection it lends.

Session mode keeps a server connection for the whole client connection and needs none
of this; `none` (no pooler) is the default. Without a pooler in transaction mode, the
statements bound on the server (the store API's and the click's, `retrack.lib.plain_sql`)
are prepared once they have run `PREPARE_THRESHOLD` times on a connection, which saves
PostgreSQL parsing and planning them on every request: a quarter of its CPU per store API
call (bench/RESULTS.md). Django's own queries are bound on the client and never prepared.
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured

POOLER_MODES = ("none", "transaction")
# psycopg's own default: a statement run this often on a connection is prepared.
PREPARE_THRESHOLD = 5
# OPTIONS that keep state in the session (or pool connections a second time) and so do
# not work behind a pooler in transaction mode.
_SESSION_OPTIONS = {
    "pool": "Django's connection pool must be off: the pooler is the pool",
    "assume_role": "SET ROLE lasts for the session; give the pooler's user the role instead",
    "options": "startup options are refused by PgBouncer; set them on the role "
    "(ALTER ROLE … SET statement_timeout = …)",
}


def configure_pooler(database: dict[str, Any], mode: str) -> None:
    """Adjust one entry of DATABASES for `mode`; refuse settings that cannot work there."""
    if mode not in POOLER_MODES:
        raise ImproperlyConfigured(
            f"DATABASE_POOLER must be one of {', '.join(POOLER_MODES)}, not {mode!r}."
        )
    if mode == "none":
        if database["ENGINE"] == "django.db.backends.postgresql":
            database.setdefault("OPTIONS", {}).setdefault("prepare_threshold", PREPARE_THRESHOLD)
        return
    if database["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            "DATABASE_POOLER=transaction is for PostgreSQL behind PgBouncer; "
            f"DATABASE_URL names {database['ENGINE'].rsplit('.', 1)[-1]}."
        )
    options = database.setdefault("OPTIONS", {})
    for name, why in _SESSION_OPTIONS.items():
        if options.get(name):
            raise ImproperlyConfigured(
                f"DATABASE_POOLER=transaction: the database option {name!r} cannot be used ({why})."
            )
    if options.get("prepare_threshold") not in (None, "", "None", "none"):
        raise ImproperlyConfigured(
            "DATABASE_POOLER=transaction: prepare_threshold must be unset; a statement "
            "prepared in one transaction is missing on the next one's server connection."
        )
    # Django leaves psycopg's threshold at None (never prepare) unless told otherwise;
    # written out so that nothing later can switch it on unnoticed.
    options["prepare_threshold"] = None
    database["DISABLE_SERVER_SIDE_CURSORS"] = True
