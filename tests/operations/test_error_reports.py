"""SENTRY_DSN: the tracking link's failures reported when set, nothing at all when unset."""

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.operations.helpers import run_python

# The tracking link fails with a bug, in a process of its own, then sentry-sdk (if it was
# started) sends what it has.
FAILING_CLICK = """
import sys
import django
django.setup()
from tests.operations.helpers import call
def broken(parameters, visitor):
    raise RuntimeError("a bug in the click path")
import clicks.services
clicks.services.record_click = broken
status, headers, body = call("/track/v2/click", QUERY_STRING="ref=38315327",
                             HTTP_AUTHORIZATION="Bearer rts_secretsecretsecretsecret")
print(status)
if "sentry_sdk" in sys.modules:
    import sentry_sdk
    print("active" if sentry_sdk.get_client().is_active() else "inactive")
    sentry_sdk.flush(timeout=10)
else:
    print("not imported")
"""


@pytest.fixture
def collector():
    """A stand-in for a Sentry server on localhost; the envelopes it received."""
    received: list[bytes] = []

    class Envelopes(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            received.append(body)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            """Silent: the run's own output is what matters, not one line per request."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Envelopes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], received
    server.shutdown()
    server.server_close()


def test_the_tracking_links_logged_failure_is_reported_when_a_dsn_is_set(collector):
    port, received = collector

    result = run_python(FAILING_CLICK, SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["500", "active"]
    envelopes = b"".join(received).decode()
    assert "RuntimeError" in envelopes
    assert "a bug in the click path" in envelopes
    assert "The tracking_link route failed" in envelopes
    assert "rts_secret" not in envelopes
    assert "192.0.2.7" not in envelopes
    assert "192.0.2.0" in envelopes  # the frames' variables are kept, the address cut


def test_nothing_is_initialised_or_sent_without_a_dsn(collector):
    _, received = collector

    result = run_python(FAILING_CLICK)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["500", "not imported"]
    assert received == []
