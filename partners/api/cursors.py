"""Feed cursors: opaque to the partner, signed so that they cannot be forged or shared.

A cursor carries the partner's UUID and a change sequence number, signed with
SECRET_KEY (HMAC-SHA256, salted for this use). It never expires: a poller may store it
and come back months later. Rotating SECRET_KEY invalidates cursors unless the old key
is kept in SECRET_KEY_FALLBACKS.
"""

from django.core import signing

from partners.models import Partner

_SALT = "retrack.partners.feed-cursor"

CURSOR_MAX_LENGTH = 200
CURSOR_INVALID_MESSAGE = (
    "The cursor is malformed, altered or was issued to another partner. Pass a next_cursor "
    "exactly as it was returned, or no cursor to read from the first change."
)


class CursorInvalid(ValueError):
    """The cursor is malformed, altered, or was issued to another partner."""


def _signer() -> signing.Signer:
    # Made per call so that it follows SECRET_KEY and SECRET_KEY_FALLBACKS as they are now.
    return signing.Signer(salt=_SALT, algorithm="sha256")


def encode_feed_cursor(partner: Partner, sequence: int) -> str:
    """The cursor that continues the partner's feed after change `sequence`."""
    return _signer().sign_object({"p": partner.uuid.hex, "s": sequence})


def decode_feed_cursor(partner: Partner, cursor: str) -> int:
    """The sequence a cursor of this partner points after; an empty cursor is the start."""
    if not cursor:
        return 0
    if len(cursor) > CURSOR_MAX_LENGTH:
        raise CursorInvalid
    try:
        value = _signer().unsign_object(cursor)
    except (signing.BadSignature, ValueError):
        raise CursorInvalid from None
    if not isinstance(value, dict) or value.get("p") != partner.uuid.hex:
        raise CursorInvalid
    sequence = value.get("s")
    if type(sequence) is not int or sequence < 0:
        raise CursorInvalid
    return sequence
