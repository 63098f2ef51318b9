"""Reads for organizations, people and credentials."""

from __future__ import annotations

from django.db.models import QuerySet

from geopera_web.errors import parse_uuid

from .models import ApiKey, Membership, Organization, User, UserToken, Workspace
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


def workspace_list(*, org: Organization) -> QuerySet[Workspace]:
    return Workspace.objects.filter(org=org)


def workspace_get(*, org: Organization, workspace_id: object) -> Workspace | None:
    """The org's workspace with that id, or None (also for a malformed id or another org's)."""
    ws_id = parse_uuid(workspace_id)
    return Workspace.objects.filter(org=org, id=ws_id).first() if ws_id else None


def workspace_default(*, org: Organization) -> Workspace:
    ws = Workspace.objects.filter(org=org, is_default=True).first()
    return ws or Workspace.objects.filter(org=org).order_by("created_at").first()  # type: ignore[return-value]


def api_key_list(*, org: Organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(org=org).select_related("created_by")


def api_key_authenticate(*, raw: str) -> ApiKey | None:
    return (
        ApiKey.objects.select_related("org")
        .filter(key_hash=secret_hash(raw), revoked_at__isnull=True)
        .first()
    )


def user_token_authenticate(*, raw: str) -> UserToken | None:
    """The live (not revoked) token with that secret, expired or not: the caller refuses an expired
    one with its own message."""
    return (
        UserToken.objects.select_related("user", "org")
        .filter(token_hash=secret_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )


def org_members(*, org: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(org=org).select_related("user").order_by("role", "user__email")


def user_token_list(*, user: User) -> QuerySet[UserToken]:
    """The user's own tokens, every org, newest first."""
    return UserToken.objects.filter(user=user).select_related("org").order_by("-created_at")
