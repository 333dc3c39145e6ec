"""Back office for stores: onboarding a program on one page, and store API tokens."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from clicks.selectors import tracking_link
from clicks.services import make_test_click
from conversions.models import ReportSource
from conversions.selectors import program_reports
from conversions.tag.snippets import program_snippets
from partners.models import Admission
from retrack.admin.tokens import TokenAdmin, TokenInline, token_issue_link
from stores.forms import EventForm, ProgramForm
from stores.models import PROGRAM_TRUST_FIELDS, Event, Program, Store, StoreToken
from stores.services import issue_store_token, revoke_store_token

# Longer snippets scroll inside their box rather than stretching the page.
SNIPPET_ROWS = 14
SNIPPET_TITLES = {
    "loader_transaction": "Confirmation page: the tag reporting a purchase",
    "lead": "Sign-up confirmation: the tag reporting a lead",
    "noscript_pixel": "Without JavaScript: the image pixel",
    "redirect_page": "The store's redirect page",
}


class ProgramInline(admin.TabularInline):
    """The store's programs, each opened on its own page."""

    model = Program
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["name", "currency", "status", "uuid"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class StoreTokenInline(TokenInline):
    model = StoreToken


@admin.register(Store)
class StoreAdmin(SimpleHistoryAdmin):
    list_display = ["name", "uuid", "created_at"]
    search_fields = ["^name", "=uuid"]
    readonly_fields = ["uuid", "created_at", "issue_token_link", "add_program_link"]
    inlines = [ProgramInline, StoreTokenInline]

    @admin.display(description="programs")
    def add_program_link(self, store) -> str:
        if store.pk is None:
            return "Save the store first, then add its programs."
        url = reverse("admin:stores_program_add")
        return format_html('<a href="{}?store={}" class="addlink">Add a program</a>', url, store.pk)

    @admin.display(description="API tokens")
    def issue_token_link(self, store) -> str:
        return token_issue_link(store, StoreToken, "store")

    def has_delete_permission(self, request, obj=None) -> bool:
        # Clicks and conversions keep their store for good; close its programs instead.
        return False


class EventInline(admin.TabularInline):
    model = Event
    form = EventForm
    extra = 1
    fields = ["name", "kind", "percent", "fixed_amount", "event_uuid"]
    readonly_fields = ["event_uuid"]

    @admin.display(description="UUID (the store reports with it)")
    def event_uuid(self, event: Event) -> str:
        # An empty extra row has a default UUID that is not the one it will be saved with.
        return str(event.uuid) if event.pk else "—"


class AdmissionInline(admin.TabularInline):
    model = Admission
    extra = 1
    fields = ["partner", "admitted_at"]
    readonly_fields = ["admitted_at"]
    verbose_name = "admitted partner"
    verbose_name_plural = "admitted partners"

    @admin.display(description="admitted at")
    def admitted_at(self, admission: Admission) -> str:
        if not admission.pk:
            return "—"
        return formats.localize(timezone.template_localtime(admission.created_at))


@admin.register(Program)
class ProgramAdmin(SimpleHistoryAdmin):
    """One page to onboard a program: settings, events, admitted partners, links, snippets."""

    form = ProgramForm
    change_form_template = "admin/stores/program/change_form.html"
    list_display = ["name", "store", "currency", "status", "attribution_days", "validation_days"]
    list_filter = ["status", "currency", "store"]
    list_select_related = ["store"]
    search_fields = ["^name", "=uuid", "^store__name"]
    readonly_fields = ["uuid", "created_at"]
    inlines = [EventInline, AdmissionInline]
    fieldsets = [
        (None, {"fields": ["store", "name", "status", "currency"]}),
        (
            "Where clicks go",
            {"fields": ["landing_url", "allowed_domains", "redirect_page_url"]},
        ),
        ("Periods (days)", {"fields": ["attribution_days", "validation_days", "claim_days"]}),
        (
            "Trust and fraud",
            {
                "description": "A browser report over a limit is stored but held for review; "
                "a store API report over one is refused (422 limit_exceeded). Amounts in "
                "minor units.",
                "fields": PROGRAM_TRUST_FIELDS,
            },
        ),
        ("Identity", {"fields": ["uuid", "created_at"]}),
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        # A program with clicks cannot be deleted; pausing or closing it is the way out.
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        program = self.get_object(request, object_id)
        if program is not None:
            extra_context = {**(extra_context or {}), **self.integration_context(program)}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        test_click = path(
            "<path:object_id>/test-click/",
            self.admin_site.admin_view(self.test_click_view),
            name="stores_program_test_click",
        )
        return [test_click, *super().get_urls()]

    def test_click_view(self, request, object_id):
        """ "Test this integration": a test click, and the URL to open, shown on the page."""
        program = self.get_object(request, object_id)
        if request.method != "POST" or program is None:
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request, program):
            raise PermissionDenied
        click = make_test_click(program)
        messages.success(request, f"Test click {click.click_uuid}: open {click.location}")
        return redirect("admin:stores_program_change", program.pk)

    def integration_context(self, program: Program) -> dict:
        admissions = program.admissions.select_related("partner").order_by("partner__name")
        snippets = [
            (SNIPPET_TITLES.get(key, key), text, min(text.count("\n") + 2, SNIPPET_ROWS))
            for key, text in program_snippets(program).items()
            # A program without a redirect page sends clicks straight to the store's pages.
            if key != "redirect_page" or program.uses_redirect_page
        ]
        reports = program_reports(program, now=timezone.now())
        return {
            "tracking_links": [
                (admission.partner, tracking_link(admission.partner, program))
                for admission in admissions
            ],
            "snippets": snippets,
            "reports": reports,
            "last_report_received": [
                (label, reports.last_received.get(source)) for source, label in ReportSource.choices
            ],
        }


@admin.register(Event)
class EventAdmin(SimpleHistoryAdmin):
    form = EventForm
    list_display = ["name", "program", "kind", "percent", "fixed_amount", "uuid"]
    list_filter = ["kind", "program"]
    list_select_related = ["program"]
    search_fields = ["^name", "=uuid"]
    readonly_fields = ["uuid"]
    fields = ["program", "name", "kind", "percent", "fixed_amount", "uuid"]


@admin.register(StoreToken)
class StoreTokenAdmin(TokenAdmin):
    owner_field = "store"
    issue = staticmethod(issue_store_token)
    revoke = staticmethod(revoke_store_token)
