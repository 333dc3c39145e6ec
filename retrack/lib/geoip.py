"""The visitor's country: from a trusted proxy's header, or from a GeoIP2 database file.

The file is read with maxminddb, MaxMind's reader of the file format, rather than geoip2:
geoip2's model objects make a lookup four to five times slower (measured), and its
web-service client, which we never use, brings a dozen packages (aiohttp, requests...).
"""

import logging
import re
from collections.abc import Callable, Mapping
from functools import lru_cache

import maxminddb

logger = logging.getLogger(__name__)

_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
# What CDNs send when they do not know the country (Cloudflare: XX; others: ZZ).
_UNKNOWN_COUNTRIES = frozenset({"XX", "ZZ"})

CountryLookup = Callable[[str], str]


def header_meta_key(header_name: str) -> str:
    """The WSGI environ key of a request header: `CF-IPCountry` → `HTTP_CF_IPCOUNTRY`."""
    return "HTTP_" + header_name.strip().upper().replace("-", "_")


def country_from_header(value: str) -> str:
    """An ISO-3166 alpha-2 code from a proxy header, or "" unless it is two known letters."""
    code = value.strip().upper()
    if _COUNTRY_CODE.match(code) and code not in _UNKNOWN_COUNTRIES:
        return code
    return ""


@lru_cache(maxsize=8)
def country_lookup(path: str) -> CountryLookup | None:
    """A lookup function over the database at `path`, or None (logged once) when unusable.

    A database that cannot be read costs the clicks their country, never the clicks
    themselves: the tracking link keeps working and the problem is logged and reported
    by `manage.py check`.
    """
    try:
        reader = maxminddb.open_database(path)
        database_type = reader.metadata().database_type
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as error:
        logger.warning(
            "RETRACK_GEOIP_PATH %r cannot be read (%s): clicks get no country", path, error
        )
        return None
    # Both kinds hold the country at record["country"]["iso_code"].
    if "City" not in database_type and "Country" not in database_type:
        logger.warning(
            "RETRACK_GEOIP_PATH %r is a %r database, not a Country or City one: "
            "clicks get no country",
            path,
            database_type,
        )
        return None

    def lookup(ip_address: str) -> str:
        try:
            record = reader.get(ip_address)
        except (ValueError, maxminddb.InvalidDatabaseError):
            # Not an address, an IPv6 address in an IPv4 database, or a damaged file.
            return ""
        country = record.get("country") if isinstance(record, dict) else None
        iso_code = country.get("iso_code") if isinstance(country, dict) else None
        return country_from_header(iso_code) if isinstance(iso_code, str) else ""

    return lookup


def visitor_country(
    meta: Mapping[str, str], ip_address: str | None, *, header_name: str, database_path: str
) -> str:
    """The country from `header_name` when it holds a valid code, else from the database."""
    if header_name:
        code = country_from_header(meta.get(header_meta_key(header_name), ""))
        if code:
            return code
    if database_path and ip_address:
        lookup = country_lookup(database_path)
        if lookup is not None:
            return lookup(ip_address)
    return ""
