"""Doing to the test database what a database restart does."""

import threading

from django.db import connection


def terminate_backend(pid: int) -> None:
    """Ends a PostgreSQL connection from another connection, as a database restart does."""

    def terminate():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        connection.close()

    killer = threading.Thread(target=terminate)
    killer.start()
    killer.join()


def terminate_this_threads_connection() -> int:
    """Ends the connection this thread holds (opening it first); the ended backend's pid."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    terminate_backend(pid)
    return pid
