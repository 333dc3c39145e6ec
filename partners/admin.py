"""Back office for partners: admissions, partner API tokens, webhook endpoints and deliveries."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from partners.models import Admission, Partner, PartnerToken, WebhookDelivery, WebhookEndpoint
from partners.services import issue_partner_token, revoke_partner_token
from partners.webhooks.services import (
    redeliver_webhook_deliveries,
    register_webhook_endpoint,
    webhook_endpoint_problems,
)
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
class PartnerAdmin(admin.ModelAdmin):
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
class AdmissionAdmin(admin.ModelAdmin):
    list_display = ["partner", "program", "created_at"]
    list_filter = ["partner", "program"]
    list_select_related = ["partner", "program"]
    readonly_fields = ["created_at"]


@admin.register(PartnerToken)
class PartnerTokenAdmin(TokenAdmin):
    owner_field = "partner"
    issue = staticmethod(issue_partner_token)
    revoke = staticmethod(revoke_partner_token)


class WebhookEndpointForm(forms.ModelForm):
    """Checks a new endpoint as the partner API does (https, public addresses)."""

    class Meta:
        model = WebhookEndpoint
        fields = ["partner", "url", "description", "active"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            problems = webhook_endpoint_problems(
                cleaned.get("url") or "", cleaned.get("description") or ""
            )
            for field, messages in problems.items():
                self.add_error(field, messages)
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "partner", "active", "failing_since", "created_at"]
    list_filter = ["active", "partner"]
    list_select_related = ["partner"]
    search_fields = ["url", "=uuid"]
    readonly_fields = [
        "uuid",
        "secret_hint",
        "created_at",
        "failing_since",
        "deactivated_at",
        "deliveries_link",
    ]

    def get_readonly_fields(self, request, obj=None):
        # The URL was checked when registered; a new URL is a new endpoint.
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "partner", "url"] if obj is not None else fields

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["partner", "url", "description"]
        return ["partner", "url", "description", "active", *self.readonly_fields]

    @admin.display(description="Signing secret")
    def secret_hint(self, endpoint) -> str:
        return endpoint.secret_hint

    @admin.display(description="Deliveries")
    def deliveries_link(self, endpoint) -> str:
        url = reverse("admin:partners_webhookdelivery_changelist")
        return format_html(
            '<a href="{}?endpoint__id__exact={}">Its deliveries</a>', url, endpoint.pk
        )

    def save_model(self, request, obj, form, change) -> None:
        if change:
            if "active" in form.changed_data and obj.active:
                # Reactivated by an operator: its failures start counting afresh.
                obj.failing_since = None
                obj.deactivated_at = None
            super().save_model(request, obj, form, change)
            return
        endpoint, secret = register_webhook_endpoint(
            obj.partner, url=obj.url, description=obj.description
        )
        obj.pk, obj.uuid, obj.secret = endpoint.pk, endpoint.uuid, endpoint.secret
        obj._state.adding = False
        self.message_user(
            request,
            f"The endpoint's signing secret, shown this once: {secret}",
            messages.WARNING,
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "event_type",
        "event_id",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_attempt_at",
        "next_attempt_at",
    ]
    list_filter = ["status", "event_type", "endpoint__partner"]
    list_select_related = ["endpoint"]
    search_fields = ["=event_id"]
    actions = ["redeliver"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in WebhookDelivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Redeliver the selected deliveries", permissions=["change"])
    def redeliver(self, request, queryset) -> None:
        queued, skipped = redeliver_webhook_deliveries(queryset)
        message = f"Queued {queued} deliver{'ies' if queued != 1 else 'y'} to send again."
        if skipped:
            message += f" {skipped} of an inactive endpoint left alone: reactivate it first."
        self.message_user(request, message, messages.SUCCESS)
