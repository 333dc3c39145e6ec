"""The request id: taken from `X-Request-ID` or made, logged with every line, answered back.

A proxy in front (nginx's `$request_id`, a load balancer's trace header) usually sets
`X-Request-ID`; Retrack keeps it so that one id follows the request through every log.
Anything that is not a short run of safe characters is replaced, so that a visitor
cannot write into the logs through it.
"""

import itertools
import os
import re
from contextvars import ContextVar, Token

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")
_current: ContextVar[str] = ContextVar("retrack_request_id", default="")


def request_id_from(sent: str | None) -> str:
    """The id the client sent when it is acceptable, else a new one."""
    if sent and _ACCEPTABLE.fullmatch(sent):
        return sent
    return _new_request_id()


class _Sequence:
    """Ids made of 64 random bits per process and a counter: unique, and cheaper than a
    UUID4 (the tracking link makes one per click)."""

    def __init__(self) -> None:
        self.pid = 0
        self.prefix = ""
        self.counter = itertools.count(1)


_sequence = _Sequence()


def _new_request_id() -> str:
    if _sequence.pid != os.getpid():
        # A new process (a gunicorn worker forked after import) draws its own prefix.
        _sequence.prefix = os.urandom(8).hex()
        _sequence.counter = itertools.count(1)
        _sequence.pid = os.getpid()
    return f"{_sequence.prefix}{next(_sequence.counter):016x}"


def bind_request_id(request_id: str) -> Token[str]:
    """Make `request_id` the current one (until `unbind_request_id` with the token)."""
    return _current.set(request_id)


def unbind_request_id(token: Token[str]) -> None:
    _current.reset(token)


def current_request_id() -> str:
    """The id of the request being answered in this thread, or "" outside one."""
    return _current.get()
