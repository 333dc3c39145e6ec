"""List filters whose values are typed into a small form (a country code, a date range), and
the real-or-test filter."""

import re
from abc import ABC, abstractmethod
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from retrack.lib.uuids import created_between


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


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class CreatedDateFilter(InputListFilter):
    """Filter by creation day (UTC, both days included), served by the UUIDv7 index.

    `created_at` has no index of its own on the big tables, but their UUIDv7 (the primary
    key of a click, the unique `uuid` of a conversion) is ordered by time: see
    `retrack.lib.uuids.created_between`.
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
        first_day = self.cleaned.get("created_from")
        last_day = self.cleaned.get("created_to")
        return queryset.filter(
            created_between(
                since=_day_start(first_day) if first_day else None,
                until=_day_start(last_day + timedelta(days=1)) if last_day else None,
                uuid_field=self.uuid_field,
            )
        )


class RealOrTestFilter(admin.SimpleListFilter):
    """Real records only unless asked: test clicks' conversions (contract section 8) are
    shown, and exported, only with "Test: yes" or "Test: all".

    The default (no parameter) is "no"; an unknown value is refused, not ignored, so that
    an export never holds other rows than its link says.
    """

    title = "test"
    parameter_name = "test"
    DEFAULT = "no"

    def lookups(self, request, model_admin):
        return [
            ("no", "No: real orders"),
            ("yes", "Yes: test orders"),
            ("all", "All"),
        ]

    def choices(self, changelist):
        chosen = self.value() or self.DEFAULT
        for value, label in self.lookup_choices:
            yield {
                "selected": chosen == value,
                "query_string": (
                    changelist.get_query_string(remove=[self.parameter_name])
                    if value == self.DEFAULT
                    else changelist.get_query_string({self.parameter_name: value})
                ),
                "display": label,
            }

    def queryset(self, request, queryset):
        chosen = self.value() or self.DEFAULT
        if chosen == "all":
            return queryset
        if chosen not in ("yes", "no"):
            raise IncorrectLookupParameters(f"test must be yes, no or all, not {chosen!r}")
        return queryset.filter(test=chosen == "yes")
