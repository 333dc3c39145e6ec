"""URL and host checks that keep Retrack from ever being an open redirect."""

import re
from urllib.parse import urlsplit

URL_MAX_LENGTH = 2048
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_FORBIDDEN_URL_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_host(host: str) -> str | None:
    """The host in its ASCII (IDNA) lower-case form without a trailing dot, or None if invalid."""
    host = host.strip().rstrip(".").lower()
    if not host or len(host) > 253:
        return None
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    if not all(_HOST_LABEL.match(label) for label in labels):
        return None
    return ascii_host


def split_allowed_domain(entry: str) -> tuple[str, int | None] | None:
    """An allowed-domain entry, `host` or `host:port`, as (normalized host, port or None)."""
    host, separator, port_text = entry.strip().partition(":")
    port = None
    if separator:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            return None
        port = int(port_text)
    normalized = normalize_host(host)
    return (normalized, port) if normalized else None


def host_is_allowed(host: str, allowed_domains: list[str], port: int | None = None) -> bool:
    """True when `host` is one of `allowed_domains` or a subdomain of one.

    An entry without a port admits only the scheme's default port (`port` None); an entry
    `host:port` admits exactly that port, for development and test set-ups.
    """
    normalized = normalize_host(host)
    if normalized is None:
        return False
    for entry in allowed_domains:
        allowed = split_allowed_domain(entry)
        if allowed is None or allowed[1] != port:
            continue
        if normalized == allowed[0] or normalized.endswith("." + allowed[0]):
            return True
    return False


def allowed_http_url(url: str, allowed_domains: list[str]) -> str | None:
    """`url` when it is a plain absolute http(s) URL on an allowed host, else None.

    Refused: other schemes, protocol-relative and relative URLs, credentials, backslashes,
    white space and control characters, ports that no allowed entry names, and URLs
    over 2048 characters. The URL is returned as given (not re-encoded) so that the store
    receives exactly what the partner sent.
    """
    if not url or len(url) > URL_MAX_LENGTH or _FORBIDDEN_URL_CHARACTERS.search(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not url.lower().startswith(parts.scheme + "://"):
        return None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return None
    if port == _DEFAULT_PORTS[parts.scheme]:
        port = None
    if not parts.hostname or not host_is_allowed(parts.hostname, allowed_domains, port):
        return None
    return url
