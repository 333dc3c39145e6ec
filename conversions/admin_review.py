"""The back office's review of held conversions: their flags, and clearing them.

`ConversionAdmin` shows a conversion's flags and offers "Clear flags…"; the "Needs review"
list (`ConversionForReview`, registered in `conversions.admin`) holds the pending
conversions with an open flag, oldest first.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Prefetch
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html_join

from conversions.forms import ClearFlagsForm
from conversions.models import Conversion, ConversionFlag, ConversionStatus
from conversions.refusals import ConversionRefused
from conversions.services import clear_flags
from conversions.trust import open_flags_exist


class ConversionFlagInline(admin.TabularInline):
    """Every flag the conversion raised, open or cleared (and by whom)."""

    model = ConversionFlag
    extra = 0
    can_delete = False
    fields = ["code", "reason", "raised_at", "cleared_at", "cleared_by"]
    readonly_fields = fields
    verbose_name = "flag"
    verbose_name_plural = "flags (held for review while one is open)"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def with_open_flags(queryset):
    """The conversions with their open flags at hand (`open_flags`), for the flag column."""
    open_flags = ConversionFlag.objects.filter(cleared_at__isnull=True).order_by("raised_at")
    return queryset.prefetch_related(Prefetch("flags", queryset=open_flags, to_attr="open_flags"))


def has_open_flags(conversion_pk) -> bool:
    """Whether the conversion (its primary key as the admin's URL has it) has an open flag."""
    try:
        return ConversionFlag.objects.filter(
            conversion_id=int(conversion_pk), cleared_at__isnull=True
        ).exists()
    except (TypeError, ValueError):
        return False


def needing_review(queryset):
    """The pending conversions of `queryset` that an open flag holds."""
    return queryset.filter(open_flags_exist(), status=ConversionStatus.PENDING)


@admin.display(description="flags")
def open_flag_codes(conversion: Conversion) -> str:
    """The list's column: the codes of the conversion's open flags."""
    codes = [(flag.code,) for flag in getattr(conversion, "open_flags", [])]
    return format_html_join(", ", "<code>{}</code>", codes) or "—"


@admin.action(permissions=["change"], description="Clear the flags of the selected conversions…")
def clear_conversion_flags(modeladmin, request, queryset):
    """Ask why on an intermediate page, then clear each pending conversion's open flags."""
    if modeladmin._refuse_too_many(request, queryset):
        return None
    form = ClearFlagsForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        actor = f"operator:{request.user.get_username()}"
        cleared = not_pending = 0
        for conversion in queryset.order_by("pk"):
            try:
                clear_flags(conversion, actor=actor, reason=form.cleaned_data["reason"])
            except ConversionRefused as refused:
                if refused.code != "conversion_not_pending":
                    raise
                not_pending += 1
            else:
                cleared += 1
        text = f"Cleared the flags of {cleared} conversion(s)."
        if not_pending:
            text += f" {not_pending} not pending: left as they were."
        modeladmin.message_user(
            request, text, messages.WARNING if not_pending else messages.SUCCESS
        )
        return modeladmin._back_to(request, queryset)
    return reason_page(
        modeladmin,
        request,
        queryset,
        form,
        action="clear_conversion_flags",
        title="Clear flags",
        intro="Clear the open flags of {count} selected conversion{s}. Only pending "
        "conversions are cleared; each keeps its flags, marked cleared by you, and the history "
        "records why. Reject instead what is not a real order.",
        submit_label="Clear flags",
    )


def reason_page(
    modeladmin, request, queryset, form, *, action, title, intro, submit_label
) -> TemplateResponse:
    """The intermediate page of an action that asks for a reason before it applies.

    `intro` may name `{count}`, the number of conversions selected, and `{s}`, its plural.
    """
    count = queryset.count()
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.opts,
        "title": title,
        "intro": intro.format(count=count, s="" if count == 1 else "s"),
        "action": action,
        "submit_label": submit_label,
        "cancel_url": reverse(
            f"admin:{modeladmin.opts.app_label}_{modeladmin.opts.model_name}_changelist"
        ),
        "form": form,
        "conversions": queryset.select_related("program", "partner")[:20],
        "count": count,
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "return_to": request.POST.get("_return_to", ""),
    }
    return TemplateResponse(request, "admin/conversions/conversion/reason.html", context)
