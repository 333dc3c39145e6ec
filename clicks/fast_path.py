"""The tracking link's fast path, GET /track/v2/click: every affiliated shopper passes here.

Everything between the WSGI server and the click's row is in this module:

- `TrackingLinkRouter`, the WSGI application (`retrack.wsgi`), answers the tracking link
  before Django's request cycle, whose request and response objects, middleware and URL
  resolution cost a click as much CPU as all its own work (bench/RESULTS.md). Around the
  answer it does what Django's handler would: the request signals (which recycle database
  connections), the security middleware's headers and a logged 500 for a bug. Every other
  path, a host that ALLOWED_HOSTS does not list and a plain-HTTP click under
  SECURE_SSL_REDIRECT go to Django's own handler, which answers them as usual. `ROUTES`
  adds the probes of load balancers and monitoring (/healthz, /readyz, /metrics), answered
  the same way so that they stay cheap and answer even when a middleware's query would
  fail, on plain HTTP and for any host, as load balancers probe. Every answer carries a
  request id (`X-Request-ID`) and is timed for /metrics; the link's is counted by outcome.
- `answer_tracking_link` reads the request's WSGI environ and answers status, headers and
  body, calling `clicks.services.record_click`, which decides. The URLconf's view
  (`clicks.views.track_click`) serves the same answer for `runserver` and test servers.
- `insert_click` is the click's single INSERT, with its SQL built once from the model's
  fields and, on PostgreSQL, its values bound on the server.
"""

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from http import HTTPStatus
from time import perf_counter
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import SuspiciousOperation
from django.core.handlers.wsgi import WSGIHandler, get_bytes_from_wsgi
from django.db import DatabaseError, connections, router
from django.http import QueryDict
from django.http.request import split_domain_port, validate_host
from django.template.loader import render_to_string

# A cycle, deliberately: record_click decides and calls insert_click below to store. Both
# modules import each other as modules, so either may be imported first.
from clicks import services
from clicks.models import URL_MAX_LENGTH, USER_AGENT_MAX_LENGTH, Click
from retrack.health import answer_health, answer_readiness
from retrack.lib.answers import Answer
from retrack.lib.geoip import visitor_country
from retrack.lib.plain_sql import no_rows, run_statement, stored_as_given
from retrack.lib.request_ids import (
    REQUEST_ID_HEADER,
    bind_request_id,
    request_id_from,
    unbind_request_id,
)
from retrack.lib.visitors import client_ip, header_text, is_bot_agent
from retrack.metrics import answer_metrics, count_click, observe_request

logger = logging.getLogger(__name__)

TRACKING_LINK_PATH = "/track/v2/click"
ALLOWED_METHODS = ("GET", "HEAD")
RETRY_AFTER_SECONDS = 5
_REFUSAL_TEMPLATES = {
    400: "clicks/bad_request.html",
    404: "clicks/not_found.html",
    410: "clicks/gone.html",
}
# The refusal pages are answered before Django's middleware, so they carry their own
# framing and content policy: no script at all, only their own inline <style>.
PAGE_SECURITY_HEADERS = (
    ("X-Frame-Options", "DENY"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'",
    ),
)
# What Django allows when DEBUG is on and ALLOWED_HOSTS is empty.
_DEBUG_ALLOWED_HOSTS = [".localhost", "127.0.0.1", "[::1]"]


