"""What a request says about its visitor: address, headers, and whether it is a person.

Everything here reads untrusted input and never raises on it.
"""

import contextlib
import ipaddress
import re
from collections.abc import Mapping
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

from retrack.lib.crawlers import is_robot_agent

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

_BROWSER_FAMILIES = (
    ("edg/", "Edge"),
    ("opr/", "Opera"),
    ("samsungbrowser/", "Samsung Internet"),
    ("firefox/", "Firefox"),
    ("fxios/", "Firefox"),
    ("crios/", "Chrome"),
    ("chrome/", "Chrome"),
    ("safari/", "Safari"),
)
_SYSTEM_FAMILIES = (
    ("android", "Android"),
    ("iphone", "iOS"),
    ("ipad", "iOS"),
    ("windows", "Windows"),
    ("mac os x", "macOS"),
    ("cros", "ChromeOS"),
    ("linux", "Linux"),
)


def _parse_ip(text: str) -> str | None:
    """A bare IP address from `text` (an `ip:port` or `[ipv6]:port` form is accepted)."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        # Drops a zone ("%eth0"), which no database column accepts.
        return str(ipaddress.IPv6Address(int(address)))
    return str(address)


def client_ip(meta: Mapping[str, str], trusted_proxies: int) -> str | None:
    """The visitor's IP address: REMOTE_ADDR, or X-Forwarded-For through trusted proxies.

    Each trusted proxy appends the address it was reached from, so with N of them the
    visitor is the N-th entry from the right; anything further left was sent by the
    visitor and is never believed. A request with fewer entries did not pass through
    all the proxies, so its own peer address is used.
    """
    if trusted_proxies > 0:
        header = meta.get("HTTP_X_FORWARDED_FOR", "")
        forwarded = [entry.strip() for entry in header.split(",") if entry.strip()]
        if len(forwarded) >= trusted_proxies:
            return _parse_ip(forwarded[-trusted_proxies])
    return _parse_ip(meta.get("REMOTE_ADDR", ""))


def request_client_ip(request: HttpRequest) -> str | None:
    """`client_ip` of a Django request, through the configured RETRACK_TRUSTED_PROXIES."""
    return client_ip(request.META, settings.RETRACK_TRUSTED_PROXIES)


def header_text(meta: Mapping[str, str], key: str, max_length: int) -> str:
    """A request header as readable text: UTF-8 decoded, control characters removed, cut.

    WSGI hands headers over as Latin-1; real browsers send UTF-8 in the few headers that
    carry non-ASCII (a Referer with an international path), so it is decoded again.
    """
    value = meta.get(key, "")
    if not value:
        return ""
    with contextlib.suppress(UnicodeEncodeError):
        value = value.encode("latin-1").decode("utf-8", "replace")
    return _CONTROL_CHARACTERS.sub("", value)[:max_length]


# Bounded: at most this many user agents (each cut to 512 characters by the caller) are
# kept per process. A verdict not cached costs some 50 µs of CPU; a cached one nothing.
@lru_cache(maxsize=8192)
def is_bot_agent(user_agent: str) -> bool:
    """True for crawlers, link previews and HTTP libraries, and for a missing user agent."""
    return not user_agent.strip() or is_robot_agent(user_agent)


def coarse_user_agent(user_agent: str) -> str:
    """The user agent without its detail: "Chrome on Android", "bot", or "" when unknown."""
    if not user_agent:
        return ""
    if is_bot_agent(user_agent):
        return "bot"
    lowered = user_agent.lower()
    browser = next((name for token, name in _BROWSER_FAMILIES if token in lowered), "")
    system = next((name for token, name in _SYSTEM_FAMILIES if token in lowered), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system


def mask_ip(address: str | None) -> str | None:
    """The address with its last IPv4 octet, or the last 80 bits of an IPv6 address, zeroed."""
    if not address:
        return address
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = 24 if parsed.version == 4 else 48
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False).network_address)
