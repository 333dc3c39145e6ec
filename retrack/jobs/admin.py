"""Back office: when each periodic job last ran and what it did (read-only)."""

from django.contrib import admin

from retrack.jobs.models import JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["name", "started_at", "finished_at", "succeeded", "summary", "last_success_at"]
    readonly_fields = [field.name for field in JobRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
