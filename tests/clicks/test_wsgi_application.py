"""The WSGI application as gunicorn runs it: the tracking link through its lean handler."""

import io
from urllib.parse import urlencode

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from clicks.models import Click
from retrack.wsgi import application
from tests.factories import AdmissionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """As Django's test client does: the handler must not close the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def call(path: str, query: str = "", method: str = "GET") -> tuple[str, dict[str, str], bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "192.0.2.7",
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
    }
    answer: dict = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = status
        answer["headers"] = dict(headers)

    body = b"".join(application(environ, start_response))
    return answer["status"], answer["headers"], body


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
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Frame-Options" not in headers
    assert "Set-Cookie" not in headers
    assert (click.ref, click.ip_address) == ("38315327", "192.0.2.7")


def test_a_refused_tracking_link_gets_its_human_page_through_the_lean_handler():
    status, headers, body = call("/track/v2/click", "publisher=nobody&program=nothing")

    assert status == "404 Not Found"
    assert headers["Cache-Control"] == "no-store"
    assert b"<html" in body.lower()
    assert Click.objects.count() == 0


def test_every_other_path_keeps_the_whole_middleware_stack():
    status, headers, _ = call("/admin/login/")

    assert status == "200 OK"
    assert headers["X-Frame-Options"] == "DENY"
    assert "csrftoken" in headers["Set-Cookie"]
