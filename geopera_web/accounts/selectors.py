"""Reads for organizations, people and credentials."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery

from geopera_web.errors import parse_uuid

from .models import ApiKey, Membership, Organization, Role, User, UserToken, Workspace, WorkspaceMember
from .services import secret_hash


def memberships_of(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("org").order_by("org__name")


def membership_get(*, user: User, org: Organization) -> Membership | None:
    return Membership.objects.filter(user=user, org=org).first()


def org_find(*, ref: str) -> Organization | None:
    """An org by id or by exact (case-insensitive) name: for provisioning commands."""
    org_id = parse_uuid(ref)
    if org_id is not None:
        return Organization.objects.filter(id=org_id).first()
    return Organization.objects.filter(name__iexact=ref).first()


def workspace_list(*, org: Organization, include_archived: bool = False) -> QuerySet[Workspace]:
    """The org's workspaces (default first); archived ones only when asked for."""
    qs = Workspace.objects.filter(org=org)
    return qs if include_archived else qs.filter(is_archived=False)


def workspace_list_orderable(
    *, org: Organization, user: User | None, org_role: str | None
) -> QuerySet[Workspace]:
    """The open workspaces `user` may place orders in — the pickers of the cart and the tasking
    request: every one for an org admin, else all but those where they are a `viewer` member
    (the rule of `workspace_may_order`, in the same query as the list)."""
    qs = workspace_list(org=org)
    if user is None or org_role == Role.ADMIN:
        return qs
    viewer = WorkspaceMember.objects.filter(
        workspace=OuterRef("pk"), user=user, role=WorkspaceMember.Role.VIEWER
    )
    return qs.filter(~Exists(viewer))


def workspace_list_with_counts(*, org: Organization, include_archived: bool = False) -> QuerySet[Workspace]:
    """`workspace_list` with `member_count` and `order_count` annotated (one query)."""
    # Meta.ordering does not apply to a GROUP BY query: order explicitly (default first).
    return (
        workspace_list(org=org, include_archived=include_archived)
        .annotate(member_count=Count("members", distinct=True), order_count=Count("orders", distinct=True))
        .order_by("-is_default", "name")
    )


def workspace_members(*, workspace: Workspace) -> QuerySet[WorkspaceMember]:
    return WorkspaceMember.objects.filter(workspace=workspace).select_related("user")


def workspace_member_get(*, workspace: Workspace, user_id: object) -> WorkspaceMember | None:
    uid = _parse_int(user_id)
    if uid is None:
        return None
    return WorkspaceMember.objects.filter(workspace=workspace, user_id=uid).select_related("user").first()


def org_member_get(*, org: Organization, user_id: object) -> Membership | None:
    """The org's membership of user `user_id` (a person outside the org is None, like a missing one)."""
    uid = _parse_int(user_id)
    if uid is None:
        return None
    return Membership.objects.filter(org=org, user_id=uid).select_related("user").first()


def workspace_can_manage(*, org_role: str | None, user: User | None, workspace: Workspace) -> bool:
    """Only org admins create, change, archive or delete workspaces and manage their members (an
    API key with projects:write counts as one: an org admin granted it). A workspace's `admin`
    member role does not make an operator a manager of it: it decides what they may do with the
    workspace's orders (`workspace_may_order`)."""
    return org_role == "admin"


def workspace_may_order(*, workspace: Workspace, user: User | None) -> bool:
    """False only for a person who is a `viewer` member of the workspace and not an org admin (the
    rule `services.workspace_order_check` enforces; pages use this to hide what would be refused)."""
    if user is None:
        return True
    role = (
        WorkspaceMember.objects.filter(workspace=workspace, user=user).values_list("role", flat=True).first()
    )
    if role != WorkspaceMember.Role.VIEWER:
        return True
    return Membership.objects.filter(org_id=workspace.org_id, user=user, role=Role.ADMIN).exists()


def _parse_int(value: object) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def workspace_get(*, org: Organization, workspace_id: object) -> Workspace | None:
    """The org's workspace with that id, or None (also for a malformed id or another org's)."""
    ws_id = parse_uuid(workspace_id)
    return Workspace.objects.filter(org=org, id=ws_id).first() if ws_id else None


def workspace_get_open(*, org: Organization, workspace_id: object) -> Workspace | None:
    """`workspace_get` for a new order: an archived workspace takes none (409)."""
    from geopera_web.errors import Conflict

    ws = workspace_get(org=org, workspace_id=workspace_id)
    if ws is not None and ws.is_archived:
        raise Conflict(
            f"Workspace {ws.name!r} is archived and takes no new orders: restore it "
            "(projects.archive with is_archived false) or choose another.",
            slug="workspace-archived",
        )
    return ws


def workspace_default(*, org: Organization) -> Workspace:
    ws = Workspace.objects.filter(org=org, is_default=True).first()
    return ws or Workspace.objects.filter(org=org).order_by("created_at").first()  # type: ignore[return-value]


def api_key_list(*, org: Organization) -> QuerySet[ApiKey]:
    """The org's keys, newest first (revoked and expired included, for the record)."""
    return ApiKey.objects.filter(org=org).select_related("created_by")


def api_key_authenticate(*, raw: str) -> ApiKey | None:
    # The hash is unique: no ordering (`.first()` would sort by created_at, a sort per request).
    found = ApiKey.objects.select_related("org").filter(key_hash=secret_hash(raw), revoked_at__isnull=True)
    return next(iter(found.order_by()[:1]), None)


def user_token_authenticate(*, raw: str) -> UserToken | None:
    """The live (not revoked) token with that secret, expired or not: the caller refuses an expired
    one with its own message. `member_role` is annotated: the role of the token's user in the
    token's org, or None when they are no longer a member (one query for both)."""
    # (user, org) is unique in memberships and the hash in tokens: no ordering, so neither the
    # subquery (Membership orders by the org's name: a join) nor the token is sorted per request.
    role = (
        Membership.objects.filter(user=OuterRef("user_id"), org=OuterRef("org_id"))
        .order_by()
        .values("role")[:1]
    )
    found = (
        UserToken.objects.select_related("user", "org")
        .filter(token_hash=secret_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .annotate(member_role=Subquery(role))
        .order_by()
    )
    return next(iter(found[:1]), None)


def org_members(*, org: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(org=org).select_related("user").order_by("role", "user__email")


def user_token_list(*, user: User) -> QuerySet[UserToken]:
    """The user's own tokens, every org, newest first."""
    return UserToken.objects.filter(user=user).select_related("org").order_by("-created_at")
