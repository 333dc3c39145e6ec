"""Time-ordered UUIDs (RFC 9562 version 7) for identifiers that are inserted in bulk."""

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_millis = 0
_last_counter = 0


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
