"""Onboarding from a JSON document: stores, programs, events, partners and admissions.

The document is checked as a whole first, against its declaration below and the rules
of `stores.rules` (the same the back office applies); a bad one is refused with every
problem named and nothing written. A good one is applied in one transaction, matching
existing objects by name, and returned with every object's `uuid` (and, on request,
fresh tokens) filled in.
"""

from decimal import Decimal
from typing import Annotated, Any, Literal

from django.db import transaction
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from partners.models import Partner
from partners.services import admit_partner, issue_partner_token
from retrack.lib.validation import Text, field_errors, obeys, refused_as
from stores import rules
from stores.models import ProgramStatus, Store
from stores.services import issue_store_token, save_event, save_program


class OnboardingError(Exception):
    """The document was refused; `problems` lists each one as 'path: what is wrong'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _percent(value: Any) -> Any:
    percent = rules.parse_percent(value) if value is not None else None
    if value is not None and percent is None:
        raise PydanticCustomError("rule", rules.PERCENT_PROBLEM)
    return percent


def _known_partner(name: str, info: ValidationInfo) -> str:
    if name not in info.context["partner_names"]:
        raise PydanticCustomError("rule", f"names no known partner: {name!r}")
    return name


def _unique(entries: list, what: str) -> list:
    seen: set[str] = set()
    for entry in entries:
        if entry.name in seen:
            raise PydanticCustomError("rule", f"names the {what} {entry.name!r} twice")
        seen.add(entry.name)
    return entries


def _empty_if_null(value: Any) -> Any:
    return [] if value is None else value


_Name = Text(rules.NAME_MAX_LENGTH, required=True)
# A list left null is an empty one.
_NullIsEmpty = BeforeValidator(_empty_if_null)
_Days = Annotated[
    int, Field(strict=True), refused_as(rules.DAYS_PROBLEM), obeys(rules.days_problem)
]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    name: _Name
    # What `onboard` answers may be fed back in: uuids are matched by name, not read.
    uuid: Any = None


class PartnerEntry(_Entry):
    token: Any = None


class EventEntry(_Entry):
    kind: Literal["transaction", "lead"]
    percent: Annotated[Decimal | None, BeforeValidator(_percent)] = None
    fixed: Annotated[
        int | None,
        Field(strict=True, validate_default=True),
        refused_as(rules.FIXED_AMOUNT_PROBLEM),
    ] = None

    @field_validator("fixed")
    @classmethod
    def _one_commission(cls, fixed: int | None, info: ValidationInfo) -> int | None:
        if "percent" not in info.data:
            return fixed  # the percent was refused already
        problem = rules.commission_choice_problem(info.data["percent"], fixed)
        if problem is None and fixed is not None:
            problem = rules.fixed_amount_problem(fixed)
        if problem:
            raise PydanticCustomError("rule", problem)
        return fixed


class ProgramEntry(_Entry):
    currency: Annotated[str, Field(strict=True), obeys(rules.currency_problem)]
    allowed_domains: list[Annotated[str, Field(strict=True)]]
    landing_url: Annotated[str, Field(strict=True)]
    redirect_page_url: Annotated[str | None, Field(strict=True)] = None
    attribution_days: _Days = 30
    validation_days: _Days = 45
    status: Literal["active", "paused", "closed"] = ProgramStatus.ACTIVE.value
    partners: Annotated[
        list[Annotated[str, Field(strict=True), AfterValidator(_known_partner)]], _NullIsEmpty
    ] = []
    events: Annotated[list[EventEntry], _NullIsEmpty] = []

    @field_validator("allowed_domains")
    @classmethod
    def _hosts(cls, domains: list[str]) -> list[str]:
        problems = rules.allowed_domains_problems(domains)
        if problems:
            raise PydanticCustomError("rule", problems[0])
        return domains

    @field_validator("landing_url", "redirect_page_url")
    @classmethod
    def _on_allowed_domains(cls, url: str | None, info: ValidationInfo) -> str | None:
        domains = info.data.get("allowed_domains", [])
        if info.field_name == "landing_url":
            problem = rules.landing_url_problem(url, domains) if url else "is required"
        else:
            problem = rules.redirect_page_problem(url, domains)
        if problem:
            raise PydanticCustomError("rule", problem)
        return url

    @field_validator("events")
    @classmethod
    def _unique_events(cls, events: list[EventEntry]) -> list[EventEntry]:
        return _unique(events, "event")


class StoreEntry(_Entry):
    token: Any = None
    programs: Annotated[list[ProgramEntry], _NullIsEmpty] = []

    @field_validator("programs")
    @classmethod
    def _unique_programs(cls, programs: list[ProgramEntry]) -> list[ProgramEntry]:
        return _unique(programs, "program")


class OnboardingDocument(BaseModel):
    """Partners first, then stores with their programs; each matched by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    partners: Annotated[list[PartnerEntry], _NullIsEmpty] = []
    stores: Annotated[list[StoreEntry], _NullIsEmpty] = []

    @field_validator("partners")
    @classmethod
    def _unique_partners(cls, partners: list[PartnerEntry]) -> list[PartnerEntry]:
        return _unique(partners, "partner")

    @field_validator("stores")
    @classmethod
    def _unique_stores(cls, stores: list[StoreEntry]) -> list[StoreEntry]:
        return _unique(stores, "store")


