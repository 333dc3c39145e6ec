"""Calling a WSGI application in a test the way a WSGI server calls it."""

from collections.abc import Callable
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import close_old_connections


def serve(
    application: Callable, environ: dict[str, Any]
) -> tuple[str, list[tuple[str, str]], bytes]:
    """The application's status line, headers and body for `environ`.

    As Django's test client does, the request signals do not close database connections
    meanwhile: that would end the test's transaction.
    """
    answer: dict[str, Any] = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=headers)

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(application(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], body
