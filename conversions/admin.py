from django.contrib import admin

from conversions.models import Conversion, ConversionChange, ProductLine


class ProductLineInline(admin.TabularInline):
    model = ProductLine
    extra = 0
    can_delete = False
    readonly_fields = ["position", "event", "reference", "name", "quantity", "price", "vat"]
    fields = readonly_fields + ["commission"]


class ConversionChangeInline(admin.TabularInline):
    model = ConversionChange
    extra = 0
    can_delete = False
    fields = ["sequence", "created_at", "action", "actor", "reason", "changes"]
    readonly_fields = fields


@admin.register(Conversion)
class ConversionAdmin(admin.ModelAdmin):
    list_display = [
        "uuid",
        "kind",
        "status",
        "program",
        "partner",
        "order_number",
        "reference",
        "order_sum",
        "commission",
        "currency",
        "source",
        "created_at",
    ]
    list_filter = ["status", "kind", "source", "program", "partner"]
    list_select_related = ["program", "partner"]
    search_fields = ["=uuid", "=order_number", "=reference", "=click__uuid", "=click__ref"]
    show_full_result_count = False
    readonly_fields = [field.name for field in Conversion._meta.fields]
    inlines = [ProductLineInline, ConversionChangeInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
