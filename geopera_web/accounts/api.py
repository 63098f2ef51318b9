"""Operations for an org's credentials and workspaces: `api_keys.create|list|revoke` and
`projects.create|update|archive|delete|add_member|update_member|remove_member` (the reference's
ids and field names, shared/reference/geopera-openapi-integrations.json), plus `projects.list`,
which the reference lacks: it is how an SDK user discovers a `workspaceId` (`projectId`).

Rules are the pages' rules, in the same services: only org admins manage API keys (and only as
people: an API key never mints or lists keys); workspaces and their members are managed by org
admins only (`projects:write`, which operators do not hold). Another org's key, workspace or person
is a 404.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from geopera_web.api.fields import SettingBoundsMixin
from geopera_web.api.registry import Effect, OpContext, operation

from .models import API_KEY_SCOPES, ApiKey, Region, Scope, Workspace, WorkspaceMember
from .selectors import api_key_list, workspace_list_with_counts
from .services import (
    api_key_create,
    api_key_revoke,
    workspace_create,
    workspace_delete,
    workspace_member_add,
    workspace_member_remove,
    workspace_member_update,
    workspace_update,
)

_ID = {"max_length": 64}


# --- API keys ------------------------------------------------------------------------------------


class ApiKeyCreateInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = {"expires_in_days": {"max_value": "API_KEY_MAX_TTL_DAYS"}}

    # The key's name is stored in 100 characters (the page's rule too).
    name = serializers.CharField(min_length=1, max_length=100)
    # Required, with at least one scope: a key without a scope could do nothing, so the server refuses
    # it, and the document says so (the reference leaves it optional).
    permissions = serializers.ListField(
        child=serializers.ChoiceField(
            choices=list(API_KEY_SCOPES),
            error_messages={
                "invalid_choice": "Unknown scope {input} for an API key; it may hold: "
                + ", ".join(API_KEY_SCOPES)
                + " (managing API keys needs a person)."
            },
        ),
        min_length=1,
        max_length=32,
        help_text="Scopes the key carries, e.g. orders:read (at least one; api_keys:* cannot be granted).",
    )
    rate_limit = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=1_000_000, help_text="Requests per minute."
    )
    expires_in_days = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Days until the key stops working, at most {max_value} (API_KEY_MAX_TTL_DAYS); null: never.",
    )


class ApiKeyCreateOutput(serializers.Serializer):
    """The new key. `key` is the secret: shown in this response only, never again."""

    id = serializers.CharField()
    key = serializers.CharField(allow_null=True)
    prefix = serializers.CharField()
    name = serializers.CharField()
    permissions = serializers.ListField(child=serializers.CharField())
    rate_limit = serializers.IntegerField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class ApiKeyListInput(serializers.Serializer):
    pass


class ApiKeyOutput(serializers.Serializer):
    """An API key's metadata (never its secret). `status` is active | revoked | expired."""

    id = serializers.CharField()
    prefix = serializers.CharField()
    name = serializers.CharField()
    permissions = serializers.ListField(child=serializers.CharField())
    rate_limit = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class ApiKeyListOutput(serializers.Serializer):
    keys = ApiKeyOutput(many=True)


class ApiKeyRevokeInput(serializers.Serializer):
    key_id = serializers.CharField(**_ID)


class ApiKeyRevokeOutput(serializers.Serializer):
    ok = serializers.BooleanField(default=True)
    id = serializers.CharField()


def api_key_to_wire(key: ApiKey, *, raw: str | None = None) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "id": str(key.pk),
        "prefix": key.display_prefix,
        "name": key.name,
        "permissions": list(key.scopes),
        "rate_limit": key.rate_limit,
        "expires_at": key.expires_at,
        "created_at": key.created_at,
    }
    if raw is not None:
        return {**wire, "key": raw}
    status = "revoked" if key.revoked_at else "expired" if key.is_expired else "active"
    return {
        **wire,
        "status": status,
        "created_by": key.created_by.email if key.created_by else None,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }


