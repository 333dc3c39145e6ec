"""Middleware of Retrack's own: request ids and metrics, first in the stack so that they see
every request, and the Content-Security-Policy, built once."""

from collections.abc import Callable
from time import perf_counter
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase

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


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the site's policy built once instead of per response.

    django-csp assembles both headers (enforced and report-only) from settings on every
    response, which cost a store API call more than all of Django's other middleware
    together (bench/RESULTS.md, "Store API"). The policy only changes with the settings,
    so it is kept, per settings object. A response whose view changed or exempted the
    policy (`csp_update`, `csp_replace`, `csp_exempt`…) and a request that used a nonce are
    answered by django-csp itself, as before.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if isinstance(getattr(request, "_csp_nonce", None), str) or any(
            getattr(response, name, None) is not None for name in _PER_VIEW_POLICY
        ):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (500, 404):
            return response  # as django-csp: Django's debug pages have inline scripts
        for header, setting_name, value in _site_policies():
            excluded = (getattr(settings, setting_name, None) or {}).get("EXCLUDE_URL_PREFIXES")
            if header not in response and not request.path_info.startswith(tuple(excluded or ())):
                response[header] = value
        # As django-csp: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


# What a view sets on its response to change or skip the policy (csp.decorators).
_PER_VIEW_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt",
    "_csp_exempt_ro",
)


class _SitePolicies:
    """The site's policies as headers, rebuilt when the settings' objects change (a test's
    override_settings makes new ones); the objects are held, so their identity is sure."""

    def __init__(self) -> None:
        self._built: tuple[Any, Any, tuple[tuple[str, str, str], ...]] | None = None

    def __call__(self) -> tuple[tuple[str, str, str], ...]:
        """(header, its setting's name, value) for each policy that is not empty."""
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        built = self._built
        if built is None or built[0] is not policy or built[1] is not report_only:
            headers = (
                (HEADER, "CONTENT_SECURITY_POLICY", build_policy()),
                (
                    HEADER_REPORT_ONLY,
                    "CONTENT_SECURITY_POLICY_REPORT_ONLY",
                    build_policy(report_only=True),
                ),
            )
            built = (policy, report_only, tuple(header for header in headers if header[2]))
            self._built = built
        return built[2]


_site_policies = _SitePolicies()
