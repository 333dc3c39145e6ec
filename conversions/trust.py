"""What a browser may claim (contract section 5, "Trust"): limits, flags and approvability.

The one place that decides whether a report is over its program's limits and which flags
a new conversion raises (`conversions.services.flags` stores them), for every channel:
the store API is refused over a limit (`limit_exceeded_refusal`), a browser report is
stored and flagged (`limit_exceeded_flag`). `bot_click`, `click_reused` and `too_fast` are
raised whichever channel reported it. A flagged conversion, or one only a browser
reported on a program that needs confirmation, is held: never auto-approved
(`held_from_auto_approval`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q

from clicks.models import Click
from conversions.models import Conversion, ConversionFlag, ConversionStatus, FlagCode
from conversions.refusals import ConversionRefused
from retrack.lib.plain_sql import fetch_row, for_update, prepared
from stores.models import Program

CLICK_REUSE_PERIOD = timedelta(days=1)


@dataclass(frozen=True)
class RaisedFlag:
    """A flag to raise on a conversion: its code and the reason shown to people."""

    code: FlagCode
    reason: str


def limit_breaches(
    program: Program, *, order_sum: int, quantities: Sequence[int], commission: int
) -> dict[str, list[str]]:
    """Each field of a report over one of the program's limits, named as the API names it."""
    breaches: dict[str, list[str]] = {}
    if order_sum > program.max_order_sum:
        breaches["orderSum"] = [f"is over the program's limit of {program.max_order_sum}"]
    for index, quantity in enumerate(quantities):
        if quantity > program.max_line_quantity:
            breaches[f"products[{index}].quantity"] = [
                f"is over the program's limit of {program.max_line_quantity} per line"
            ]
    if commission > program.max_commission:
        breaches["commission"] = [
            f"would be {commission}, over the program's limit of {program.max_commission}"
        ]
    return breaches


def limit_exceeded_refusal(breaches: dict[str, list[str]]) -> ConversionRefused:
    """The store API's answer to a report over its program's limits: 422 naming each field."""
    names = ", ".join(breaches)
    return ConversionRefused(
        422,
        "limit_exceeded",
        f"Over the program's limits: {names}. Ask the network to raise them if this is real.",
        breaches,
    )


def limit_exceeded_flag(breaches: dict[str, list[str]]) -> RaisedFlag:
    """The flag a browser report over its program's limits is stored with."""
    details = "; ".join(f"{name} {' '.join(messages)}" for name, messages in breaches.items())
    return RaisedFlag(FlagCode.LIMIT_EXCEEDED, f"Reported by a browser over a limit: {details}.")


def click_flags(click: Click, program: Program, now: datetime) -> list[RaisedFlag]:
    """The flags a new conversion on `click` raises, whichever channel reported it.

    Counting the click's earlier conversions is a read: the caller holds the click's row
    lock (`lock_click`) so that two reports racing on one click count each other.
    """
    flags = []
    if click.is_bot:
        flags.append(RaisedFlag(FlagCode.BOT_CLICK, "The click looked like a bot."))
    elapsed = (now - click.created_at).total_seconds()
    if elapsed < program.min_seconds_to_conversion:
        flags.append(
            RaisedFlag(
                FlagCode.TOO_FAST,
                f"Reported {max(elapsed, 0):.0f} s after the click; the program's minimum is "
                f"{program.min_seconds_to_conversion} s.",
            )
        )
    earlier = _conversions_on_click_since(click, now - CLICK_REUSE_PERIOD)
    allowed = program.max_conversions_per_click_per_day
    if earlier >= allowed:
        flags.append(
            RaisedFlag(
                FlagCode.CLICK_REUSED,
                f"Conversion {earlier + 1} on this click within 24 hours; the program allows "
                f"{allowed}.",
            )
        )
    return flags


def _conversions_on_click_since(click: Click, since: datetime) -> int:
    # Plain SQL, as the lock below: both run in every report's transaction (plain_sql.py).
    fields = Conversion._meta
    (count,) = fetch_row(
        f'SELECT COUNT(*) FROM "{fields.db_table}" WHERE "click_id" = %s AND "created_at" > %s',
        [
            prepared(fields.get_field("click"), click.pk),
            prepared(fields.get_field("created_at"), since),
        ],
    )
    return count


def lock_click(click: Click) -> None:
    """Lock the click's row until the transaction ends: one conversion per click at a time."""
    fetch_row(
        f'SELECT "uuid" FROM "{Click._meta.db_table}" WHERE "uuid" = %s{for_update()}',
        [prepared(Click._meta.pk, click.pk)],
    )


def open_flag_codes(conversion: Conversion) -> list[str]:
    """The codes of the conversion's open flags, sorted."""
    codes = ConversionFlag.objects.filter(conversion=conversion, cleared_at__isnull=True)
    return sorted(codes.values_list("code", flat=True))


def open_flags_exist() -> Exists:
    """An expression: the conversion (the outer query's row) has an open flag."""
    return Exists(ConversionFlag.objects.filter(conversion=OuterRef("pk"), cleared_at__isnull=True))


def auto_approvable(program: Program) -> Q:
    """The pending conversions of `program` that the periodic job may approve when due."""
    condition = Q(status=ConversionStatus.PENDING) & ~Q(open_flags_exist())
    if program.script_needs_confirmation:
        condition &= Q(confirmed=True)
    return condition


def held_from_auto_approval(conversion: Conversion, *, has_open_flags: bool) -> bool:
    """True when the periodic job must leave the conversion for a person to decide."""
    if has_open_flags:
        return True
    return conversion.program.script_needs_confirmation and not conversion.confirmed


def auto_approve_at(conversion: Conversion, *, has_open_flags: bool) -> datetime | None:
    """When the periodic job will approve the conversion unless it is rejected; None when
    it is decided, or held by a flag or by a missing confirmation."""
    if conversion.status != ConversionStatus.PENDING:
        return None
    if held_from_auto_approval(conversion, has_open_flags=has_open_flags):
        return None
    return conversion.created_at + timedelta(days=conversion.program.validation_days)
