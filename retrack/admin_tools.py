"""Shared pieces of the back office: a paginator and filters fit for tables of millions of rows,
money display, and the admin for API tokens (stores' and partners' alike)."""

import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from retrack.audit.services import operator_actor
from retrack.lib.uuids import uuid7_floor

# ISO-4217 currencies whose minor unit is not a hundredth.
_NO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
_MINOR_DIGITS = {
    **dict.fromkeys(_NO_DECIMALS.split(), 0),
    **dict.fromkeys(_THREE_DECIMALS.split(), 3),
}


def format_money(amount: int | None, currency: str) -> str:
    """Minor units as a readable amount, e.g. 10100 SEK → '101.00 SEK' (no rounding happens)."""
    if amount is None:
        return "—"
    digits = _MINOR_DIGITS.get(currency, 2)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**digits)
    # No-break spaces: an amount never wraps inside a narrow table cell.
    text = f"{whole:,}".replace(",", "\u00a0")
    if digits:
        text += f".{fraction:0{digits}d}"
    return f"{sign}{text}\u00a0{currency}"


def parse_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def fieldset_fields(fieldsets) -> list[str]:
    """Every field named in `fieldsets`, in order: the read-only fields of a view-only page."""
    return [field for _, options in fieldsets for field in options["fields"]]


def newest_first_ordering(request: HttpRequest) -> list[str]:
    """Newest first, along the index the request's filters use.

    Filtered by program or partner, the (program|partner, created_at) index serves both the
    filter and `ORDER BY created_at DESC`; unfiltered, the time-ordered primary key does.
    """
    if any(key.startswith(("program__", "partner__")) for key in request.GET):
        return ["-created_at"]
    return ["-pk"]


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows, so a list page never runs COUNT(*) over a whole big table.

    The count query is `SELECT COUNT(*) FROM (… LIMIT CAP + 1)`: it stops after CAP + 1
    index entries whatever the table size. Beyond the cap the operator narrows the list with
    a filter or a search, which is what answers a question anyway.
    """

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        counted = self.object_list[: self.CAP + 1].count()
        return min(counted, self.CAP)

    @cached_property
    def is_capped(self) -> bool:
        return self.count >= self.CAP


class InputListFilter(admin.ListFilter, ABC):
    """A filter whose value is typed into a small form (a country code, a date range).

    Subclasses set `parameters` ({query parameter: label}) and implement `filter_queryset`
    with the cleaned values; a value that does not clean is reported and not applied.
    """

    template = "admin/input_filter.html"
    parameters: dict[str, str] = {}
    shortcuts: list[tuple[str, dict[str, str]]] = []

    def __init__(self, request, params, model, model_admin) -> None:
        super().__init__(request, params, model, model_admin)
        self.request = request
        self.cleaned: dict[str, Any] = {}
        for name in self.parameters:
            if name in params:
                raw = params.pop(name)[-1].strip()
                self.used_parameters[name] = raw
                if raw:
                    self._clean_parameter(request, name, raw)

    def _clean_parameter(self, request: HttpRequest, name: str, raw: str) -> None:
        try:
            self.cleaned[name] = self.clean_value(name, raw)
        except ValueError as error:
            messages.warning(
                request, f"{self.parameters[name]}: {error} The filter was not applied."
            )

    @abstractmethod
    def clean_value(self, name: str, raw: str) -> Any:
        """The typed value of a parameter; ValueError with a sentence when it is not one."""

    @abstractmethod
    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """The queryset narrowed by the cleaned parameters."""

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return list(self.parameters)

    def queryset(self, request, queryset):
        return self.filter_queryset(queryset) if self.cleaned else queryset

    def choices(self, changelist):
        own = set(self.parameters)
        yield {
            "fields": [
                (name, label, self.used_parameters.get(name, ""))
                for name, label in self.parameters.items()
            ],
            "hidden": [
                (name, value)
                for name, values in changelist.get_filters_params().items()
                if name not in own
                for value in values
            ],
            "shortcuts": [
                (label, changelist.get_query_string(values, remove=list(own)))
                for label, values in self.shortcuts_for(timezone.now().date())
            ],
            "clear": changelist.get_query_string(remove=list(own)) if self.cleaned else "",
        }

    def shortcuts_for(self, today: date) -> list[tuple[str, dict[str, str]]]:
        return []


class CountryFilter(InputListFilter):
    """Filter by the click's two-letter country code."""

    title = "country"
    parameters = {"country": "Country (e.g. SE)"}
    field_path = "country"

    def clean_value(self, name: str, raw: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{2}", raw):
            raise ValueError(f"{raw!r} is not a two-letter country code.")
        return raw.upper()

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(**{self.field_path: self.cleaned["country"]})


# A row's UUIDv7 is made in the same instant as its created_at; this margin only widens the
# index range, the exact bounds are applied to created_at.
_UUID_MARGIN = timedelta(hours=1)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _uuid_floor(moment: datetime):
    return uuid7_floor(int(moment.timestamp() * 1000))


class CreatedDateFilter(InputListFilter):
    """Filter by creation day (UTC, both days included), served by the UUIDv7 index.

    `created_at` has no index of its own on the big tables, but their UUIDv7 (the primary
    key of a click, the unique `uuid` of a conversion) is ordered by time: the date range
    becomes a range on that index, and the exact day bounds are then checked on created_at.
    """

    title = "date created"
    parameters = {"created_from": "From (YYYY-MM-DD)", "created_to": "To (YYYY-MM-DD)"}
    uuid_field = "pk"

    def clean_value(self, name: str, raw: str) -> date:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a date like 2025-01-31.") from None

    def shortcuts_for(self, today: date) -> list[tuple[str, dict[str, str]]]:
        def since(days: int) -> dict[str, str]:
            return {
                "created_from": (today - timedelta(days=days - 1)).isoformat(),
                "created_to": today.isoformat(),
            }

        return [("Today", since(1)), ("Last 7 days", since(7)), ("Last 30 days", since(30))]

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if "created_from" in self.cleaned:
            start = _day_start(self.cleaned["created_from"])
            queryset = queryset.filter(
                **{f"{self.uuid_field}__gte": _uuid_floor(start - _UUID_MARGIN)},
                created_at__gte=start,
            )
        if "created_to" in self.cleaned:
            end = _day_start(self.cleaned["created_to"] + timedelta(days=1))
            queryset = queryset.filter(
                **{f"{self.uuid_field}__lt": _uuid_floor(end + _UUID_MARGIN)},
                created_at__lt=end,
            )
        return queryset


class RevokedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() in ("active", "revoked"):
            return queryset.filter(revoked_at__isnull=self.value() == "active")
        return queryset


class IssueTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, required=False, help_text="What the token is for, e.g. 'checkout'."
    )