@dataclass(frozen=True)
class LinkAnswer:
    """What the tracking link answers, before the door it came through sends it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    # A redirected click stored as a bot's, for the router's metrics.
    is_bot: bool = False


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
    # The probes answer any host, on plain HTTP too; the link goes through both checks.
    is_probe: bool = False
    # The request signals recycle database connections; only routes that query need them.
    uses_database: bool = True
    # Counts the answer in the route's own metric, beside the latency every route records.
    count: Callable[[Any], None] | None = None


def _count_click(answer: LinkAnswer) -> None:
    count_click(answer.status, answer.is_bot)


class TrackingLinkRouter:
    """Answers the paths of `ROUTES` itself and sends every other request to `default`."""

    def __init__(self, default: WSGIHandler) -> None:
        self.default = default

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        route = ROUTES.get(environ.get("PATH_INFO", ""))
        if route is None or (
            not route.is_probe and (not _host_is_allowed(environ) or _needs_https_redirect(environ))
        ):
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


def answer_tracking_link(environ: Mapping[str, Any]) -> LinkAnswer:
    """Record the click of a tracking link request and answer its redirect or refusal page."""
    method = environ.get("REQUEST_METHOD", "")
    if method not in ALLOWED_METHODS:
        allow = ("Allow", ", ".join(ALLOWED_METHODS))
        return _page("clicks/method_not_allowed.html", 405, headers=[allow])
    try:
        # Decoded as Django decodes request.GET, with its limit on the number of fields.
        parameters = dict(QueryDict(get_bytes_from_wsgi(environ, "QUERY_STRING", "")).lists())
    except SuspiciousOperation:
        return _page(
            "clicks/bad_request.html", 400, {"message": "This link is not a tracking link."}
        )
    visitor = visitor_from_environ(environ)
    try:
        redirect = services.record_click(parameters, visitor)
    except services.ClickRefused as refusal:
        return _page(
            _REFUSAL_TEMPLATES[refusal.status],
            refusal.status,
            {
                "message": refusal.message,
                "program_name": refusal.program_name,
                "landing_url": refusal.landing_url,
            },
        )
    except DatabaseError:
        # The click was not stored, so the shopper is not redirected: a redirect without a
        # click would lose the cashback without anyone noticing. A 503 asks to try again.
        logger.exception("A click could not be stored; the shopper was asked to retry")
        return _page(
            "clicks/unavailable.html",
            503,
            {"retry_url": _retry_url(environ)},
            headers=[("Retry-After", str(RETRY_AFTER_SECONDS))],
        )
    return LinkAnswer(
        302, [("Location", redirect.location), ("Cache-Control", "no-store")], is_bot=visitor.is_bot
    )


ROUTES: dict[str, Route] = {
    TRACKING_LINK_PATH: Route("tracking_link", answer_tracking_link, count=_count_click),
    "/healthz": Route("healthz", answer_health, is_probe=True, uses_database=False),
    "/readyz": Route("readyz", answer_readiness, is_probe=True),
    "/metrics": Route("metrics", answer_metrics, is_probe=True, uses_database=False),
}


def visitor_from_environ(environ: Mapping[str, Any]) -> "services.Visitor":
    """The shopper as the request's headers and address describe it, cleaned."""
    ip_address = client_ip(environ, settings.RETRACK_TRUSTED_PROXIES)
    browser = header_text(environ, "HTTP_USER_AGENT", USER_AGENT_MAX_LENGTH)
    return services.Visitor(
        ip_address=ip_address,
        browser=browser,
        referer=header_text(environ, "HTTP_REFERER", URL_MAX_LENGTH),
        country=visitor_country(
            environ,
            ip_address,
            header_name=settings.RETRACK_COUNTRY_HEADER,
            database_path=settings.RETRACK_GEOIP_PATH,
        ),
        is_bot=environ.get("REQUEST_METHOD") == "HEAD" or is_bot_agent(browser),
    )


def _page(
    template: str,
    status: int,
    context: dict | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> LinkAnswer:
    body = render_to_string(template, context or {}).encode()
    return LinkAnswer(
        status,
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            *PAGE_SECURITY_HEADERS,
            *(headers or []),
        ],
        body,
    )


def _retry_url(environ: Mapping[str, Any]) -> str:
    """The same tracking link again, relative, so that it holds under any path prefix."""
    return "?" + get_bytes_from_wsgi(environ, "QUERY_STRING", "").decode("iso-8859-1")


# The request around the answer: what Django's handler and middleware would have done.