def _partner_names(document: dict) -> set[str]:
    """The partners a program may admit: those that exist and those the document adds."""
    named = document.get("partners")
    entries = named if isinstance(named, list) else []
    added = {entry.get("name") for entry in entries if isinstance(entry, dict)}
    existing = set(Partner.objects.values_list("name", flat=True))
    return existing | {name.strip() for name in added if isinstance(name, str)}


def parse_document(document: Any) -> OnboardingDocument:
    """The onboarding document, or OnboardingError naming every problem."""
    if not isinstance(document, dict):
        raise OnboardingError(["document: must be an object"])
    try:
        return OnboardingDocument.model_validate(
            document, context={"partner_names": _partner_names(document)}
        )
    except ValidationError as error:
        fields = field_errors(error, document, root="document")
        raise OnboardingError(
            [f"{path}: {message}" for path, messages in fields.items() for message in messages]
        ) from None


def check_document(document: Any) -> list[str]:
    """Every problem of an onboarding document, or an empty list when it may be applied."""
    try:
        parse_document(document)
    except OnboardingError as refusal:
        return refusal.problems
    return []


@transaction.atomic
def onboard(document: Any, *, issue_tokens: bool = False) -> dict[str, Any]:
    """Apply an onboarding document and return it with uuids (and tokens) filled in."""
    parsed = parse_document(document)
    result: dict[str, Any] = {"partners": [], "stores": []}
    for partner_entry in parsed.partners:
        partner, _ = Partner.objects.get_or_create(name=partner_entry.name)
        entry = {"name": partner.name, "uuid": str(partner.uuid)}
        if issue_tokens:
            entry["token"] = issue_partner_token(partner, name="onboard")[1]
        result["partners"].append(entry)
    for store_entry in parsed.stores:
        store, _ = Store.objects.get_or_create(name=store_entry.name)
        store_result: dict[str, Any] = {"name": store.name, "uuid": str(store.uuid), "programs": []}
        if issue_tokens:
            store_result["token"] = issue_store_token(store, name="onboard")[1]
        for program_entry in store_entry.programs:
            store_result["programs"].append(_onboard_program(store, program_entry))
        result["stores"].append(store_result)
    return result


def _onboard_program(store: Store, entry: ProgramEntry) -> dict[str, Any]:
    program = save_program(
        store,
        name=entry.name,
        currency=entry.currency,
        landing_url=entry.landing_url,
        allowed_domains=list(entry.allowed_domains),
        redirect_page_url=entry.redirect_page_url or "",
        attribution_days=entry.attribution_days,
        validation_days=entry.validation_days,
        status=entry.status,
    )
    events = []
    for event_entry in entry.events:
        event = save_event(
            program,
            name=event_entry.name,
            kind=event_entry.kind,
            percent=event_entry.percent,
            fixed_amount=event_entry.fixed,
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
    for partner in Partner.objects.filter(name__in=entry.partners):
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
        "partners": list(entry.partners),
        "events": events,
    }
