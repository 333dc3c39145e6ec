"""UUIDs: time-ordered ones (RFC 9562 version 7) for identifiers inserted in bulk, reading
one from untrusted text, and turning a time range into a range of UUIDv7 keys."""

import os
import re
import threading
import time
import uuid
from datetime import datetime, timedelta

from django.db.models import Q

_lock = threading.Lock()
_last_millis = 0
_last_counter = 0

# A UUID as RFC 9562 writes it and Retrack hands it out: 8-4-4-4-12 hex digits, in either
# case. Checked before uuid.UUID(), which on its own also reads braces, `urn:uuid:`, padding,
# `0x`, `+`, underscores, non-ASCII digits and hyphens anywhere. (Explicit character classes
# rather than re.IGNORECASE, which makes the match three times slower.)
_UUID_TEXT = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
# A row's UUIDv7 is made in the same instant as its created_at (a few milliseconds later when
# many are made at once, more if the clock stepped back); this margin only widens the key
# range, the exact bounds are the ones on created_at.
UUID7_MARGIN = timedelta(hours=1)


def uuid7() -> uuid.UUID:
    """A UUIDv7: 48 bits of Unix milliseconds, then a 12-bit counter and 62 random bits.

    The counter keeps UUIDs made in the same millisecond by this process in order, so the
    index on them is appended to rather than split.
    """
    global _last_millis, _last_counter
    with _lock:
        millis = time.time_ns() // 1_000_000
        if millis > _last_millis:
            _last_millis = millis
            _last_counter = int.from_bytes(os.urandom(2), "big") & 0x7FF
        else:
            _last_counter += 1
            if _last_counter > 0xFFF:
                _last_millis += 1
                _last_counter = 0
            millis = _last_millis
        counter = _last_counter
    random_tail = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= random_tail
    return uuid.UUID(int=value)


def uuid7_floor(moment_millis: int) -> uuid.UUID:
    """The smallest UUIDv7 that can be made at `moment_millis`: a bound for time ranges."""
    return uuid.UUID(int=((moment_millis & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (0b10 << 62))


def parse_uuid(value: object) -> uuid.UUID | None:
    """The UUID written in `value`, or None when `value` is not a string spelling one.

    The one reader of UUIDs from outside (links, API bodies and queries, tag reports, admin
    searches): cheap enough for the click path, and bounded whatever the input's length.
    """
    if not isinstance(value, str) or _UUID_TEXT.fullmatch(value) is None:
        return None
    return uuid.UUID(value)


def created_between(
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    uuid_field: str = "uuid",
    margin: timedelta = UUID7_MARGIN,
) -> Q:
    """Rows created in [since, until) (either bound optional), found through their UUIDv7 index.

    Big tables have no index on created_at, but their UUIDv7 (`uuid_field`) is ordered by
    time: the time range becomes a range on that index, widened by `margin`, and the exact
    bounds are then checked on created_at. A margin of zero may miss the rare row whose
    UUIDv7 is later than its created_at: only for jobs that catch it on their next run.
    """
    condition = Q()
    if since is not None:
        condition &= Q(**{f"{uuid_field}__gte": _uuid7_at(since - margin)}, created_at__gte=since)
    if until is not None:
        condition &= Q(**{f"{uuid_field}__lt": _uuid7_at(until + margin)}, created_at__lt=until)
    return condition


def _uuid7_at(moment: datetime) -> uuid.UUID:
    return uuid7_floor(int(moment.timestamp() * 1000))
