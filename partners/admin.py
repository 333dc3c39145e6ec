from django.contrib import admin

from partners.models import Admission, Partner, PartnerToken


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "uuid", "created_at"]
    search_fields = ["name", "uuid"]
    readonly_fields = ["uuid", "created_at"]


@admin.register(Admission)
class AdmissionAdmin(admin.ModelAdmin):
    list_display = ["partner", "program", "created_at"]
    list_filter = ["partner", "program"]
    list_select_related = ["partner", "program"]


@admin.register(PartnerToken)
class PartnerTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "partner", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["partner"]
    list_select_related = ["partner"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
