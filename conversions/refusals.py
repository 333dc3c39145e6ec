"""The one exception a conversion write raises when it refuses a report or a change."""

from retrack.lib.validation import refusal_summary


class ConversionRefused(Exception):
    """A refused report or change; nothing was written.

    `status` is the HTTP status the API answers (400, 404, 409 or 422), `code` the
    contract's machine code, `message` a human sentence and `fields` maps each offending
    field, named as the caller sent it (`products[1].quantity`), to its messages.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}

    def __repr__(self) -> str:
        return f"ConversionRefused({self.status}, {self.code!r}, {self.fields!r})"


def invalid(fields: dict[str, list[str]]) -> ConversionRefused:
    """A 400 refusal naming every bad field (up to a limit that keeps the answer small)."""
    message, named = refusal_summary(fields)
    return ConversionRefused(400, "invalid", message, named)
