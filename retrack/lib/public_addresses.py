"""Which webhook URLs Retrack may call: https on public addresses only.

A partner chooses the URL, so without this check it could make Retrack's workers call
into the network they run in (a database, a metadata service at 169.254.169.254). The
check runs when the endpoint is registered and again before every attempt, on the
addresses the attempt then connects to, so a DNS answer changed in between (rebinding)
cannot slip through.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

URL_MAX_LENGTH = 2000


class UnsafeUrl(ValueError):
    """The URL may not be called; the message says why, for the partner."""


@dataclass(frozen=True)
class Target:
    """Where an attempt connects: the URL's parts and its checked addresses."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address (not private, loopback, link-local…)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def parse_webhook_url(url: str, *, allow_private: bool) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of a well-formed webhook URL, else UnsafeUrl."""
    if not isinstance(url, str) or not url:
        raise UnsafeUrl("must be a URL")
    if len(url) > URL_MAX_LENGTH:
        raise UnsafeUrl(f"must be at most {URL_MAX_LENGTH} characters")
    if any(ord(character) <= 32 or ord(character) == 127 for character in url):
        raise UnsafeUrl("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl("is not a valid URL") from None
    allowed_schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme.lower() not in allowed_schemes:
        raise UnsafeUrl("must be an https URL")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("must not contain a user name or password")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeUrl("must name a host")
    if parts.fragment:
        raise UnsafeUrl("must not contain a fragment")
    scheme = parts.scheme.lower()
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port or (443 if scheme == "https" else 80), path


def resolve_webhook_url(url: str, *, allow_private: bool) -> Target:
    """The URL's target with every address its host resolves to, all of them public.

    UnsafeUrl when the URL is malformed, does not resolve, or any address is not public
    (unless `allow_private`, for development and tests).
    """
    scheme, host, port, path = parse_webhook_url(url, allow_private=allow_private)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeUrl(f"host {host!r} does not resolve") from None
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeUrl(f"host {host!r} does not resolve")
    if not allow_private:
        for address in addresses:
            if not is_public_address(address):
                raise UnsafeUrl(
                    f"must point to a public address; {host} resolves to {address}, which is "
                    "private, loopback, link-local or reserved"
                )
    return Target(scheme, host, port, path, addresses)
