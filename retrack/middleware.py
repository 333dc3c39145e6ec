"""Middleware of Retrack's own, first in the stack so that it sees every request."""

from collections.abc import Callable
from time import perf_counter

from django.http import HttpRequest, HttpResponse

from retrack.lib.request_ids import (
    REQUEST_ID_HEADER,
    bind_request_id,
    request_id_from,
    unbind_request_id,
)
from retrack.metrics import observe_request


class RequestIdMiddleware:
    """Gives each request an id (the client's `X-Request-ID` or a new one) for the logs.

    The id is answered back in `X-Request-ID`, so a store or partner reporting a problem
    can quote it. The WSGI router does the same for the paths it answers itself.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.META.get("HTTP_X_REQUEST_ID"))
        token = bind_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            unbind_request_id(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestMetricsMiddleware:
    """Times each request for /metrics, by its URL pattern (a bounded set) and status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        # Requests that matched no pattern (404s, HTTPS redirects) share one label, so a
        # scanner cannot add a series per path it tries.
        endpoint = ("/" + match.route) if match is not None else "unmatched"
        observe_request(endpoint, response.status_code, perf_counter() - started)
        return response
