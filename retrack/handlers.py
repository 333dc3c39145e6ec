"""The WSGI application: the tracking link is answered before Django's request cycle.

Every shopper passes through `GET /track/v2/click` before anything else. Django's request
cycle around it (request and response objects, middleware, URL resolution) cost a click
as much CPU as the click's own work and INSERT together, and kept Retrack under 60 % of
a bare psycopg app's throughput (bench/RESULTS.md). So `TrackingLinkRouter` answers that
one path itself with `clicks.views.answer_tracking_link`, the link's only implementation
(the URLconf's `track_click` view serves the same answer), and does around it what
Django's handler would have done for it: the request signals, which manage the database
connections, the security middleware's headers, and a logged 500 for a bug. Every other
path goes to Django's own handler with the whole middleware stack.

`ROUTES` lists the paths answered this way: the tracking link, and the probes of load
balancers and monitoring (/healthz, /readyz, /metrics), which must stay cheap and answer
even when a middleware's database query would fail. Each answer is timed for /metrics and
the tracking link's is counted by outcome there, where it is answered. The probes answer
on plain HTTP too (a load balancer checks its backends without TLS) and whatever the Host
header says.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from time import perf_counter
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler

from clicks.views import LinkAnswer, answer_tracking_link
from retrack.health import answer_health, answer_readiness
from retrack.lib.answers import Answer
from retrack.lib.request_ids import (
    REQUEST_ID_HEADER,
    bind_request_id,
    request_id_from,
    unbind_request_id,
)
from retrack.metrics import answer_metrics, count_click, observe_request

logger = logging.getLogger(__name__)

TRACKING_LINK_PATH = "/track/v2/click"
_SERVER_ERROR = LinkAnswer(
    500,
    [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")],
    b"Retrack could not answer this link; the error has been logged.\n",
)


@dataclass(frozen=True)
class Route:
    """A path the router answers itself."""

    # Names the route in logs and metrics.
    endpoint: str
    answer: Callable[[dict[str, Any]], Answer | LinkAnswer]
    # Probes answer plain HTTP even with SECURE_SSL_REDIRECT on.
    redirects_to_https: bool = True
    # The request signals recycle database connections; only routes that query need them.
    uses_database: bool = True
    # Counts the answer in the route's own metric, beside the latency every route records.
    count: Callable[[Any], None] | None = None


def _count_click(answer: LinkAnswer) -> None:
    count_click(answer.status, answer.is_bot)


ROUTES: dict[str, Route] = {
    TRACKING_LINK_PATH: Route("tracking_link", answer_tracking_link, count=_count_click),
    "/healthz": Route("healthz", answer_health, redirects_to_https=False, uses_database=False),
    "/readyz": Route("readyz", answer_readiness, redirects_to_https=False),
    "/metrics": Route("metrics", answer_metrics, uses_database=False),
}


class TrackingLinkRouter:
    """Answers the paths of `ROUTES` itself and sends every other path to `default`."""

    def __init__(self, default: WSGIHandler) -> None:
        self.default = default

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        route = ROUTES.get(environ.get("PATH_INFO", ""))
        if route is None or (route.redirects_to_https and _needs_https_redirect(environ)):
            return self.default(environ, start_response)
        started = perf_counter()
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        token = bind_request_id(request_id)
        if route.uses_database:
            # What Django's handler sends around every request: among others, closing
            # connections that failed or outlived CONN_MAX_AGE.
            signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            answer = route.answer(environ)
        except Exception:
            logger.exception(
                "The %s route failed: %s", route.endpoint, environ.get("QUERY_STRING", "")
            )
            answer = _SERVER_ERROR
        finally:
            if route.uses_database:
                signals.request_finished.send(sender=self.__class__)
            unbind_request_id(token)
        status = HTTPStatus(answer.status)
        headers = [
            *answer.headers,
            *security_headers(environ),
            (REQUEST_ID_HEADER, request_id),
            ("Content-Length", str(len(answer.body))),
        ]
        if route.count is not None:
            route.count(answer)
        observe_request(route.endpoint, answer.status, perf_counter() - started)
        start_response(f"{status.value} {status.phrase}", headers)
        return [answer.body]


def is_secure(environ: dict[str, Any]) -> bool:
    """`HttpRequest.is_secure()` for a WSGI environ, SECURE_PROXY_SSL_HEADER included."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _needs_https_redirect(environ: dict[str, Any]) -> bool:
    # Django's SecurityMiddleware, in the default handler, answers those.
    return settings.SECURE_SSL_REDIRECT and not is_secure(environ)


def security_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """The headers Django's SecurityMiddleware adds to a response, from the same settings."""
    headers = []
    if settings.SECURE_HSTS_SECONDS and is_secure(environ):
        value = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            value += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            value += "; preload"
        headers.append(("Strict-Transport-Security", value))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    policy = settings.SECURE_REFERRER_POLICY
    if policy:
        # A comma-separated string or a list of fallbacks, as the middleware accepts.
        values = (
            [value.strip() for value in policy.split(",")] if isinstance(policy, str) else policy
        )
        headers.append(("Referrer-Policy", ",".join(values)))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    return headers
