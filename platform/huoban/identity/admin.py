"""Django admin for platform superusers (support work); day-to-day operation uses the operator console."""

from django.contrib import admin

from huoban.identity.models import ApiToken, Organisation, OrganisationMember, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "email", "mobile", "is_operator", "is_active", "date_joined"]
    search_fields = ["name", "email", "mobile"]
    list_filter = ["is_operator", "is_active"]
    exclude = ["password"]
    readonly_fields = ["last_login", "date_joined", "email_verified_at"]


class MemberInline(admin.TabularInline):
    model = OrganisationMember
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "kind", "credit_code", "region_code", "created_at"]
    search_fields = ["name", "name_en", "credit_code"]
    list_filter = ["kind"]
    inlines = [MemberInline]
    raw_id_fields = ["created_by"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "name", "key_id", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_id", "key_hash"]
    raw_id_fields = ["user"]
