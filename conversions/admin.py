"""Conversions in the back office: inspect, approve or reject, export, and the overview."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters, ShowFacets
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from clicks.models import Click
from conversions.admin_display import auto_approval_text, breakdown_rows, change_value
from conversions.admin_review import (
    ConversionFlagInline,
    clear_conversion_flags,
    has_open_flags,
    needing_review,
    open_flag_codes,
    with_open_flags,
)
from conversions.exports import csv_download
from conversions.forms import RejectForm, ReportForm
from conversions.models import Conversion, ConversionChange, ConversionForReview, ProductLine
from conversions.reports import daily_charts, program_daily_report
from conversions.services import ConversionRefused, approve_conversion, reject_conversion
from retrack.admin.filters import CreatedDateFilter, RealOrTestFilter
from retrack.admin.pages import CappedCountPaginator, fieldset_fields, newest_first_ordering
from retrack.lib.money import format_money
from retrack.lib.uuids import parse_uuid
from stores.models import EventKind, Program

# Each decision is its own short transaction; a bigger selection is narrowed first.
MAX_DECISIONS_AT_ONCE = 1000
# A ref shared by more clicks than this is not a question about one shopper.
MAX_CLICKS_PER_REF_SEARCH = 10_000


class ConversionDateFilter(CreatedDateFilter):
    uuid_field = "uuid"


class ProductLineInline(admin.TabularInline):
    model = ProductLine
    extra = 0
    can_delete = False
    fields = ["line", "event", "reference", "name", "quantity", "unit_price", "unit_vat"]
    fields += ["line_commission"]
    readonly_fields = fields
    verbose_name = "product line"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("event", "conversion")

    @admin.display(description="line")
    def line(self, line: ProductLine) -> int:
        return line.position + 1

    @admin.display(description="price (incl. VAT)")
    def unit_price(self, line: ProductLine) -> str:
        return format_money(line.price, line.conversion.currency)

    @admin.display(description="VAT")
    def unit_vat(self, line: ProductLine) -> str:
        return format_money(line.vat, line.conversion.currency)

    @admin.display(description="commission")
    def line_commission(self, line: ProductLine) -> str:
        return format_money(line.commission, line.conversion.currency)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ConversionChangeInline(admin.TabularInline):
    """The conversion's full history: who changed what, when and why."""

    model = ConversionChange
    extra = 0
    can_delete = False
    fields = ["sequence", "created_at", "action", "actor", "reason", "what_changed"]
    readonly_fields = fields
    verbose_name = "change"
    verbose_name_plural = "history"

    @admin.display(description="changes")
    def what_changed(self, change: ConversionChange):
        if not change.changes:
            return "—"
        rows = []
        for name, values in change.changes.items():
            if isinstance(values, list) and len(values) == 2:
                rows.append((name, f"{change_value(values[0])} → {change_value(values[1])}"))
            else:
                rows.append((name, change_value(values)))
        return format_html_join("", "<div><code>{}</code>: {}</div>", rows)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversion)
