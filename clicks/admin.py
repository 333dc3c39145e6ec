"""Clicks in the back office: read-only, and fast on a table of hundreds of millions of rows.

Every way in is index-backed: search is an exact match on the primary key or a prefix of `ref`,
the date filter is a range on the UUIDv7 primary key, program and partner filters (with
their ordering) use the (program|partner, created_at) indexes, and the row count stops
at a cap instead of counting the table.
"""

from django.contrib import admin
from django.contrib.admin.options import ShowFacets
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html_join

from clicks.models import Click
from conversions.models import Conversion
from retrack.admin.filters import CountryFilter, CreatedDateFilter
from retrack.admin.pages import CappedCountPaginator, fieldset_fields, newest_first_ordering
from retrack.lib.uuids import parse_uuid


@admin.register(Click)
class ClickAdmin(admin.ModelAdmin):
    list_display = ["uuid", "created_at", "partner", "program", "ref", "country", "is_bot"]
    list_filter = ["program", "partner", CreatedDateFilter, CountryFilter, "is_bot"]
    list_select_related = ["partner", "program"]
    # Shows the search box; the exact, index-backed search is get_search_results.
    search_fields = ["uuid", "ref"]
    search_help_text = "A click UUID, or a ref (the partner's own reference) or its beginning."
    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = ShowFacets.NEVER
    sortable_by: list[str] = []
    fieldsets = [
        (None, {"fields": ["uuid", "created_at", "partner", "program", "is_bot"]}),
        ("Partner's references", {"fields": ["ref", "ref2", "ref3"]}),
        (
            "Visit",
            {
                "fields": [
                    "deeplink",
                    "ip_address",
                    "browser",
                    "referer",
                    "country",
                    "is_anonymized",
                ]
            },
        ),
        ("Conversions", {"fields": ["conversions_of_click"]}),
    ]
    # A click is a record of what happened: everything shown is read-only.
    readonly_fields = fieldset_fields(fieldsets)

    def get_ordering(self, request):
        return newest_first_ordering(request)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        # A prefix of the ref, case as sent: LIKE 'term%' on the click_ref index.
        matches = Q(ref__startswith=term)
        if (click_uuid := parse_uuid(term)) is not None:
            matches |= Q(pk=click_uuid)
        return queryset.filter(matches), False

    @admin.display(description="conversions")
    def conversions_of_click(self, click: Click) -> str:
        conversions = Conversion.objects.filter(click=click).order_by("pk")
        if not conversions:
            return "None: nothing was reported for this click."
        return format_html_join(
            "",
            '<div><a href="{}">{}</a> · {} · {}</div>',
            (
                (
                    reverse("admin:conversions_conversion_change", args=[conversion.pk]),
                    str(conversion),
                    conversion.get_status_display(),
                    conversion.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                )
                for conversion in conversions
            ),
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