@operation(
    "api_keys.create",
    scope=Scope.API_KEYS_WRITE,
    effect=Effect.COMPUTE,
    input=ApiKeyCreateInput,
    output=ApiKeyCreateOutput,
    user_only=True,
    summary="Mint an organization API key (the secret is returned once).",
)
def api_keys_create_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Org admins only, as a person (session or user token). `permissions` are the key's scopes
    (at least one); `rate_limit` caps it in requests per minute under the server's limit;
    `expires_in_days` makes it stop working after that many days. `key` is in this response only:
    store it now. The same service as the API keys page."""
    ctx.require_role("admin", action="manage API keys")
    key, raw = api_key_create(
        org=ctx.org,
        name=data["name"],
        scopes=data.get("permissions") or [],
        actor=ctx.user,
        rate_limit=data.get("rate_limit"),
        expires_in_days=data.get("expires_in_days"),
    )
    return api_key_to_wire(key, raw=raw)


@operation(
    "api_keys.list",
    scope=Scope.API_KEYS_READ,
    effect=Effect.READ,
    input=ApiKeyListInput,
    output=ApiKeyListOutput,
    user_only=True,
    summary="List an organization's API keys (metadata only — never the secret).",
)
def api_keys_list_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Org admins only. Every key of the org, newest first, revoked and expired ones included
    (`status`), so an integrator can audit what exists."""
    ctx.require_role("admin", action="list API keys")
    return {"keys": [api_key_to_wire(k) for k in api_key_list(org=ctx.org)]}


@operation(
    "api_keys.revoke",
    scope=Scope.API_KEYS_WRITE,
    effect=Effect.COMPUTE,
    input=ApiKeyRevokeInput,
    output=ApiKeyRevokeOutput,
    user_only=True,
    summary="Revoke an organization API key.",
)
def api_keys_revoke_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Org admins only. The key stops working at once; revoking a revoked key is a no-op (200).
    Another org's key is a 404."""
    ctx.require_role("admin", action="revoke API keys")
    key = api_key_revoke(org=ctx.org, key_id=data["key_id"], actor=ctx.user)
    return {"ok": True, "id": str(key.pk)}


# --- projects (workspaces) -----------------------------------------------------------------------


class ProjectCreate(serializers.Serializer):
    """Input for creating a project."""

    name = serializers.CharField(min_length=1, max_length=200)
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=5000)
    gcs_region = serializers.ChoiceField(choices=Region.values, required=False, default=Region.AU_SE1)


class ProjectResponse(serializers.Serializer):
    """A workspace. `id` is the `workspaceId` / `projectId` that orders take. `gcs_region` is where
    deliveries are asked to be kept; `gcs_bucket_name` is always null (the platform stores
    deliveries, not a per-workspace bucket). `is_default`: where orders without a projectId go."""

    id = serializers.CharField()
    organization_id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    gcs_region = serializers.CharField(allow_null=True)
    gcs_bucket_name = serializers.CharField(allow_null=True)
    is_archived = serializers.BooleanField()
    is_default = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ProjectListInput(serializers.Serializer):
    include_archived = serializers.BooleanField(required=False, default=False)


class ProjectListItem(ProjectResponse):
    member_count = serializers.IntegerField()
    order_count = serializers.IntegerField()


class ProjectListOutput(serializers.Serializer):
    projects = ProjectListItem(many=True)


class ProjectUpdateInput(serializers.Serializer):
    project_id = serializers.CharField(**_ID)
    name = serializers.CharField(required=False, allow_null=True, min_length=1, max_length=200)
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=5000)
    is_archived = serializers.BooleanField(required=False, allow_null=True)


class ProjectArchiveInput(ProjectUpdateInput):
    pass


class ProjectDeleteInput(serializers.Serializer):
    project_id = serializers.CharField(**_ID)


class ProjectDeleteOutput(serializers.Serializer):
    deleted = serializers.BooleanField(default=True)
    project_id = serializers.CharField()
    storage_freed_bytes = serializers.IntegerField(
        default=0,
        help_text="Always 0, and true: only a workspace that never held an order can be deleted, and "
        "the platform stores files (delivered imagery, footprints) only for orders, so deleting one "
        "frees no stored files (its member, budget and approval rows go with it).",
    )


_ROLE_HELP = "Role: admin, editor, or viewer"


