"""The admin of API tokens, stores' and partners' alike: issued through the owner's service,
the secret shown once, then revoked; never deleted."""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from retrack.audit.services import operator_actor


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
