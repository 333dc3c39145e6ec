"""URL and host checks that keep Retrack from ever being an open redirect.

A URL is judged the way a browser will read it (the WHATWG URL standard, whose hosts go
through UTS #46 non-transitional IDNA processing), and anything a browser might read
differently from Python's `urlsplit` is refused rather than interpreted: backslashes,
white space, control and invisible characters, credentials, brackets, percent-encoded
hosts. A refused deeplink is never an error for the shopper: the caller falls back to the
program's landing URL.
"""

import re
import unicodedata
from urllib.parse import quote, unquote_plus, urlsplit

import idna

URL_MAX_LENGTH = 2048
HOST_MAX_LENGTH = 253
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# ASCII controls, space, DEL and the backslash (which browsers read as "/").
_FORBIDDEN_URL_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")
# Unicode controls, format characters (zero-width, bidi overrides) and separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Zs"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_host(host: str) -> str | None:
    """The host in its ASCII (IDNA) lower-case form without a trailing dot, or None if invalid.

    Non-ASCII hosts are converted as browsers convert them (UTS #46, non-transitional:
    `straße` stays distinct from `strasse`); ASCII `xn--` labels must be valid punycode.
    """
    host = host.strip()
    if not host or len(host) > HOST_MAX_LENGTH + 1:
        return None
    if host.isascii():
        ascii_host = host.lower()
    else:
        try:
            ascii_host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            return None
    if ascii_host.endswith("."):
        ascii_host = ascii_host[:-1]
    if not ascii_host or len(ascii_host) > HOST_MAX_LENGTH:
        return None
    labels = ascii_host.split(".")
    if not all(_HOST_LABEL.match(label) for label in labels):
        return None
    if any(label.startswith("xn--") and not _is_valid_a_label(label) for label in labels):
        return None
    return ascii_host


def _is_valid_a_label(label: str) -> bool:
    try:
        idna.decode(label)
    except (idna.IDNAError, UnicodeError, ValueError):
        return False
    return True


def _looks_numeric(host: str) -> bool:
    """Browsers parse a host whose last label is a number as an IPv4 address."""
    last_label = host.rsplit(".", 1)[-1]
    return last_label.isdigit() or last_label.startswith("0x")


def split_allowed_domain(entry: str) -> tuple[str, int | None] | None:
    """An allowed-domain entry, `host` or `host:port`, as (normalized host, port or None)."""
    host, separator, port_text = entry.strip().partition(":")
    port = None
    if separator:
        if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            return None
        port = int(port_text)
    normalized = normalize_host(host)
    return (normalized, port) if normalized else None


def host_is_allowed(host: str, allowed_domains: list[str], port: int | None = None) -> bool:
    """True when `host` is one of `allowed_domains` or a subdomain of one.

    An entry without a port admits only the scheme's default port (`port` None); an entry
    `host:port` admits exactly that port, for development and test set-ups. A numeric
    host (an IPv4 address to a browser) must equal an entry: it has no subdomains.
    """
    normalized = normalize_host(host)
    if normalized is None:
        return False
    for entry in allowed_domains:
        allowed = split_allowed_domain(entry)
        if allowed is None or allowed[1] != port:
            continue
        if normalized == allowed[0]:
            return True
        if normalized.endswith("." + allowed[0]) and not _looks_numeric(normalized):
            return True
    return False


def _has_forbidden_characters(url: str) -> bool:
    if _FORBIDDEN_URL_CHARACTERS.search(url):
        return True
    return not url.isascii() and any(
        unicodedata.category(character) in _FORBIDDEN_CATEGORIES for character in url
    )


def allowed_http_url(url: str, allowed_domains: list[str]) -> str | None:
    """`url` when it is a plain absolute http(s) URL on an allowed host, else None.

    Refused: other schemes, protocol-relative and relative URLs, credentials, backslashes,
    white space, control and invisible characters, brackets and percent signs in the host,
    ports that no allowed entry names, and URLs over 2048 characters. The URL is returned
    as given (not re-encoded) so that the store receives exactly what the partner sent,
    except that the scheme is lower-cased and a non-ASCII host is replaced by its ASCII
    (punycode) form.
    """
    if not url or len(url) > URL_MAX_LENGTH or _has_forbidden_characters(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme_prefix = parts.scheme + "://"
    if parts.scheme not in _DEFAULT_PORTS or not url.lower().startswith(scheme_prefix):
        return None
    # urlsplit lower-cases the scheme it reports; the URL itself gets it too, as a
    # browser would, so that every later check of "https://" holds (`Https://…`).
    url = scheme_prefix + url[len(scheme_prefix) :]
    netloc = parts.netloc
    if any(character in netloc for character in "@[]%"):
        return None
    if port == _DEFAULT_PORTS[parts.scheme]:
        port = None
    hostname = netloc.rpartition(":")[0] if ":" in netloc else netloc
    if not hostname or not host_is_allowed(hostname, allowed_domains, port):
        return None
    if hostname.isascii():
        return url
    ascii_netloc = normalize_host(hostname) + netloc[len(hostname) :]
    rewritten = url[: len(scheme_prefix)] + ascii_netloc + url[len(scheme_prefix) + len(netloc) :]
    return rewritten if len(rewritten) <= URL_MAX_LENGTH else None


def with_query_parameters(
    url: str, parameters: dict[str, str], *, drop: frozenset[str] = frozenset()
) -> str:
    """`url` with `parameters` appended to its query, before any fragment.

    Earlier values of those names, and of the names in `drop`, are removed so that a stale
    `click` inside a deeplink cannot win over the fresh one; everything else in the query
    and the fragment is kept as it was.
    """
    base, hash_sign, fragment = url.partition("#")
    path, _, query = base.partition("?")
    removed = drop | parameters.keys()
    pieces = [piece for piece in query.split("&") if piece]
    kept = [piece for piece in pieces if unquote_plus(piece.partition("=")[0]) not in removed]
    if not parameters and len(kept) == len(pieces):
        return url
    kept += [
        f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in parameters.items()
    ]
    query_part = "?" + "&".join(kept) if kept else ""
    return f"{path}{query_part}{hash_sign}{fragment}"
