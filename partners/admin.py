"""Back office for partners: their admissions and partner API tokens."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from partners.models import Admission, Partner, PartnerToken
from partners.services import issue_partner_token, revoke_partner_token
from retrack.admin_tools import TokenAdmin, TokenInline, token_issue_link


class PartnerAdmissionInline(admin.TabularInline):
    """The programs the partner may promote; admitting happens on the program's page."""

    model = Admission
    extra = 0
    can_delete = False
    fields = ["program", "created_at"]
    readonly_fields = fields
    verbose_name = "admitted program"
    verbose_name_plural = "admitted programs"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("program")


class PartnerTokenInline(TokenInline):
    model = PartnerToken


@admin.register(Partner)
class PartnerAdmin(SimpleHistoryAdmin):
    list_display = ["name", "uuid", "created_at"]
    search_fields = ["name", "=uuid"]
    readonly_fields = ["uuid", "created_at", "issue_token_link"]
    inlines = [PartnerAdmissionInline, PartnerTokenInline]

    @admin.display(description="API tokens")
    def issue_token_link(self, partner) -> str:
        return token_issue_link(partner, PartnerToken, "partner")

    def has_delete_permission(self, request, obj=None) -> bool:
        # Clicks and conversions keep their partner for good.
        return False


@admin.register(Admission)
class AdmissionAdmin(SimpleHistoryAdmin):
    list_display = ["partner", "program", "created_at"]
    list_filter = ["partner", "program"]
    list_select_related = ["partner", "program"]
    readonly_fields = ["created_at"]


@admin.register(PartnerToken)
class PartnerTokenAdmin(TokenAdmin):
    owner_field = "partner"
    issue = staticmethod(issue_partner_token)
    revoke = staticmethod(revoke_partner_token)
