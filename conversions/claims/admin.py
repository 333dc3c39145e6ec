"""Claims in the back office: open ones oldest first, decided on the store's behalf.

Deciding goes through the same services as the store API (`accept_claim`,
`decline_claim`), with the operator as the actor in the claim's and conversion's history.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.timesince import timesince

from conversions.claims.models import Claim, ClaimChange, ClaimStatus
from conversions.claims.services import accept_claim, decline_claim
from conversions.payloads import REASON_MAX_LENGTH
from conversions.refusals import ConversionRefused
from retrack.admin.pages import fieldset_fields
from retrack.lib.money import format_money
from stores.models import Event, EventKind

ALL = "all"


class ClaimStatusFilter(admin.SimpleListFilter):
    """Open claims unless asked otherwise: those are what an operator works through."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*ClaimStatus.choices, (ALL, "All")]

    def value(self):
        return super().value() or ClaimStatus.OPEN

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == ALL:
            return queryset
        return queryset.filter(status=self.value())


class ClaimChangeInline(admin.TabularInline):
    """The claim's history: who filed and who decided, when and why."""

    model = ClaimChange
    extra = 0
    can_delete = False
    fields = ["created_at", "action", "actor", "reason", "changes"]
    readonly_fields = fields
    verbose_name = "change"
    verbose_name_plural = "history"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class DecisionForm(forms.Form):
    """Accept (the conversion's event and sums) or decline (a reason) a claim."""

    decision = forms.ChoiceField(
        choices=[("accept", "Accept: record the conversion"), ("decline", "Decline")],
        widget=forms.RadioSelect,
    )
    event = forms.ModelChoiceField(
        queryset=Event.objects.none(),
        required=False,
        help_text="The event the conversion earns at (accepting).",
    )
    order_sum = forms.IntegerField(
        min_value=0, required=False, help_text="Minor units, VAT included (accepting)."
    )
    vat_sum = forms.IntegerField(min_value=0, required=False, help_text="Minor units.")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=REASON_MAX_LENGTH,
        required=False,
        help_text="Why it is declined: the partner sees it (declining).",
    )

    def __init__(self, *args, claim: Claim, **kwargs) -> None:
        initial = {"order_sum": claim.order_sum, "vat_sum": claim.vat_sum}
        super().__init__(*args, initial=initial, **kwargs)
        self.claim = claim
        self.fields["event"].queryset = Event.objects.filter(
            program=claim.program_id, kind=claim.kind
        )
        if claim.kind == EventKind.LEAD:
            del self.fields["order_sum"], self.fields["vat_sum"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "decline" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "Give the reason: the partner sees it.")
        if cleaned.get("decision") == "accept":
            required = ["event"] + (["order_sum", "vat_sum"] if "order_sum" in self.fields else [])
            for name in required:
                if cleaned.get(name) is None:
                    self.add_error(name, "Needed to accept.")
        return cleaned

    def conversion_fields(self) -> dict:
        """The accepted conversion's fields, as the store API's PATCH names them."""
        fields = {"event": str(self.cleaned_data["event"].uuid)}
        if "order_sum" in self.fields:
            fields |= {
                "orderSum": self.cleaned_data["order_sum"],
                "vatSum": self.cleaned_data["vat_sum"],
            }
        return fields


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    change_form_template = "admin/conversions/claim/change_form.html"
    list_display = ["key", "kind", "age", "program", "partner", "claimed_sum", "status"]
    list_filter = [ClaimStatusFilter, "program", "partner"]
    list_select_related = ["program", "partner"]
    search_fields = ["order_number", "reference"]
    search_help_text = "An exact order number or lead reference."
    # Oldest first: the claims that have waited longest come first.
    ordering = ["created_at", "pk"]
    sortable_by: list[str] = []
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "uuid",
                    "status",
                    "program",
                    "partner",
                    "kind",
                    "order_number",
                    "reference",
                    "claimed_sum",
                    "ordered_at",
                    "note",
                    "click_link",
                    "created_at",
                ]
            },
        ),
        ("Decision", {"fields": ["decision_reason", "conversion_link", "updated_at"]}),
    ]
    readonly_fields = fieldset_fields(fieldsets)
    inlines = [ClaimChangeInline]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(order_number=term) | queryset.filter(reference=term), False

    @admin.display(description="order number / reference")
    def key(self, claim: Claim) -> str:
        return claim.key

    @admin.display(description="age")
    def age(self, claim: Claim) -> str:
        return timesince(claim.created_at, depth=1)

    @admin.display(description="claimed sum")
    def claimed_sum(self, claim: Claim) -> str:
        return format_money(claim.order_sum, claim.currency or claim.program.currency)

    @admin.display(description="click")
    def click_link(self, claim: Claim) -> str:
        url = reverse("admin:clicks_click_change", args=[claim.click_id])
        return format_html('<a href="{}">{}</a>', url, claim.click_id)

    @admin.display(description="conversion")
    def conversion_link(self, claim: Claim) -> str:
        if claim.conversion_id is None:
            return "—"
        url = reverse("admin:conversions_conversion_change", args=[claim.conversion_id])
        return format_html('<a href="{}">{}</a>', url, claim.conversion)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Nothing is edited in place: a claim is decided on its decision page.
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="conversions_claim_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request, pk: int):
        """Accept or decline one open claim on the store's behalf."""
        claim = get_object_or_404(Claim.objects.select_related("program", "partner"), pk=pk)
        if not self.has_change_permission(request, claim):
            raise PermissionDenied
        form = DecisionForm(request.POST or None, claim=claim)
        if request.method == "POST" and form.is_valid():
            actor = f"operator:{request.user.get_username()}"
            try:
                if form.cleaned_data["decision"] == "accept":
                    accept_claim(claim, form.conversion_fields(), actor=actor)
                else:
                    decline_claim(claim, form.cleaned_data["reason"], actor=actor)
            except ConversionRefused as refusal:
                form.add_error(None, _refusal_text(refusal))
            else:
                self.message_user(
                    request, f"{claim}: {form.cleaned_data['decision']}ed.", messages.SUCCESS
                )
                return HttpResponseRedirect(reverse("admin:conversions_claim_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Decide: {claim}",
            "claim": claim,
            "form": form,
        }
        return TemplateResponse(request, "admin/conversions/claim/decide.html", context)


def _refusal_text(refusal: ConversionRefused) -> str:
    details = "; ".join(
        f"{name}: {' '.join(str(message) for message in messages_)}"
        for name, messages_ in refusal.fields.items()
    )
    return f"{refusal.message} {details}".strip()
