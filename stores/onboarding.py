"""Onboarding from a JSON document: stores, programs, events, partners and admissions.

The document is checked as a whole first; a bad one is refused with every problem named
and nothing written. A good one is applied in one transaction, matching existing objects
by name, and returned with every object's `uuid` (and, on request, fresh tokens) filled in.
"""

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from partners.models import Partner
from partners.services import admit_partner, issue_partner_token
from retrack.lib.urls import allowed_http_url, split_allowed_domain
from stores.models import EventKind, ProgramStatus, Store
from stores.services import issue_store_token, save_event, save_program

NAME_MAX_LENGTH = 200
MAX_DAYS = 3650
_CURRENCY = re.compile(r"^[A-Z]{3}$")

_DOCUMENT_KEYS = {"partners", "stores"}
_PARTNER_KEYS = {"name", "uuid", "token"}
_STORE_KEYS = {"name", "programs", "uuid", "token"}
_PROGRAM_KEYS = {
    "name",
    "currency",
    "landing_url",
    "allowed_domains",
    "redirect_page_url",
    "attribution_days",
    "validation_days",
    "status",
    "partners",
    "events",
    "uuid",
}
_EVENT_KEYS = {"name", "kind", "percent", "fixed", "uuid"}


class OnboardingError(Exception):
    """The document was refused; `problems` lists each one as 'path: what is wrong'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def object(self, value: Any, path: str, keys: set[str]) -> bool:
        if not isinstance(value, dict):
            self.problem(path, "must be an object")
            return False
        for unknown in sorted(set(value) - keys):
            self.problem(f"{path}.{unknown}", "is not a known field")
        return True

    def items(self, value: Any, path: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, "must be a list")
            return []
        return value

    def name(self, value: dict, path: str) -> str | None:
        name = value.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problem(f"{path}.name", "is required and must be a non-empty string")
            return None
        if len(name) > NAME_MAX_LENGTH:
            self.problem(f"{path}.name", f"is longer than {NAME_MAX_LENGTH} characters")
            return None
        return name

    def days(self, value: dict, key: str, path: str, default: int) -> None:
        days = value.get(key, default)
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
            self.problem(f"{path}.{key}", f"must be a whole number of days from 0 to {MAX_DAYS}")

    def unique(self, names: list[str | None], path: str, what: str) -> None:
        seen: set[str] = set()
        for name in names:
            if name is None:
                continue
            if name in seen:
                self.problem(path, f"names the {what} {name!r} twice")
            seen.add(name)


def parse_percent(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        percent = Decimal(str(value))
    except InvalidOperation:
        return None
    if not percent.is_finite() or not 0 <= percent <= 100 or percent != round(percent, 3):
        return None
    return percent


def _check_event(check: _Checker, event: Any, path: str, program_path: str) -> None:
    if not check.object(event, path, _EVENT_KEYS):
        return
    check.name(event, path)
    if event.get("kind") not in EventKind.values:
        check.problem(f"{path}.kind", "must be 'transaction' or 'lead'")
    has_percent = event.get("percent") is not None
    has_fixed = event.get("fixed") is not None
    if has_percent == has_fixed:
        check.problem(path, "needs exactly one of 'percent' or 'fixed'")
    elif has_percent and parse_percent(event["percent"]) is None:
        check.problem(f"{path}.percent", "must be a number from 0 to 100 with at most 3 decimals")
    elif has_fixed:
        fixed = event["fixed"]
        if isinstance(fixed, bool) or not isinstance(fixed, int) or fixed < 0:
            check.problem(f"{path}.fixed", "must be a non-negative whole number of minor units")


def _check_program(check: _Checker, program: Any, path: str, partner_names: set[str]) -> None:
    if not check.object(program, path, _PROGRAM_KEYS):
        return
    check.name(program, path)
    if not isinstance(program.get("currency"), str) or not _CURRENCY.match(program["currency"]):
        check.problem(f"{path}.currency", "must be a three-letter ISO-4217 code such as 'SEK'")
    domains = program.get("allowed_domains")
    if not isinstance(domains, list) or not domains:
        check.problem(f"{path}.allowed_domains", "must be a non-empty list of host names")
        domains = []
    for index, domain in enumerate(domains):
        if not isinstance(domain, str) or split_allowed_domain(domain) is None:
            check.problem(f"{path}.allowed_domains[{index}]", "is not a valid host name")
    domains = [domain for domain in domains if isinstance(domain, str)]
    landing_url = program.get("landing_url")
    if not isinstance(landing_url, str) or allowed_http_url(landing_url, domains) is None:
        check.problem(f"{path}.landing_url", "must be an http(s) URL on one of allowed_domains")
    redirect_page_url = program.get("redirect_page_url")
    redirect_page_is_valid = isinstance(redirect_page_url, str) and allowed_http_url(
        redirect_page_url, domains
    )
    if redirect_page_url is not None and not redirect_page_is_valid:
        check.problem(
            f"{path}.redirect_page_url", "must be null or an http(s) URL on one of allowed_domains"
        )
    check.days(program, "attribution_days", path, default=30)
    check.days(program, "validation_days", path, default=45)
    if program.get("status", ProgramStatus.ACTIVE) not in ProgramStatus.values:
        check.problem(f"{path}.status", "must be 'active', 'paused' or 'closed'")
    for index, partner_name in enumerate(check.items(program.get("partners"), f"{path}.partners")):
        if partner_name not in partner_names:
            check.problem(f"{path}.partners[{index}]", f"names no known partner: {partner_name!r}")
    events = check.items(program.get("events"), f"{path}.events")
    for index, event in enumerate(events):
        _check_event(check, event, f"{path}.events[{index}]", path)
    check.unique(
        [event.get("name") for event in events if isinstance(event, dict)],
        f"{path}.events",
        "event",
    )


def check_document(document: Any) -> list[str]:
    """Every problem of an onboarding document, or an empty list when it may be applied."""
    check = _Checker()
    if not check.object(document, "document", _DOCUMENT_KEYS):
        return check.problems
    partners = check.items(document.get("partners"), "partners")
    partner_names = set(Partner.objects.values_list("name", flat=True))
    for index, partner in enumerate(partners):
        if check.object(partner, f"partners[{index}]", _PARTNER_KEYS):
            name = check.name(partner, f"partners[{index}]")
            if name:
                partner_names.add(name)
    check.unique(
        [partner.get("name") for partner in partners if isinstance(partner, dict)],
        "partners",
        "partner",
    )
    stores = check.items(document.get("stores"), "stores")
    for index, store in enumerate(stores):
        path = f"stores[{index}]"
        if not check.object(store, path, _STORE_KEYS):
            continue
        check.name(store, path)
        programs = check.items(store.get("programs"), f"{path}.programs")
        for program_index, program in enumerate(programs):
            _check_program(check, program, f"{path}.programs[{program_index}]", partner_names)
        check.unique(
            [program.get("name") for program in programs if isinstance(program, dict)],
            f"{path}.programs",
            "program",
        )
    check.unique(
        [store.get("name") for store in stores if isinstance(store, dict)], "stores", "store"
    )
    return check.problems


@transaction.atomic
def onboard(document: Any, *, issue_tokens: bool = False) -> dict[str, Any]:
    """Apply an onboarding document and return it with uuids (and tokens) filled in."""
    problems = check_document(document)
    if problems:
        raise OnboardingError(problems)
    result: dict[str, Any] = {"partners": [], "stores": []}
    for partner_document in document.get("partners") or []:
        partner, _ = Partner.objects.get_or_create(name=partner_document["name"])
        entry = {"name": partner.name, "uuid": str(partner.uuid)}
        if issue_tokens:
            entry["token"] = issue_partner_token(partner, name="onboard")[1]
        result["partners"].append(entry)
    for store_document in document.get("stores") or []:
        store, _ = Store.objects.get_or_create(name=store_document["name"])
        store_entry: dict[str, Any] = {"name": store.name, "uuid": str(store.uuid), "programs": []}
        if issue_tokens:
            store_entry["token"] = issue_store_token(store, name="onboard")[1]
        for program_document in store_document.get("programs") or []:
            store_entry["programs"].append(_onboard_program(store, program_document))
        result["stores"].append(store_entry)
    return result


def _onboard_program(store: Store, document: dict[str, Any]) -> dict[str, Any]:
    program = save_program(
        store,
        name=document["name"],
        currency=document["currency"],
        landing_url=document["landing_url"],
        allowed_domains=list(document["allowed_domains"]),
        redirect_page_url=document.get("redirect_page_url") or "",
        attribution_days=document.get("attribution_days", 30),
        validation_days=document.get("validation_days", 45),
        status=document.get("status", ProgramStatus.ACTIVE),
    )
    events = []
    for event_document in document.get("events") or []:
        event = save_event(
            program,
            name=event_document["name"],
            kind=event_document["kind"],
            percent=parse_percent(event_document["percent"])
            if event_document.get("percent") is not None
            else None,
            fixed_amount=event_document.get("fixed"),
        )
        events.append(
            {
                "name": event.name,
                "uuid": str(event.uuid),
                "kind": event.kind,
                **(
                    {"percent": f"{event.percent.normalize():f}"}
                    if event.percent is not None
                    else {"fixed": event.fixed_amount}
                ),
            }
        )
    partner_names = list(document.get("partners") or [])
    for partner in Partner.objects.filter(name__in=partner_names):
        admit_partner(partner, program)
    return {
        "name": program.name,
        "uuid": str(program.uuid),
        "currency": program.currency,
        "landing_url": program.landing_url,
        "allowed_domains": program.allowed_domains,
        "redirect_page_url": program.redirect_page_url or None,
        "attribution_days": program.attribution_days,
        "validation_days": program.validation_days,
        "status": program.status,
        "partners": partner_names,
        "events": events,
    }
