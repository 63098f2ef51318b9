from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import ApiKey, Membership, Organization, User, UserToken, Workspace


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


class WorkspaceInline(admin.TabularInline):
    model = Workspace
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "billing_mode", "created_at")
    list_filter = ("billing_mode",)
    search_fields = ("name",)
    inlines = [WorkspaceInline, MembershipInline]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "last_login")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "password1", "password2", "is_staff")}),
    )
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        obj.username = obj.email
        super().save_model(request, obj, form, change)


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "org", "is_default", "created_at")
    list_filter = ("org",)
    search_fields = ("name", "org__name")
    list_select_related = ("org",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "org", "role", "created_at")
    list_filter = ("role", "org")
    search_fields = ("user__email", "org__name")
    list_select_related = ("user", "org")
    autocomplete_fields = ("user",)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "org", "display_prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    list_filter = ("org",)
    search_fields = ("name", "org__name", "display_prefix")
    readonly_fields = ("key_hash", "display_prefix", "created_at", "last_used_at", "created_by")
    list_select_related = ("org",)

    def has_add_permission(self, request) -> bool:
        return False  # keys are minted in the UI or with `manage.py create_api_key`, shown once


@admin.register(UserToken)
class UserTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "org", "display_prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("token_hash", "display_prefix", "created_at", "last_used_at")
    list_select_related = ("user", "org")

    def has_add_permission(self, request) -> bool:
        return False
