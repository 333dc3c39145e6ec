from django.contrib import admin

from retrack.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, read-only: nobody edits or deletes it from the back office."""

    list_display = ["created_at", "action", "actor", "target"]
    list_filter = ["action"]
    search_fields = ["=actor", "target"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "action", "actor", "target", "details"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
