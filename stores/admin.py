from django.contrib import admin

from stores.models import Event, Program, Store, StoreToken


class EventInline(admin.TabularInline):
    model = Event
    extra = 1
    fields = ["name", "kind", "percent", "fixed_amount", "uuid"]
    readonly_fields = ["uuid"]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "uuid", "created_at"]
    search_fields = ["name", "uuid"]
    readonly_fields = ["uuid", "created_at"]


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "store", "currency", "status", "attribution_days", "validation_days"]
    list_filter = ["status", "currency", "store"]
    list_select_related = ["store"]
    search_fields = ["name", "uuid", "store__name"]
    readonly_fields = ["uuid", "created_at"]
    inlines = [EventInline]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["name", "program", "kind", "percent", "fixed_amount", "uuid"]
    list_filter = ["kind", "program"]
    list_select_related = ["program"]
    search_fields = ["name", "uuid"]
    readonly_fields = ["uuid"]


@admin.register(StoreToken)
class StoreTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "store", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["store"]
    list_select_related = ["store"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
