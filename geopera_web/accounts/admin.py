"""People, orgs and credentials in the Django admin: superuser-only except for a view of orgs and
workspaces (see `geopera_web.admin_policy`)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils import timezone

from geopera_web.admin_policy import AuditedAdmin, ReadOnlyAdmin, SuperuserOnlyAdmin, audit

from .models import ApiKey, Membership, Organization, User, UserToken, Workspace, WorkspaceMember

PRIVILEGE_FIELDS = ("is_superuser", "groups", "user_permissions")


class MembershipInline(SuperuserOnlyAdmin, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


class WorkspaceInline(admin.TabularInline):
    model = Workspace
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ("name", "billing_mode", "created_at")
    list_filter = ("billing_mode",)
    search_fields = ("name",)
    inlines = [WorkspaceInline, MembershipInline]

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change:  # an org made here gets its wallet as every org does
            from geopera_web.billing.services import wallet_create

            wallet_create(org=obj)

    def has_change_permission(self, request, obj=None) -> bool:
        # The billing mode decides how an org pays: not a support-desk decision.
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)


@admin.register(User)
class UserAdmin(SuperuserOnlyAdmin, DjangoUserAdmin):
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

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # Belt and braces: privilege fields never reach a form that a non-superuser could post.
        return [
            (name, {**opts, "fields": tuple(f for f in opts["fields"] if f not in PRIVILEGE_FIELDS)})
            for name, opts in fieldsets
        ]

    def save_model(self, request, obj, form, change):
        obj.username = obj.email
        super().save_model(request, obj, form, change)
        changed = form.changed_data if change else ["created"]
        audit(
            request,
            "user.change" if change else "user.add",
            target=obj,
            user=obj.email,
            fields=",".join(changed),
        )


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(SuperuserOnlyAdmin, AuditedAdmin, DjangoGroupAdmin):
    pass


@admin.register(Workspace)
class WorkspaceAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ("name", "org", "is_default", "created_at")
    list_filter = ("org",)
    search_fields = ("name", "org__name")
    list_select_related = ("org",)

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)


@admin.register(WorkspaceMember)
class WorkspaceMemberAdmin(SuperuserOnlyAdmin, AuditedAdmin, admin.ModelAdmin):
    """Workspace members change through projects.* (org and workspace admins); here superusers only."""

    list_display = ("user", "workspace", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "workspace__name", "workspace__org__name")
    list_select_related = ("user", "workspace")
    autocomplete_fields = ("user",)


@admin.register(Membership)
class MembershipAdmin(SuperuserOnlyAdmin, admin.ModelAdmin):
    list_display = ("user", "org", "role", "created_at")
    list_filter = ("role", "org")
    search_fields = ("user__email", "org__name")
    list_select_related = ("user", "org")
    autocomplete_fields = ("user",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit(request, "membership.set", org=obj.org, target=obj, user=obj.user.email, role=obj.role)


class CredentialAdmin(SuperuserOnlyAdmin, ReadOnlyAdmin, admin.ModelAdmin):
    """Credentials are minted in the UI or by command (the secret is shown once), never edited or
    un-revoked here; a superuser may revoke them."""

    actions = ["revoke_selected"]

    def has_revoke_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    @admin.action(description="Revoke selected", permissions=["revoke"])
    def revoke_selected(self, request, queryset) -> None:
        now = timezone.now()
        ids = list(queryset.filter(revoked_at__isnull=True).values_list("pk", flat=True))
        queryset.model.objects.filter(pk__in=ids).update(revoked_at=now)
        for credential in queryset.model.objects.filter(pk__in=ids).select_related("org"):
            audit(
                request,
                f"{queryset.model._meta.model_name}.revoke",
                org=credential.org,
                target=credential,
                id=str(credential.pk),
            )
        self.message_user(request, f"Revoked {len(ids)} credential(s).", messages.SUCCESS)


@admin.register(ApiKey)
class ApiKeyAdmin(CredentialAdmin):
    list_display = ("name", "org", "display_prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    list_filter = ("org",)
    search_fields = ("name", "org__name", "display_prefix")
    exclude = ("key_hash",)
    list_select_related = ("org",)


@admin.register(UserToken)
class UserTokenAdmin(CredentialAdmin):
    list_display = ("user", "org", "display_prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    exclude = ("token_hash",)
    list_select_related = ("user", "org")


# --- login lockouts (django-axes) ----------------------------------------------------------------
# Support sees attempts and lockouts and unlocks an account with an audited action; the rows
# themselves are never edited or deleted by hand.

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin  # noqa: E402
from axes.admin import AccessFailureLogAdmin as AxesAccessFailureLogAdmin  # noqa: E402
from axes.admin import AccessLogAdmin as AxesAccessLogAdmin  # noqa: E402
from axes.models import AccessAttempt, AccessFailureLog, AccessLog  # noqa: E402

from .services import login_lockout_reset  # noqa: E402

for _model in (AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(ReadOnlyAdmin, AxesAccessAttemptAdmin):
    actions = ["unlock_selected"]
    readonly_fields = [f for f in AxesAccessAttemptAdmin.readonly_fields if f != "post_data"]
    fieldsets = (
        (None, {"fields": ("username", "path_info", "failures_since_start", "expiration")}),
        ("Meta Data", {"fields": ("user_agent", "ip_address", "http_accept")}),
    )

    def has_unlock_permission(self, request) -> bool:
        return request.user.has_perm("axes.unlock_accessattempt")

    @admin.action(description="Unlock: clear these failed logins", permissions=["unlock"])
    def unlock_selected(self, request, queryset) -> None:
        attempts = list(queryset.values("username", "ip_address"))
        for attempt in attempts:
            login_lockout_reset(
                actor=request.user, username=attempt["username"], ip_address=attempt["ip_address"]
            )
            audit(request, "login.unlock", username=attempt["username"], ip=attempt["ip_address"])
        self.message_user(request, f"Unlocked {len(attempts)} login(s).", messages.SUCCESS)


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin, AxesAccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class AccessFailureLogAdmin(ReadOnlyAdmin, AxesAccessFailureLogAdmin):
    pass
