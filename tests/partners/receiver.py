"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 in a thread.

It answers each POST with the next status of `statuses` (the last one repeats), records
what it received, and can hold a request open until released (to kill a worker
mid-delivery). Receivers verify signatures with the `standardwebhooks` library, as a
partner would.
"""

import http.server
import threading
from dataclasses import dataclass

from standardwebhooks.webhooks import Webhook


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str


class WebhookReceiver:
    def __init__(self, statuses=(204,), *, hold_first: bool = False, answer_body: bytes = b""):
        self.statuses = list(statuses)
        self.received: list[Received] = []
        self.answer_body = answer_body
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.hold_first = hold_first
        self._lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver._lock:
                    receiver.received.append(Received(dict(self.headers), body, self.path))
                    count = len(receiver.received)
                    status = receiver.statuses[min(count, len(receiver.statuses)) - 1]
                receiver.arrived.set()
                if receiver.hold_first and count == 1:
                    receiver.release.wait(30)
                    return
                self.send_response(status)
                if status in (301, 302, 307, 308):
                    self.send_header("location", f"{receiver.url}/elsewhere")
                self.send_header("content-length", str(len(receiver.answer_body)))
                self.end_headers()
                self.wfile.write(receiver.answer_body)

            def log_message(self, *args):
                """Silent: the run's own output is what matters, not one line per request."""

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def verified_payload(secret: str, received: Received) -> dict:
    """The body as `standardwebhooks` parses it after checking the signature (or raises)."""
    headers = {name.lower(): value for name, value in received.headers.items()}
    return Webhook(secret).verify(received.body, headers)
