"""The conversion feed's cursors: a partner's position in its feed (see retrack.api.cursors)."""

from partners.models import Partner
from retrack.api.cursors import (
    CURSOR_INVALID_MESSAGE,
    CURSOR_MAX_LENGTH,
    CursorInvalid,
    decode_cursor,
    encode_cursor,
)

__all__ = [
    "CURSOR_INVALID_MESSAGE",
    "CURSOR_MAX_LENGTH",
    "CursorInvalid",
    "decode_feed_cursor",
    "encode_feed_cursor",
]

_SALT = "retrack.partners.feed-cursor"


def encode_feed_cursor(partner: Partner, sequence: int) -> str:
    """The cursor that continues the partner's feed after change `sequence`."""
    return encode_cursor(partner.uuid, sequence, salt=_SALT)


def decode_feed_cursor(partner: Partner, cursor: str) -> int:
    """The sequence a cursor of this partner points after; an empty cursor is the start."""
    return decode_cursor(partner.uuid, cursor, salt=_SALT)
