"""Helpers for click tests."""

import os
import uuid
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from retrack.lib.uuids import uuid7_floor


def uuid7_at(moment: datetime) -> uuid.UUID:
    """A UUIDv7 as a click made at `moment` gets it, for clicks created in the past."""
    floor = uuid7_floor(int(moment.timestamp() * 1000)).int
    return uuid.UUID(int=floor | int.from_bytes(os.urandom(7), "big") & ((1 << 56) - 1))


def query_of(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query, keep_blank_values=True)