class TokenAdmin(SimpleHistoryAdmin):
    """API tokens: issued through the owner's service, the secret shown once, then revoked.

    Subclasses set `owner_field` and, as static methods, `issue` (the owner's service that
    returns (token, secret)) and `revoke`. Issuing needs the `add` permission, revoking the
    `change` permission.
    """

    owner_field = ""
    issue: Callable[..., tuple[Model, str]]
    revoke: Callable[[Model], None]

    list_display = ["prefix", "owner", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_tokens"]
    ordering = ["-created_at"]

    def get_list_filter(self, request):
        return [RevokedFilter, self.owner_field]

    def get_list_select_related(self, request):
        return [self.owner_field]

    def get_fields(self, request, obj=None):
        return ["prefix", self.owner_field, "name", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, self.owner_field]

    @admin.display(description="owner")
    def owner(self, token) -> str:
        return str(getattr(token, self.owner_field))

    def has_delete_permission(self, request, obj=None) -> bool:
        # Revoked tokens stay listed: they say who could call the API until when.
        return False

    @admin.action(permissions=["change"], description="Revoke the selected tokens")
    def revoke_tokens(self, request, queryset) -> None:
        active = list(queryset.filter(revoked_at__isnull=True))
        for token in active:
            self.revoke(token, actor=operator_actor(request.user))
        self.message_user(
            request,
            f"Revoked {len(active)} token(s); {queryset.count() - len(active)} already revoked.",
            messages.SUCCESS,
        )

    def owner_form_field(self) -> forms.ModelChoiceField:
        owner = self.model._meta.get_field(self.owner_field)
        return forms.ModelChoiceField(queryset=owner.related_model.objects.all())

    def add_view(self, request, form_url="", extra_context=None) -> HttpResponse:
        """Issue a token and show its secret in this one response, never stored or shown again."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = IssueTokenForm(request.POST or None, initial=request.GET.dict())
        form.fields[self.owner_field] = self.owner_form_field()
        form.order_fields([self.owner_field, "name"])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Issue a {self.opts.verbose_name}",
            "form": form,
        }
        if request.method == "POST" and form.is_valid():
            owner = form.cleaned_data[self.owner_field]
            token, secret = self.issue(owner, name=form.cleaned_data["name"])
            self.log_addition(request, token, [{"added": {}}])
            context.update(
                title=f"{self.opts.verbose_name.capitalize()} issued", token=token, owner=owner
            )
            # admin_view() marks every admin response never_cache (no-store): the page
            # holding the secret is not kept by the browser either.
            return TemplateResponse(
                request, "admin/token_issued.html", {**context, "secret": secret}
            )
        return TemplateResponse(request, "admin/token_issue.html", context)


class TokenInline(admin.TabularInline):
    """An owner's tokens on its page, read-only: they are issued and revoked on their own."""

    extra = 0
    can_delete = False
    fields = ["prefix", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def token_issue_link(owner: Model, token_model: type[Model], owner_field: str) -> str:
    """A link to the page that issues `owner` a new token (once the owner is saved)."""
    noun = owner._meta.verbose_name
    if not owner.pk:
        return f"Save the {noun} first."
    meta = token_model._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_add") + f"?{owner_field}={owner.pk}"
    return format_html('<a href="{}">Issue a {} API token</a>', url, noun)