def is_secure(environ: Mapping[str, Any]) -> bool:
    """`HttpRequest.is_secure()` for a WSGI environ, SECURE_PROXY_SSL_HEADER included."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _raw_host(environ: Mapping[str, Any]) -> str:
    """`HttpRequest._get_raw_host()` for a WSGI environ."""
    # The header first: each `settings` read costs the click path about a microsecond.
    if "HTTP_X_FORWARDED_HOST" in environ and settings.USE_X_FORWARDED_HOST:
        return environ["HTTP_X_FORWARDED_HOST"]
    if "HTTP_HOST" in environ:
        return environ["HTTP_HOST"]
    host = environ.get("SERVER_NAME", "")
    if settings.USE_X_FORWARDED_PORT and "HTTP_X_FORWARDED_PORT" in environ:
        port = str(environ["HTTP_X_FORWARDED_PORT"])
    else:
        port = str(environ.get("SERVER_PORT", ""))
    return host if port == ("443" if is_secure(environ) else "80") else f"{host}:{port}"


def _host_is_allowed(environ: Mapping[str, Any]) -> bool:
    """Whether `HttpRequest.get_host()` would accept the request's host (ALLOWED_HOSTS).

    A refused one goes to Django's handler, which answers it 400 as on any other path.
    """
    allowed_hosts = settings.ALLOWED_HOSTS
    if not allowed_hosts and settings.DEBUG:
        allowed_hosts = _DEBUG_ALLOWED_HOSTS
    return _is_allowed_host(_raw_host(environ), tuple(allowed_hosts))


# Remembered because the check (a regex and a loop over the patterns) cost a click 2-3 %
# of its CPU, while a worker sees the same few hosts; bounded, so made-up hosts cannot
# fill memory, and keyed by the setting too, so a changed ALLOWED_HOSTS is seen at once.
@lru_cache(maxsize=256)
def _is_allowed_host(host: str, allowed_hosts: tuple[str, ...]) -> bool:
    domain, _ = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed_hosts)


def _needs_https_redirect(environ: Mapping[str, Any]) -> bool:
    # Django's SecurityMiddleware, in the default handler, answers those.
    return settings.SECURE_SSL_REDIRECT and not is_secure(environ)


def security_headers(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
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


# The click's INSERT.


def insert_click(values: Mapping[str, Any]) -> None:
    """The click's single INSERT: `values` by field attname, every other field its default.

    It does what `Click(**values).save(force_insert=True)` would, without what the hot
    path does not need: the ORM compiled the same statement anew for every click and
    prepared every value through its field, together as much CPU as sending the INSERT.
    The SQL is built once from the model's concrete fields, so a field added to `Click`
    is inserted too (from `values`, or its default as a model instance would have it);
    only the values whose stored form differs between backends (the UUID, the address,
    the time) go through their field. Outside a transaction the row has been committed
    when this returns; a failure raises Django's DatabaseError.
    """
    connection = connections[router.db_for_write(Click)]
    sql, columns, names = _insert_statement(connection.alias)
    if len(values) != len(names):
        values = _with_defaults(values, names)
    row = [
        values[name] if prepare is None else prepare(values[name], connection)
        for name, prepare in columns
    ]
    run_statement(connection, sql, row, no_rows)


def _with_defaults(values: Mapping[str, Any], names: frozenset[str]) -> dict[str, Any]:
    """`values` and, for every other field of Click, its default, as `Click()` has it."""
    if not values.keys() <= names:
        raise TypeError(f"Click has no field {sorted(values.keys() - names)}")
    defaults = {
        field.attname: field.get_default()
        for field in Click._meta.concrete_fields
        if field.attname not in values
    }
    return {**defaults, **values}


@cache
def _insert_statement(alias: str) -> tuple[str, list[tuple[str, Callable | None]], frozenset[str]]:
    quote_name = connections[alias].ops.quote_name
    fields = list(Click._meta.concrete_fields)
    columns = ", ".join(quote_name(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote_name(Click._meta.db_table)} ({columns}) VALUES ({placeholders})"
    preparation = [
        (field.attname, None if stored_as_given(field) else field.get_db_prep_save)
        for field in fields
    ]
    return sql, preparation, frozenset(field.attname for field in fields)
