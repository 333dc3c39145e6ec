"""Back office for partners: admissions, partner API tokens, webhook endpoints and deliveries."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from partners.models import Admission, Partner, PartnerToken, WebhookDelivery, WebhookEndpoint
from partners.services import issue_partner_token, revoke_partner_token
from partners.webhooks.declarations import DESCRIPTION_MAX_LENGTH
from partners.webhooks.services import (
    WebhookRefused,
    redeliver_webhook_deliveries,
    register_webhook_endpoint,
)
from retrack.admin.tokens import TokenAdmin, TokenInline, token_issue_link
from retrack.lib.public_addresses import URL_MAX_LENGTH
from retrack.lib.validation import validate_text


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
    search_fields = ["^name", "=uuid"]
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


_ENDPOINT_DETAILS = [
    "uuid",
    "secret_hint",
    "created_at",
    "failing_since",
    "deactivated_at",
    "deliveries_link",
]


class RegisterWebhookForm(forms.Form):
    partner = forms.ModelChoiceField(queryset=Partner.objects.all())
    url = forms.CharField(max_length=URL_MAX_LENGTH, help_text="https on a public address.")
    description = forms.CharField(
        max_length=DESCRIPTION_MAX_LENGTH, required=False, validators=[validate_text]
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Endpoints are registered through the partners' service, the secret shown once."""

    list_display = ["url", "partner", "active", "failing_since", "created_at"]
    list_filter = ["active", "partner"]
    list_select_related = ["partner"]
    search_fields = ["url", "=uuid"]
    fields = ["partner", "url", "description", "active", *_ENDPOINT_DETAILS]
    # The URL was checked when registered: a new URL is a new endpoint (and a new secret).
    readonly_fields = ["partner", "url", *_ENDPOINT_DETAILS]

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
        if "active" in form.changed_data and obj.active:
            # Reactivated by an operator: its failures start counting afresh.
            obj.failing_since = None
            obj.deactivated_at = None
        super().save_model(request, obj, form, change)

    def add_view(self, request, form_url="", extra_context=None) -> HttpResponse:
        """Register an endpoint and show its signing secret in this one response."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = RegisterWebhookForm(request.POST or None, initial=request.GET.dict())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Register a webhook endpoint",
            "form": form,
        }
        if request.method == "POST" and form.is_valid():
            try:
                endpoint, secret = register_webhook_endpoint(
                    form.cleaned_data["partner"],
                    url=form.cleaned_data["url"],
                    description=form.cleaned_data["description"],
                )
            except WebhookRefused as refusal:
                for field, problems in refusal.fields.items():
                    form.add_error(field, problems)
            else:
                self.log_addition(request, endpoint, [{"added": {}}])
                context.update(title="Webhook endpoint registered", endpoint=endpoint)
                # Admin responses are never_cache (no-store): the secret is not kept.
                return TemplateResponse(
                    request, "admin/partners/webhook_registered.html", {**context, "secret": secret}
                )
        return TemplateResponse(request, "admin/partners/webhook_register.html", context)


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
