"""The visitor's country: from a trusted proxy's header, or from a GeoIP2 database file."""

import logging
import re
from collections.abc import Callable, Mapping
from functools import lru_cache

import geoip2.database
import geoip2.errors
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
        reader = geoip2.database.Reader(path)
        database_type = reader.metadata().database_type
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as error:
        logger.warning(
            "RETRACK_GEOIP_PATH %r cannot be read (%s): clicks get no country", path, error
        )
        return None
    if "City" in database_type:
        find = reader.city
    elif "Country" in database_type:
        find = reader.country
    else:
        logger.warning(
            "RETRACK_GEOIP_PATH %r is a %r database, not a Country or City one: "
            "clicks get no country",
            path,
            database_type,
        )
        return None

    def lookup(ip_address: str) -> str:
        try:
            iso_code = find(ip_address).country.iso_code
        except (geoip2.errors.AddressNotFoundError, ValueError, maxminddb.InvalidDatabaseError):
            return ""
        return country_from_header(iso_code or "")

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
