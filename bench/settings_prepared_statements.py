"""Retrack's settings plus server-side binding with prepared statements.

Django binds query parameters on the client and never prepares statements by default
(so that connection poolers such as PgBouncer in transaction mode keep working). The
baseline, plain psycopg, binds on the server and prepares a statement after its fifth
use, so PostgreSQL no longer parses and plans each click's INSERT. This measures what
the same costs Retrack.
"""

from retrack.settings import *  # noqa: F403
from retrack.settings import DATABASES

DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
