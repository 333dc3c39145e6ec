"""Handing committed deliveries to the queue without making the request wait on it.

Publishing to the broker happens on a background thread of the web process: the request
that wrote the change only puts delivery ids on an in-memory queue after its commit. With
the broker down or slow, the store API and the tag still answer at once; the messages
that could not be published are logged and left to the sweep, which finds every pending
delivery in the database (`sweep_due_deliveries`). Nothing is lost with the process
either: the rows are the truth, the messages only make delivery prompt.

A change is numbered after its commit (`conversions.services.sequencing`), and its
deliveries are written by the run that numbers it. So a change whose partner has
endpoints asks, through the same thread, for a worker to run the sequencer at once
(`request_sequencing_on_commit`); requests that pile up while one is being published
become one message. Beat's run every second covers a lost message.
"""

import logging
import os
import queue
import threading
from collections.abc import Iterable

from django.db import transaction

logger = logging.getLogger(__name__)

_BACKLOG_LIMIT = 10_000
_BATCH = 200
# Queued instead of a delivery id: run the sequencer (see the module's docstring).
_SEQUENCE = -1


class _Publisher:
    def __init__(self) -> None:
        self._queue: queue.Queue[int] = queue.Queue(maxsize=_BACKLOG_LIMIT)
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._connection = None
        self._connection_url: str | None = None

    def submit(self, delivery_pks: Iterable[int]) -> None:
        self._ensure_thread()
        for pk in delivery_pks:
            try:
                self._queue.put_nowait(pk)
            except queue.Full:
                logger.warning("Webhook publish backlog full; delivery %s waits for the sweep", pk)

    def _ensure_thread(self) -> None:
        # One thread per process: a forked worker (gunicorn) starts its own.
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._queue = queue.Queue(maxsize=_BACKLOG_LIMIT)
            self._connection = None
            threading.Thread(target=self._run, name="webhook-publisher", daemon=True).start()
            self._pid = os.getpid()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < _BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._publish(batch)

    def _publish(self, items: list[int]) -> None:
        from conversions.tasks import sequence_changes
        from partners.tasks import deliver_webhook
        from retrack.celery import app

        delivery_pks = [item for item in items if item != _SEQUENCE]

        try:
            url = app.conf.broker_url
            if self._connection is None or self._connection_url != url:
                self._connection = app.connection_for_write(url, **_socket_timeouts(url))
                self._connection_url = url
            if len(delivery_pks) < len(items):
                sequence_changes.apply_async(connection=self._connection, retry=False)
            for pk in delivery_pks:
                deliver_webhook.apply_async((pk,), connection=self._connection, retry=False)
        except Exception:
            # The broker is unreachable: the sweep (and beat's sequencer) do it once it is back.
            logger.warning(
                "Could not queue %d webhook deliveries or sequencer runs; the sweep will",
                len(items),
                exc_info=True,
            )
            self._drop_connection()

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # a broken connection may fail to close too
                logger.debug("Closing a broken broker connection failed", exc_info=True)


def _socket_timeouts(url: str) -> dict:
    # A broker that accepts the connection but never answers (overloaded, blocked) would
    # otherwise hold this thread for good: give up and leave the rest to the sweep.
    if url.startswith(("amqp", "pyamqp")):
        return {"transport_options": {"read_timeout": 5, "write_timeout": 5}}
    return {}


_publisher = _Publisher()


def queue_deliveries_on_commit(delivery_pks: list[int]) -> None:
    """Queue the deliveries once the current transaction commits (never if it rolls back)."""
    if delivery_pks:
        transaction.on_commit(lambda: _publisher.submit(delivery_pks))


def request_sequencing_on_commit() -> None:
    """Have a worker number changes once the current transaction commits (webhooks wait)."""
    transaction.on_commit(lambda: _publisher.submit([_SEQUENCE]))
