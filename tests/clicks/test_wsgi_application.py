"""The WSGI application as gunicorn runs it: the tracking link answered before Django's handler."""

import os
import subprocess
import sys
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.test import Client, RequestFactory

from clicks.fast_path import TrackingLinkRouter, is_secure, security_headers
from clicks.models import Click
from tests.clicks.helpers import call, link_query
from tests.factories import AdmissionFactory

pytestmark = pytest.mark.django_db


def test_the_tracking_link_is_served_without_the_admin_middleware():
    admission = AdmissionFactory()
    query = urlencode(
        {"publisher": admission.partner.uuid, "program": admission.program.uuid, "ref": "38315327"}
    )

    status, headers, _ = call("/track/v2/click", query)

    click = Click.objects.get()
    assert status == "302 Found"
    assert headers["Location"] == (
        f"https://www.store.example/retrack?click={click.uuid}"
        "&deeplink=https%3A%2F%2Fwww.store.example%2F"
    )
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Length"] == "0"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "X-Frame-Options" not in headers
    assert "Set-Cookie" not in headers
    assert (click.ref, click.ip_address) == ("38315327", "192.0.2.7")


def test_a_refused_tracking_link_gets_its_human_page_through_the_lean_handler():
    status, headers, body = call("/track/v2/click", "publisher=nobody&program=nothing")

    assert status == "404 Not Found"
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Content-Length"] == str(len(body))
    assert b"<html" in body.lower()
    assert Click.objects.count() == 0


def test_every_other_path_keeps_the_whole_middleware_stack():
    status, headers, _ = call("/admin/login/")

    assert status == "200 OK"
    assert headers["X-Frame-Options"] == "DENY"
    assert "csrftoken" in headers["Set-Cookie"]


def test_it_runs_the_request_signals_around_the_tracking_link():
    query = link_query()
    sent = []

    def started(**kwargs):
        sent.append("started")

    def finished(**kwargs):
        sent.append("finished")

    request_started.connect(started)
    request_finished.connect(finished)
    try:
        call("/track/v2/click", query)
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)

    assert sent == ["started", "finished"]


def test_a_failure_in_the_tracking_link_answers_a_logged_500_and_stores_nothing(
    monkeypatch, caplog
):
    query = link_query()

    def broken(parameters, visitor):
        raise RuntimeError("a bug")

    monkeypatch.setattr("clicks.services.record_click", broken)

    status, headers, body = call("/track/v2/click", query)

    assert status == "500 Internal Server Error"
    assert headers["Cache-Control"] == "no-store"
    assert body == b"Retrack could not answer this link; the error has been logged.\n"
    assert "The tracking_link route failed" in caplog.text
    assert Click.objects.count() == 0


def test_an_insecure_tracking_link_is_sent_to_https_when_ssl_redirect_is_on(settings):
    settings.SECURE_SSL_REDIRECT = True
    query = link_query()

    # Django's middleware reads its settings once, when the application is built.
    rebuilt = TrackingLinkRouter(WSGIHandler())

    status, headers, _ = call("/track/v2/click", query, wsgi=rebuilt, HTTP_HOST="testserver")

    assert status == "301 Moved Permanently"
    assert headers["Location"] == f"https://testserver/track/v2/click?{query}"
    assert Click.objects.count() == 0


SECURITY_SETTINGS = [
    {},
    {"SECURE_HSTS_SECONDS": 31536000},
    {
        "SECURE_HSTS_SECONDS": 600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_REFERRER_POLICY": " no-referrer , strict-origin ",
    },
    {"SECURE_REFERRER_POLICY": ["no-referrer", "origin"], "SECURE_CONTENT_TYPE_NOSNIFF": False},
    {"SECURE_REFERRER_POLICY": None, "SECURE_CROSS_ORIGIN_OPENER_POLICY": None},
]


@pytest.mark.parametrize("overrides", SECURITY_SETTINGS)
@pytest.mark.parametrize("secure", [False, True])
def test_the_tracking_link_gets_the_security_middlewares_headers(settings, overrides, secure):
    for name, value in overrides.items():
        setattr(settings, name, value)
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    environ = {"HTTP_X_FORWARDED_PROTO": "https" if secure else "http"}
    request = RequestFactory().get("/", **environ)
    middleware_headers = SecurityMiddleware(lambda request: HttpResponse()).process_response(
        request, HttpResponse()
    )

    headers = dict(security_headers(environ))

    expected = {
        name: value for name, value in middleware_headers.items() if name not in ("Content-Type",)
    }
    assert headers == expected
    assert is_secure(environ) is secure


def test_the_urlconf_view_answers_the_tracking_link_as_the_router_does():
    query = link_query()
    _, routed, _ = call("/track/v2/click", query)

    # Django's own test client: through the URLconf and the whole middleware stack.
    response = Client().get(f"/track/v2/click?{query}", HTTP_USER_AGENT="Mozilla/5.0 Chrome/131.0")

    first, second = Click.objects.order_by("uuid")
    assert response.status_code == 302
    assert response["Location"] == routed["Location"].replace(str(first.uuid), str(second.uuid))
    for name in ("Cache-Control", "X-Content-Type-Options", "Referrer-Policy"):
        assert response[name] == routed[name]


def test_the_urlconf_view_refuses_a_tracking_link_as_the_router_does():
    _, routed, routed_body = call("/track/v2/click", "publisher=nobody&program=nothing")

    response = Client().get("/track/v2/click?publisher=nobody&program=nothing")

    assert response.status_code == 404
    assert response.content == routed_body
    assert response["Cache-Control"] == routed["Cache-Control"] == "no-store"


def test_the_wsgi_module_loads_on_its_own_as_gunicorn_loads_it():
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "retrack.settings_test"}

    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import retrack.wsgi; print(type(retrack.wsgi.application).__name__)",
        ],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
    )

    assert (loaded.returncode, loaded.stdout) == (0, "TrackingLinkRouter\n"), loaded.stderr
