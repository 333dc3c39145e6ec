"""Which database a read goes to: the read replica, when there is one, or the primary.

The reads that may lag behind the writes by a replica's replay delay say so explicitly,
`.using(read_alias())`, in their selectors: the partner feed, the partner stats, the
overview and the dashboard. Everything else reads from "default", the primary: a store
reading back what it just sent, the back office's change pages, the token lookup (a
revoked token must stop working at once), and every write. A database router would have
to guess that from the model, and the same model (a conversion) is read both ways.
"""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_ALIAS = "replica"


def read_alias() -> str:
    """The alias of the database for reads that may lag: "replica" when DATABASE_REPLICA_URL
    is set, else "default".

    Inside a transaction on the primary it is always "default": what that transaction has
    written (or locked) is not on the replica, and a read inside it belongs to it.
    """
    if REPLICA_ALIAS not in settings.DATABASES:
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return REPLICA_ALIAS