class AddMemberInput(serializers.Serializer):
    project_id = serializers.CharField(**_ID)
    user_id = serializers.CharField(max_length=64, help_text="The user's id (a member of your organization).")
    # The reference types the role as a free string; the document states the three it takes, so an
    # unknown role is refused as a validation error (422), not found wrong after the fact.
    role = serializers.ChoiceField(
        choices=WorkspaceMember.Role.values, required=False, default="editor", help_text=_ROLE_HELP
    )


class UpdateMemberInput(serializers.Serializer):
    project_id = serializers.CharField(**_ID)
    user_id = serializers.CharField(max_length=64)
    role = serializers.ChoiceField(choices=WorkspaceMember.Role.values, help_text=_ROLE_HELP)


class RemoveMemberInput(serializers.Serializer):
    project_id = serializers.CharField(**_ID)
    user_id = serializers.CharField(max_length=64)


class MemberOutput(serializers.Serializer):
    """A workspace member: the workspace (`project_id`), the person (`user_id`, `email`, `name`),
    their workspace `role` and their role in the organization (`org_role`)."""

    project_id = serializers.CharField()
    user_id = serializers.CharField()
    email = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()
    org_role = serializers.CharField(allow_null=True)
    added_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class RemoveMemberOutput(serializers.Serializer):
    ok = serializers.BooleanField(default=True)


def project_to_wire(ws: Workspace) -> dict[str, Any]:
    wire = {
        "id": str(ws.pk),
        "organization_id": str(ws.org_id),
        "name": ws.name,
        "description": ws.description or None,
        "gcs_region": ws.region,
        "gcs_bucket_name": None,
        "is_archived": ws.is_archived,
        "is_default": ws.is_default,
        "created_at": ws.created_at,
        "updated_at": ws.updated_at,
    }
    if hasattr(ws, "member_count"):
        wire["member_count"] = ws.member_count
        wire["order_count"] = ws.order_count
    return wire


def member_to_wire(member: WorkspaceMember, *, org_role: str | None = None) -> dict[str, Any]:
    return {
        "project_id": str(member.workspace_id),
        "user_id": str(member.user_id),
        "email": member.user.email,
        "name": member.user.display_name,
        "role": member.role,
        "org_role": org_role,
        "added_at": member.created_at,
        "updated_at": member.updated_at,
    }


def _org_role_of(ctx: OpContext, user_id: int) -> str | None:
    from .models import Membership

    return Membership.objects.filter(org=ctx.org, user_id=user_id).values_list("role", flat=True).first()


def _manager_kwargs(ctx: OpContext) -> dict[str, Any]:
    # An API key holding projects:write manages like an org admin: an org admin granted it.
    role = "admin" if ctx.principal.is_api_key else ctx.principal.role
    return {"org": ctx.org, "org_role": role}


@operation(
    "projects.list",
    scope=Scope.ORDERS_READ,
    effect=Effect.READ,
    input=ProjectListInput,
    output=ProjectListOutput,
    summary="List the organization's workspaces: where to find the workspaceId / projectId orders take.",
)
def projects_list_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Every workspace of the caller's org, the default one first, with member and order counts.
    Archived workspaces only with `include_archived`. An extension of the reference (which has no
    list): the `id` of each is the `workspaceId` that `orders.place` and `orders.list` take."""
    rows = workspace_list_with_counts(org=ctx.org, include_archived=data.get("include_archived", False))
    return {"projects": [project_to_wire(ws) for ws in rows]}


@operation(
    "projects.create",
    scope=Scope.PROJECTS_WRITE,
    effect=Effect.COMPUTE,
    input=ProjectCreate,
    output=ProjectResponse,
    summary="Create a workspace in the caller's organization.",
)
def projects_create_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Org admins (or an API key with projects:write). Names are unique per organization (409).
    The creating person becomes the workspace's first admin member."""
    ctx.require_role("admin", action="create workspaces", api_keys=True)
    ws = workspace_create(
        org=ctx.org,
        name=data["name"],
        description=data.get("description") or "",
        region=data.get("gcs_region"),
        actor=ctx.user,
    )
    return project_to_wire(ws)


