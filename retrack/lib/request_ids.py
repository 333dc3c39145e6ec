"""The request id: taken from `X-Request-ID` or made, logged with every line, answered back.

A proxy in front (nginx's `$request_id`, a load balancer's trace header) usually sets
`X-Request-ID`; Retrack keeps it so that one id follows the request through every log.
Anything that is not a short run of safe characters is replaced, so that a visitor
cannot write into the logs through it.
"""

import re
import uuid
from contextvars import ContextVar, Token

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")
_current: ContextVar[str] = ContextVar("retrack_request_id", default="")


def request_id_from(sent: str | None) -> str:
    """The id the client sent when it is acceptable, else a new one."""
    if sent and _ACCEPTABLE.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


def bind_request_id(request_id: str) -> Token[str]:
    """Make `request_id` the current one (until `unbind_request_id` with the token)."""
    return _current.set(request_id)


def unbind_request_id(token: Token[str]) -> None:
    _current.reset(token)


def current_request_id() -> str:
    """The id of the request being answered in this thread, or "" outside one."""
    return _current.get()
