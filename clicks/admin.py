from django.contrib import admin

from clicks.models import Click


@admin.register(Click)
class ClickAdmin(admin.ModelAdmin):
    list_display = ["uuid", "created_at", "partner", "program", "ref", "country", "is_bot"]
    list_filter = ["is_bot", "program", "partner"]
    list_select_related = ["partner", "program"]
    search_fields = ["=uuid", "=ref"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
