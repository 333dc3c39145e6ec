"""Paging cursors: opaque to the caller, signed so that they cannot be forged or shared.

A cursor carries its owner's UUID (the partner or store it was issued to) and a position
(a change sequence number, a row id), signed with SECRET_KEY (HMAC-SHA256, salted per
list, so that one list's cursor is refused by another). It never expires: a poller may
store it and come back months later. Rotating SECRET_KEY invalidates cursors unless the
old key is kept in SECRET_KEY_FALLBACKS.
"""

from uuid import UUID

from django.core import signing

CURSOR_MAX_LENGTH = 200
CURSOR_INVALID_MESSAGE = (
    "The cursor is malformed, altered or was issued to someone else or for another list. "
    "Pass a next_cursor exactly as it was returned, or no cursor to read from the start."
)


class CursorInvalid(ValueError):
    """The cursor is malformed, altered, or was issued to another owner or list."""


def _signer(salt: str) -> signing.Signer:
    # Made per call so that it follows SECRET_KEY and SECRET_KEY_FALLBACKS as they are now.
    return signing.Signer(salt=salt, algorithm="sha256")


def encode_cursor(owner: UUID, position: int, *, salt: str) -> str:
    """The cursor that continues `owner`'s list (named by `salt`) after `position`."""
    return _signer(salt).sign_object({"p": owner.hex, "s": position})


def decode_cursor(owner: UUID, cursor: str, *, salt: str) -> int:
    """The position a cursor of this owner and list points after; an empty cursor is 0."""
    if not cursor:
        return 0
    if len(cursor) > CURSOR_MAX_LENGTH:
        raise CursorInvalid
    try:
        value = _signer(salt).unsign_object(cursor)
    except (signing.BadSignature, ValueError):
        raise CursorInvalid from None
    if not isinstance(value, dict) or value.get("p") != owner.hex:
        raise CursorInvalid
    position = value.get("s")
    if type(position) is not int or position < 0:
        raise CursorInvalid
    return position
