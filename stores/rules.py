"""The rules a program and an event must follow, written once.

`Program.clean()` and `Event.clean()` call these, so the back office's forms apply them;
`stores.onboarding` applies them to each program and event of a document before writing
anything; the store API takes its currency format from here. Each problem is a sentence
keyed by the model field it is about.
"""

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from retrack.lib.urls import allowed_http_url, split_allowed_domain
from retrack.lib.validation import BIGINT_MAX

NAME_MAX_LENGTH = 200
MAX_DAYS = 3650
CURRENCY_PATTERN = r"^[A-Z]{3}$"
_CURRENCY = re.compile(CURRENCY_PATTERN)

CURRENCY_PROBLEM = "Enter a three-letter ISO-4217 code, such as SEK."
PERCENT_PROBLEM = "A percentage must be from 0 to 100, with at most 3 decimals."
FIXED_AMOUNT_PROBLEM = "A fixed amount must be a whole number of minor units (4000 means 40.00)."
DAYS_PROBLEM = f"Enter a whole number of days from 0 to {MAX_DAYS}."

Problems = dict[str, list[str]]


def parse_percent(value: Any) -> Decimal | None:
    """A percentage (0 to 100, at most 3 decimals) from text or a number, else None."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        return None
    try:
        percent = Decimal(str(value))
    except InvalidOperation:
        return None
    if not percent.is_finite() or not 0 <= percent <= 100 or percent != round(percent, 3):
        return None
    return percent


def currency_problem(currency: Any) -> str | None:
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        return CURRENCY_PROBLEM
    return None


def allowed_domains_problems(domains: list[str]) -> list[str]:
    if not domains:
        return ["Enter at least one domain."]
    bad = [entry for entry in domains if split_allowed_domain(entry) is None]
    if bad:
        return [
            f"Not a valid host name: {', '.join(bad)}. Write host names such as store.example "
            "(store.example:8443 for a port)."
        ]
    return []


def _on_domains(url: str, domains: list[str], what: str) -> str | None:
    domains = [entry for entry in domains if split_allowed_domain(entry) is not None]
    if not url or not domains or allowed_http_url(url, domains) is not None:
        return None
    return f"{what} must be an http(s) URL on one of the allowed domains ({', '.join(domains)})."


def landing_url_problem(url: str, domains: list[str]) -> str | None:
    return _on_domains(url, domains, "The landing URL")


def redirect_page_problem(url: str | None, domains: list[str]) -> str | None:
    """An empty redirect page is none: clicks go straight to the deeplink."""
    return _on_domains(url or "", domains, "The redirect page")


def days_problem(days: Any) -> str | None:
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
        return DAYS_PROBLEM
    return None


def commission_choice_problem(percent: Any, fixed_amount: Any) -> str | None:
    """An event earns exactly one way: a percentage or a fixed amount."""
    if percent is not None and fixed_amount is not None:
        return "Give either a percentage or a fixed amount, not both."
    if percent is None and fixed_amount is None:
        return "Give a percentage or a fixed amount."
    return None


def percent_problem(percent: Any) -> str | None:
    return PERCENT_PROBLEM if parse_percent(percent) is None else None


def fixed_amount_problem(fixed_amount: int) -> str | None:
    if fixed_amount < 0:
        return "A fixed amount cannot be negative (minor units: 4000 means 40.00)."
    if fixed_amount > BIGINT_MAX:
        return f"A fixed amount must be at most {BIGINT_MAX}."
    return None


def _collect(**problems: str | list[str] | None) -> Problems:
    collected: Problems = {}
    for field, found in problems.items():
        messages = [found] if isinstance(found, str) else (found or [])
        if messages:
            collected[field] = messages
    return collected


def program_problems(
    *,
    currency: str,
    allowed_domains: list[str],
    landing_url: str,
    redirect_page_url: str,
    attribution_days: int,
    validation_days: int,
) -> Problems:
    """What is wrong with a program's settings, by field; empty when it may be saved."""
    return _collect(
        currency=currency_problem(currency),
        allowed_domains=allowed_domains_problems(allowed_domains),
        landing_url=landing_url_problem(landing_url, allowed_domains),
        redirect_page_url=redirect_page_problem(redirect_page_url, allowed_domains),
        attribution_days=days_problem(attribution_days),
        validation_days=days_problem(validation_days),
    )


def event_problems(*, percent: Decimal | None, fixed_amount: int | None) -> Problems:
    """What is wrong with an event's commission, by field; empty when it may be saved."""
    choice = commission_choice_problem(percent, fixed_amount)
    if choice:
        return {"percent": [choice]}
    if percent is not None:
        return _collect(percent=percent_problem(percent))
    return _collect(fixed_amount=fixed_amount_problem(fixed_amount))
