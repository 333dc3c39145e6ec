"""Surviving a database connection that died while the worker held it."""

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import InterfaceError, OperationalError, connections, router
from django.db.models import Model

T = TypeVar("T")


def once_more_on_a_fresh_connection(
    work: Callable[..., T], *arguments: Any, writing: type[Model]
) -> T:
    """`work(*arguments)`, run again on a new connection if the first attempt's connection failed.

    Persistent connections (CONN_MAX_AGE) outlive a database restart or an idle timeout,
    and without health checks the first request that uses a dead one fails. For the
    browser's and the shopper's requests, which are not repeated, that would lose a report
    or a click, so they run their whole work again once. `work` must be safe to repeat:
    its writes either rolled back with the failed connection or are recognised when seen
    again (a click's UUID, a conversion's order number). Inside a transaction nothing is
    repeated: the caller's transaction is gone with the connection. `writing` is the model
    whose database's connection is replaced.
    """
    try:
        return work(*arguments)
    except (OperationalError, InterfaceError):
        # Looked up only here: on the click path every microsecond is counted.
        connection = connections[router.db_for_write(writing)]
        if connection.in_atomic_block:
            raise
        connection.close()
    return work(*arguments)
