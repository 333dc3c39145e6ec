"""How the conversion pages show stored values: history changes, the commission breakdown
and the auto-approval date."""

from django.utils import formats, timezone
from django.utils.html import format_html_join
from django.utils.timesince import timesince

from conversions.commission import FIXED_PER_CONVERSION, FIXED_PER_UNIT, PERCENT_OF_NET
from conversions.models import Conversion, ConversionStatus
from conversions.selectors import auto_approve_at
from retrack.lib.money import format_money


def change_value(value) -> str:
    """A history value; product lines (see conversions.services.amending) as 'n × name'."""
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        lines = [
            f"{item.get('quantity')} × {item.get('name') or item.get('reference')} "
            f"at {item.get('price')}"
            for item in value
        ]
        return "; ".join(lines) or "no lines"
    return str(value)


def breakdown_rows(breakdown: list, currency: str) -> list[str]:
    """Table cells for each entry of a commission breakdown (see conversions.commission)."""
    rows = []
    for entry in breakdown:
        if not isinstance(entry, dict):
            continue
        method = entry.get("method")
        base, rate = entry.get("base"), entry.get("rate")
        if method == PERCENT_OF_NET:
            base_text, rate_text = f"{format_money(base, currency)} net", f"{rate}\u00a0%"
        elif method == FIXED_PER_UNIT:
            base_text, rate_text = f"{base} unit(s)", f"{format_money(int(rate), currency)} each"
        elif method == FIXED_PER_CONVERSION:
            base_text, rate_text = "once", format_money(int(rate), currency)
        else:
            base_text, rate_text = str(base), str(rate)
        line = entry.get("line")
        event = entry.get("event") or {}
        rows.append(
            format_html_join(
                "",
                "<td>{}</td>",
                (
                    ("order" if line is None else f"line {line + 1}",),
                    (event.get("name", ""),),
                    (str(method).replace("_", " "),),
                    (base_text,),
                    (rate_text,),
                    (format_money(entry.get("result"), currency),),
                ),
            )
        )
    return rows


def auto_approval_text(conversion: Conversion) -> str:
    """When the approval job approves the conversion, or why it will not."""
    moment = auto_approve_at(conversion)
    if moment is None and conversion.status == ConversionStatus.PENDING:
        return "— held for review: not approved automatically while a flag is open"
    if moment is None:
        return "— (decided)"
    due = formats.localize(timezone.template_localtime(moment))
    if moment <= timezone.now():
        return f"due since {due}: the next run of the approval job approves it"
    return f"{due} (in {timesince(timezone.now(), moment, depth=1)}), unless decided before"
