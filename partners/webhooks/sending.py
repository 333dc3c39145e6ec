"""One HTTP attempt of a webhook delivery, within the contract's limits.

The connection goes to an address checked just before (`resolve_webhook_url`), with the
URL's host name kept for TLS (certificate and SNI) and the Host header: the name is not
resolved a second time, so DNS cannot be switched to a private address in between.
No redirect is followed, the whole attempt is bounded by ATTEMPT_TIMEOUT_SECONDS, and at
most RESPONSE_READ_LIMIT bytes of the answer are read.
"""

import time
from dataclasses import dataclass

import certifi
import urllib3
from urllib3.exceptions import HTTPError

from retrack.lib.public_addresses import Target

ATTEMPT_TIMEOUT_SECONDS = 10.0
RESPONSE_READ_LIMIT = 64 * 1024
USER_AGENT = "Retrack-Webhooks/1"


@dataclass(frozen=True)
class AttemptResult:
    """What one attempt got: a status code (None when no answer came) and a short note."""

    status_code: int | None
    note: str

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post_webhook(target: Target, headers: dict[str, str], body: bytes) -> AttemptResult:
    """POST the body to the target's first address; never raises for network trouble."""
    deadline = time.monotonic() + ATTEMPT_TIMEOUT_SECONDS
    pool = _pool(target)
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "host": host_header, "user-agent": USER_AGENT},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
            timeout=urllib3.Timeout(connect=ATTEMPT_TIMEOUT_SECONDS, read=_left(deadline)),
        )
    except HTTPError as error:
        pool.close()
        return AttemptResult(None, _describe(error))
    try:
        excerpt = _read_limited(response, deadline)
    except (HTTPError, OSError) as error:
        # The status line came in time; only the body was slow or cut.
        excerpt = f"(answer body unread: {_describe(error)})".encode()
    finally:
        response.release_conn()
        pool.close()
    note = f"HTTP {response.status}"
    if excerpt:
        note += ": " + excerpt[:300].decode("utf-8", "replace")
    return AttemptResult(response.status, note)


def _pool(target: Target) -> urllib3.HTTPConnectionPool:
    address = target.addresses[0]
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            target.port,
            maxsize=1,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(address, target.port, maxsize=1, retries=False)


def _left(deadline: float) -> float:
    return max(0.1, deadline - time.monotonic())


def _read_limited(response: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < RESPONSE_READ_LIMIT and time.monotonic() < deadline:
        chunk = response.read(min(8192, RESPONSE_READ_LIMIT - size), decode_content=False)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _describe(error: Exception) -> str:
    reason = getattr(error, "reason", None) or error
    return f"{type(error).__name__}: {reason}"[:300]