@operation(
    "projects.update",
    scope=Scope.PROJECTS_WRITE,
    effect=Effect.COMPUTE,
    input=ProjectUpdateInput,
    output=ProjectResponse,
    summary="Update a workspace's metadata (project admin/owner).",
)
def projects_update_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Org admins only. Omitted or null fields stay as they are.
    The default workspace cannot be archived (409)."""
    ws = workspace_update(
        **_manager_kwargs(ctx),
        user=ctx.user,
        workspace_id=data["project_id"],
        name=data.get("name"),
        description=data.get("description"),
        is_archived=data.get("is_archived"),
    )
    return project_to_wire(ws)


@operation(
    "projects.archive",
    scope=Scope.PROJECTS_WRITE,
    effect=Effect.COMPUTE,
    input=ProjectArchiveInput,
    output=ProjectResponse,
    summary="Archive a workspace, hiding it from the default list (project admin/owner).",
)
def projects_archive_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Like projects.update with `is_archived` defaulting to true (`is_archived: false` restores
    it). An archived workspace is left out of projects.list and the pages' pickers; its orders stay
    readable. The default workspace cannot be archived (409)."""
    is_archived = data.get("is_archived")
    ws = workspace_update(
        **_manager_kwargs(ctx),
        user=ctx.user,
        workspace_id=data["project_id"],
        name=data.get("name"),
        description=data.get("description"),
        is_archived=True if is_archived is None else is_archived,
    )
    return project_to_wire(ws)


@operation(
    "projects.delete",
    scope=Scope.PROJECTS_WRITE,
    effect=Effect.COMPUTE,
    input=ProjectDeleteInput,
    output=ProjectDeleteOutput,
    summary="Permanently delete a workspace and all its data (project admin/owner).",
)
def projects_delete_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Only a workspace that never held an order: orders carry charges and deliveries that stay
    on record, so one with orders is a 409 (archive it instead). The default workspace: 409.
    `storage_freed_bytes` is 0 and true: a workspace without orders owns no stored files."""
    ws_id = workspace_delete(**_manager_kwargs(ctx), user=ctx.user, workspace_id=data["project_id"])
    return {"deleted": True, "project_id": ws_id, "storage_freed_bytes": 0}


@operation(
    "projects.add_member",
    scope=Scope.PROJECTS_WRITE,
    effect=Effect.COMPUTE,
    input=AddMemberInput,
    output=MemberOutput,
    summary="Add a member to a workspace (project admin/owner).",
)
def projects_add_member_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """The person must be a member of the organization (otherwise 404, as for a missing one);
    already in the workspace: 409 with `current_role`. Roles: admin (manages the workspace),
    editor, viewer."""
    member = workspace_member_add(
        **_manager_kwargs(ctx),
        actor=ctx.user,
        workspace_id=data["project_id"],
        user_id=data["user_id"],
        role=data.get("role") or "editor",
    )
    return member_to_wire(member, org_role=_org_role_of(ctx, member.user_id))


@operation(
    "projects.update_member",
    scope=Scope.PROJECTS_WRITE,
    effect=Effect.COMPUTE,
    input=UpdateMemberInput,
    output=MemberOutput,
    summary="Change a member's role in a workspace (project admin/owner).",
)
def projects_update_member_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Set a workspace member's role (admin, editor, viewer). Not a member: 404."""
    member = workspace_member_update(
        **_manager_kwargs(ctx),
        actor=ctx.user,
        workspace_id=data["project_id"],
        user_id=data["user_id"],
        role=data["role"],
    )
    return member_to_wire(member, org_role=_org_role_of(ctx, member.user_id))


@operation(
    "projects.remove_member",
    scope=Scope.PROJECTS_WRITE,
    effect=Effect.COMPUTE,
    input=RemoveMemberInput,
    output=RemoveMemberOutput,
    summary="Remove a member from a workspace (project admin/owner).",
)
def projects_remove_member_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Take a person out of a workspace (they stay in the organization). Not a member: 404."""
    workspace_member_remove(
        **_manager_kwargs(ctx), actor=ctx.user, workspace_id=data["project_id"], user_id=data["user_id"]
    )
    return {"ok": True}
