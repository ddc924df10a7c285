from django.contrib import admin

from tenants.models import Domain, Hub, HubInvitation


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Hub)
class HubAdmin(admin.ModelAdmin):
    """Read-mostly: hubs are provisioned and their status changed through the services (console, CLI, API)."""

    list_display = ["slug", "name_zh", "kind", "region_code", "status", "plan", "created_at"]
    search_fields = ["slug", "name_zh", "name_en"]
    list_filter = ["status", "kind"]
    readonly_fields = ["schema_name", "slug", "status", "status_reason", "created_at", "updated_at"]
    inlines = [DomainInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HubInvitation)
class HubInvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "hub", "roles", "created_at", "expires_at", "accepted_at", "revoked_at"]
    readonly_fields = ["token_hash"]
    search_fields = ["email"]