class ConversionAdmin(admin.ModelAdmin):
    change_list_template = "admin/conversions/conversion/change_list.html"
    change_form_template = "admin/conversions/conversion/change_form.html"
    # Two facts a cell where they belong together, the source left to its filter: the list
    # fits a 1366 px screen beside the navigation and the filters.
    list_display = [
        "key_and_kind",
        "status",
        "program_and_partner",
        "order_sum_display",
        "commission_display",
        open_flag_codes,
        "age",
        "click_ref",
    ]
    list_filter = ["status", "kind", "program", "partner", "source", ConversionDateFilter]
    list_filter += [RealOrTestFilter]
    list_select_related = ["program", "partner", "click"]
    # Shows the search box; the exact, index-backed search is get_search_results.
    search_fields = ["order_number", "reference", "uuid", "click__ref"]
    search_help_text = (
        "An order number, lead reference or click ref, or its beginning (case as stored); "
        "a conversion UUID or click UUID."
    )
    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = ShowFacets.NEVER
    sortable_by: list[str] = []
    actions = ["approve_conversions", "reject_conversions", clear_conversion_flags, "export_csv"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "uuid",
                    "kind",
                    "status",
                    "auto_approval",
                    "status_reason",
                    "program",
                    "partner",
                    "event",
                    "order_number",
                    "reference",
                    "source",
                    "confirmed",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
        (
            "Money",
            {
                "fields": [
                    "order_sum_display",
                    "vat_sum_display",
                    "commission_display",
                    "vouchers",
                    "commission_breakdown_table",
                ]
            },
        ),
        (
            "Click",
            {
                "fields": [
                    "click_link",
                    "click_ref",
                    "click_created_at",
                    "click_country",
                    "click_is_bot",
                ]
            },
        ),
    ]
    # Everything shown is read-only: changes go through the approve and reject actions.
    readonly_fields = fieldset_fields(fieldsets)
    inlines = [ConversionFlagInline, ProductLineInline, ConversionChangeInline]

    def get_queryset(self, request):
        queryset = (
            super().get_queryset(request).select_related("program", "partner", "click", "event")
        )
        if request.resolver_match and request.resolver_match.url_name.endswith("_changelist"):
            # The list's flag column; a conversion's page shows its flags in an inline.
            queryset = with_open_flags(queryset)
        return queryset

    def get_ordering(self, request):
        return newest_first_ordering(request)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        # Order numbers and references are indexed only together with the program (partial
        # unique indexes per kind), so the search names every program and the kind.
        program_ids = list(Program.objects.values_list("pk", flat=True))
        # A prefix (case as stored): LIKE 'term%', which those indexes' pattern operator
        # class serves on PostgreSQL (see the models).
        matches = Q(
            kind=EventKind.TRANSACTION, program_id__in=program_ids, order_number__startswith=term
        )
        matches |= Q(kind=EventKind.LEAD, program_id__in=program_ids, reference__startswith=term)
        # A list of click UUIDs (not a subquery) lets the OR use the index on click_id.
        click_ids = list(
            Click.objects.filter(ref__startswith=term).values_list("pk", flat=True)[
                : MAX_CLICKS_PER_REF_SEARCH + 1
            ]
        )
        if len(click_ids) > MAX_CLICKS_PER_REF_SEARCH:
            messages.warning(
                request,
                f"More than {MAX_CLICKS_PER_REF_SEARCH} clicks have a ref starting so; only the "
                f"conversions of {MAX_CLICKS_PER_REF_SEARCH} of them are searched.",
            )
            click_ids = click_ids[:MAX_CLICKS_PER_REF_SEARCH]
        if click_ids:
            matches |= Q(click_id__in=click_ids)
        if (searched_uuid := parse_uuid(term)) is not None:
            matches |= Q(uuid=searched_uuid) | Q(click_id=searched_uuid)
        return queryset.filter(matches), False

    @admin.display(description="order number / reference")
    def key(self, conversion: Conversion) -> str:
        if conversion.kind == EventKind.TRANSACTION:
            return conversion.order_number
        return conversion.reference

    @admin.display(description="order / reference")
    def key_and_kind(self, conversion: Conversion) -> str:
        return format_html(
            '{}<div class="list-note">{}</div>', self.key(conversion), conversion.get_kind_display()
        )

    @admin.display(description="program / partner")
    def program_and_partner(self, conversion: Conversion) -> str:
        return format_html(
            '{}<div class="list-note">{}</div>', conversion.program.name, conversion.partner.name
        )

    @admin.display(description="order sum")
    def order_sum_display(self, conversion: Conversion) -> str:
        return format_money(conversion.order_sum, conversion.currency)

    @admin.display(description="VAT")
    def vat_sum_display(self, conversion: Conversion) -> str:
        return format_money(conversion.vat_sum, conversion.currency)

    @admin.display(description="commission")
    def commission_display(self, conversion: Conversion) -> str:
        return format_money(conversion.commission, conversion.currency)

    @admin.display(description="age")
    def age(self, conversion: Conversion) -> str:
        return timesince(conversion.created_at, depth=1)

    @admin.display(description="click ref")
    def click_ref(self, conversion: Conversion) -> str:
        return conversion.click.ref

    @admin.display(description="click")
    def click_link(self, conversion: Conversion) -> str:
        url = reverse("admin:clicks_click_change", args=[conversion.click_id])
        return format_html('<a href="{}">{}</a>', url, conversion.click_id)

    @admin.display(description="clicked at")
    def click_created_at(self, conversion: Conversion) -> str:
        return formats.localize(timezone.template_localtime(conversion.click.created_at))

    @admin.display(description="flagged as a bot", boolean=True)
    def click_is_bot(self, conversion: Conversion) -> bool:
        return conversion.click.is_bot

    @admin.display(description="auto-approval")
    def auto_approval(self, conversion: Conversion) -> str:
        return auto_approval_text(conversion)

    @admin.display(description="country")
    def click_country(self, conversion: Conversion) -> str:
        return conversion.click.country or "—"

    @admin.display(description="how the commission was computed")
    def commission_breakdown_table(self, conversion: Conversion) -> str:
        rows = breakdown_rows(conversion.commission_breakdown or [], conversion.currency)
        if not rows:
            return "—"
        return format_html(
            '<table class="commission-breakdown"><thead><tr><th>Line</th><th>Event</th>'
            "<th>Method</th><th>Base</th><th>Rate</th><th>Commission</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            format_html_join("", "<tr>{}</tr>", ((row,) for row in rows)),
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Nothing on the page is edited in place: status changes go through the actions.
        decisions = [("approve_conversions", "Approve…"), ("reject_conversions", "Reject…")]
        if has_open_flags(object_id):
            decisions = [("clear_conversion_flags", "Clear flags…"), decisions[1]]
        extra_context = {
            **(extra_context or {}),
            "decision_actions": decisions,
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Here the conversion is at hand with its click (get_queryset): no second query.
        if obj is not None and obj.click.is_bot:
            messages.warning(
                request,
                "This conversion's click was flagged as a bot (a crawler or link preview, by "
                "its user agent). Check the order with the store before approving it.",
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [
            path(
                "overview/",
                self.admin_site.admin_view(self.overview_view),
                name="conversions_conversion_overview",
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="conversions_conversion_export",
            ),
            *super().get_urls(),
        ]

    @admin.action(permissions=["change"], description="Approve the selected pending conversions…")
    def approve_conversions(self, request, queryset):
        """Confirm on an intermediate page (approval is final), then approve."""
        if self._refuse_too_many(request, queryset):
            return None
        if "apply" in request.POST:
            self._decide_each(request, queryset, approve_conversion, "Approved")
            return self._back_to(request, queryset)
        return self._confirmation_page(request, queryset, "approve_conversions", form=None)

    @admin.action(permissions=["change"], description="Reject the selected pending conversions…")
    def reject_conversions(self, request, queryset):
        """Ask for the reason on an intermediate page, then reject with it."""
        if self._refuse_too_many(request, queryset):
            return None
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._decide_each(request, queryset, reject_conversion, "Rejected", reason=reason)
            return self._back_to(request, queryset)
        return self._confirmation_page(request, queryset, "reject_conversions", form=form)

    def _confirmation_page(self, request, queryset, action: str, form) -> TemplateResponse:
        """The decision's intermediate page: what is selected, bot-flagged clicks first."""
        verb = "Approve" if action == "approve_conversions" else "Reject"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{verb} conversions",
            "verb": verb,
            "action": action,
            "form": form,
            "conversions": queryset.select_related("program", "partner", "click")[:20],
            "count": queryset.count(),
            "from_bots": queryset.filter(click__is_bot=True).count(),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "return_to": request.POST.get("_return_to", ""),
        }
        return TemplateResponse(request, "admin/conversions/conversion/decide.html", context)

    def _refuse_too_many(self, request, queryset) -> bool:
        if queryset[: MAX_DECISIONS_AT_ONCE + 1].count() <= MAX_DECISIONS_AT_ONCE:
            return False
        self.message_user(
            request,
            f"Select at most {MAX_DECISIONS_AT_ONCE} conversions at once (narrow the list with "
            "a filter). Nothing was changed.",
            messages.ERROR,
        )
        return True

    def _decide_each(self, request, queryset, decide, done: str, **arguments) -> None:
        """Apply an approve/reject service to each conversion and tell the operator the tally."""
        actor = f"operator:{request.user.get_username()}"
        changed = not_pending = flagged = 0
        for conversion in queryset.order_by("pk"):
            try:
                decide(conversion, actor=actor, **arguments)
            except ConversionRefused as refused:
                if refused.code == "conversion_flagged":
                    flagged += 1
                elif refused.code == "conversion_not_pending":
                    not_pending += 1
                else:
                    raise
            else:
                changed += 1
        text = f"{done} {changed} conversion(s)."
        if not_pending:
            text += f" {not_pending} not pending (already approved or rejected): left as they were."
        if flagged:
            text += f" {flagged} held by flags: clear their flags first, or reject them."
        warn = not_pending or flagged
        self.message_user(request, text, messages.WARNING if warn else messages.SUCCESS)

    def _back_to(self, request, queryset):
        """Back to the conversion's page when the decision was made there, else to the list."""
        if request.POST.get("_return_to") == "change" and len(selected := list(queryset)) == 1:
            url = reverse("admin:conversions_conversion_change", args=[selected[0].pk])
            return HttpResponseRedirect(url)
        return None

    @admin.action(permissions=["view"], description="Export the selected conversions as CSV")
    def export_csv(self, request, queryset):
        return csv_download(request, queryset, {"selected": queryset.count()})

    def export_view(self, request):
        """The changelist's current filters and search, exported as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            messages.error(request, "The list's filters are not valid; nothing was exported.")
            return HttpResponseRedirect(reverse("admin:conversions_conversion_changelist"))
        return csv_download(request, changelist.queryset, {"query": request.GET.urlencode()})

    def overview_view(self, request):
        """Clicks and conversions per program and per day, with a chart."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ReportForm.for_query(request.GET, today=timezone.now().date())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Overview",
            "form": form,
        }
        if form.is_valid():
            chosen = form.cleaned_data["program"]
            programs = (
                [chosen]
                if chosen
                else list(Program.objects.select_related("store").order_by("store__name", "name"))
            )
            report = program_daily_report(
                programs, form.cleaned_data["start"], form.cleaned_data["end"]
            )
            context.update(report=report, charts=daily_charts(report.daily))
        return TemplateResponse(request, "admin/conversions/overview.html", context)


@admin.register(ConversionForReview)
class ConversionForReviewAdmin(ConversionAdmin):
    """Needs review: pending conversions held by an open flag, oldest first."""

    change_list_template = "admin/change_list.html"
    list_filter = ["program", "partner", "source", "kind", RealOrTestFilter]
    actions = [clear_conversion_flags, "reject_conversions"]

    def get_queryset(self, request):
        return needing_review(super().get_queryset(request))

    def get_ordering(self, request):
        return ["created_at", "pk"]


# Claims have their own back-office pages, registered with the rest of the app.
from conversions.claims import admin as claims_admin  # noqa: E402, F401
