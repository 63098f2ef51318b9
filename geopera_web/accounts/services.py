"""Writes for organizations, people and credentials."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from geopera_web.admin_policy import SUPPORT_GROUP, support_group_sync  # noqa: F401
from geopera_web.audit.services import audit_record
from geopera_web.errors import ApplicationError, Conflict, NotFound, PermissionDenied, parse_uuid

from .models import (
    API_KEY_SCOPES,
    ApiKey,
    BillingMode,
    Membership,
    Organization,
    Role,
    User,
    UserToken,
    Workspace,
    WorkspaceMember,
)


def secret_hash(raw: str) -> str:
    """Keys are long random strings, so a plain SHA-256 (no salt, no stretching) is the right tool:
    it lets us look a key up by its hash in one indexed query."""
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def org_create(
    *, name: str, billing_mode: str = BillingMode.CREDIT, credits: int = 0, actor: User | None = None
) -> Organization:
    """Create an org with its default workspace and an empty wallet (topped up with `credits`)."""
    from geopera_web.billing.services import wallet_create, wallet_topup

    if billing_mode not in BillingMode.values:
        raise ApplicationError(
            f"Unknown billing mode {billing_mode!r}; use one of {', '.join(BillingMode.values)}."
        )
    if Organization.objects.filter(name__iexact=name).exists():
        raise ApplicationError(f"An organization named {name!r} already exists.", status=409)
    org = Organization.objects.create(name=name, billing_mode=billing_mode)
    Workspace.objects.create(org=org, name="Default workspace", is_default=True)
    wallet_create(org=org)
    if credits:
        wallet_topup(org=org, credits=credits, actor=actor, memo="Opening balance")
    return org


def support_group_ensure() -> Group:
    """The group that makes `is_staff` users able to work in the Django admin, with exactly the
    permissions the support desk needs (`geopera_web.admin_policy.SUPPORT_PERMISSIONS`)."""
    return support_group_sync()


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str,
    org: Organization | None = None,
    role: str = Role.OPERATOR,
    staff: bool = False,
    first_name: str = "",
    last_name: str = "",
) -> User:
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}; use one of {', '.join(Role.values)}.")
    if User.objects.filter(email__iexact=email).exists():
        raise ApplicationError(f"A user with email {email!r} already exists.", status=409)
    try:
        validate_password(password, user=User(email=email, first_name=first_name, last_name=last_name))
    except DjangoValidationError as exc:
        raise ApplicationError("Choose a stronger password: " + " ".join(exc.messages)) from None
    user = User.objects.create_user(
        email=email, password=password, is_staff=staff, first_name=first_name, last_name=last_name
    )
    if org is not None:
        Membership.objects.create(user=user, org=org, role=role)
    if staff:
        user.groups.add(support_group_ensure())
    return user


def membership_set(*, org: Organization, user: User, role: str, actor: User | None = None) -> Membership:
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}; use one of {', '.join(Role.values)}.")
    with transaction.atomic():
        before = Membership.objects.filter(org=org, user=user).values_list("role", flat=True).first()
        membership, _ = Membership.objects.update_or_create(org=org, user=user, defaults={"role": role})
        if before != role:
            audit_record(
                action="membership.set",
                actor=actor,
                org=org,
                target=membership,
                before={"role": before} if before else None,
                after={"role": role},
                user=user.email,
            )
    return membership


def _workspace_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ApplicationError("A workspace needs a name.")
    if len(name) > 200:
        raise ApplicationError("A workspace's name is at most 200 characters.")
    return name


@transaction.atomic
def workspace_create(
    *,
    org: Organization,
    name: str,
    description: str = "",
    region: str | None = None,
    actor: User | None = None,
) -> Workspace:
    """A new workspace in `org` (names are unique per org, case-insensitively: 409). Its creator,
    when a person, becomes its first `admin` member."""
    from .models import Region

    name = _workspace_name(name)
    if region is not None and region not in Region.values:
        raise ApplicationError(f"Unknown region {region!r}; use one of {', '.join(Region.values)}.")
    if Workspace.objects.filter(org=org, name__iexact=name).exists():
        raise Conflict(f"A workspace named {name!r} already exists.", slug="workspace-name-taken")
    workspace = Workspace.objects.create(
        org=org, name=name, description=description or "", region=region or Region.AU_SE1
    )
    if actor is not None and actor.is_authenticated:
        WorkspaceMember.objects.create(
            workspace=workspace, user=actor, role=WorkspaceMember.Role.ADMIN, added_by=actor
        )
    return workspace


def _workspace_for_update(*, org: Organization, workspace_id: object) -> Workspace:
    ws_id = parse_uuid(workspace_id)
    workspace = Workspace.objects.select_for_update().filter(org=org, id=ws_id).first() if ws_id else None
    if workspace is None:
        raise NotFound("Workspace (project_id) not found in your organization.", slug="workspace-not-found")
    return workspace


def _require_manager(*, workspace: Workspace, org_role: str | None, user: User | None) -> None:
    from .selectors import workspace_can_manage

    if not workspace_can_manage(org_role=org_role, user=user, workspace=workspace):
        raise PermissionDenied(
            "Only org admins may manage workspaces and their members.",
            slug="workspace-admin-required",
        )


@transaction.atomic
def workspace_update(
    *,
    org: Organization,
    workspace_id: object,
    org_role: str | None,
    user: User | None,
    name: str | None = None,
    description: str | None = None,
    is_archived: bool | None = None,
) -> Workspace:
    """Change a workspace's name, description or archived flag (None leaves a field as it is).
    The default workspace cannot be archived: orders without a projectId go there."""
    workspace = _workspace_for_update(org=org, workspace_id=workspace_id)
    _require_manager(workspace=workspace, org_role=org_role, user=user)
    fields: list[str] = []
    if name is not None:
        name = _workspace_name(name)
        if Workspace.objects.filter(org=org, name__iexact=name).exclude(pk=workspace.pk).exists():
            raise Conflict(f"A workspace named {name!r} already exists.", slug="workspace-name-taken")
        workspace.name = name
        fields.append("name")
    if description is not None:
        workspace.description = description
        fields.append("description")
    if is_archived is not None and is_archived != workspace.is_archived:
        if is_archived and workspace.is_default:
            raise Conflict(
                "The default workspace cannot be archived: orders placed without a projectId go there.",
                slug="default-workspace",
            )
        workspace.is_archived = is_archived
        fields.append("is_archived")
    if fields:
        workspace.save(update_fields=[*fields, "updated_at"])
    return workspace


@transaction.atomic
def workspace_delete(
    *, org: Organization, workspace_id: object, org_role: str | None, user: User | None
) -> str:
    """Delete a workspace that never held an order (its members and budgets go with it). One with
    orders keeps them for the ledger's sake: 409, archive it instead. Returns the deleted id."""
    workspace = _workspace_for_update(org=org, workspace_id=workspace_id)
    _require_manager(workspace=workspace, org_role=org_role, user=user)
    if workspace.is_default:
        raise Conflict("The default workspace cannot be deleted.", slug="default-workspace")
    if workspace.orders.exists():
        raise Conflict(
            "This workspace holds orders, whose charges and deliveries must stay on record: "
            "archive it instead (projects.archive).",
            slug="workspace-has-orders",
        )
    ws_id = str(workspace.pk)
    try:
        workspace.delete()
    except ProtectedError:
        raise Conflict(
            "This workspace is still referenced; archive it instead.", slug="workspace-in-use"
        ) from None
    return ws_id


@transaction.atomic
def workspace_member_add(
    *,
    org: Organization,
    workspace_id: object,
    org_role: str | None,
    actor: User | None,
    user_id: object,
    role: str = WorkspaceMember.Role.EDITOR,
) -> WorkspaceMember:
    """Add a member of the org to a workspace. A person outside the org is a 404 (as a missing
    one); already a member: 409 with `current_role`."""
    from .selectors import org_member_get

    workspace = _workspace_for_update(org=org, workspace_id=workspace_id)
    _require_manager(workspace=workspace, org_role=org_role, user=actor)
    _validate_workspace_role(role)
    membership = org_member_get(org=org, user_id=user_id)
    if membership is None:
        raise NotFound("No member of your organization has that user_id.", slug="user-not-found")
    existing = WorkspaceMember.objects.filter(workspace=workspace, user=membership.user).first()
    if existing is not None:
        raise Conflict(
            f"{membership.user.email} is already a {existing.role} of this workspace; use "
            "projects.update_member to change the role.",
            slug="already-a-member",
            current_role=existing.role,
        )
    try:
        with transaction.atomic():
            return WorkspaceMember.objects.create(
                workspace=workspace, user=membership.user, role=role, added_by=actor
            )
    except IntegrityError:
        raise Conflict("That person was just added by someone else.", slug="already-a-member") from None


def _validate_workspace_role(role: str) -> None:
    if role not in WorkspaceMember.Role.values:
        raise ApplicationError(
            f"Unknown workspace role {role!r}; use one of {', '.join(WorkspaceMember.Role.values)}.",
            slug="invalid-role",
        )


@transaction.atomic
def workspace_member_update(
    *,
    org: Organization,
    workspace_id: object,
    org_role: str | None,
    actor: User | None,
    user_id: object,
    role: str,
) -> WorkspaceMember:
    from .selectors import workspace_member_get

    workspace = _workspace_for_update(org=org, workspace_id=workspace_id)
    _require_manager(workspace=workspace, org_role=org_role, user=actor)
    _validate_workspace_role(role)
    member = workspace_member_get(workspace=workspace, user_id=user_id)
    if member is None:
        raise NotFound("That person is not a member of this workspace.", slug="member-not-found")
    if member.role != role:
        member.role = role
        member.save(update_fields=["role", "updated_at"])
    return member


@transaction.atomic
def workspace_member_remove(
    *, org: Organization, workspace_id: object, org_role: str | None, actor: User | None, user_id: object
) -> None:
    from .selectors import workspace_member_get

    workspace = _workspace_for_update(org=org, workspace_id=workspace_id)
    _require_manager(workspace=workspace, org_role=org_role, user=actor)
    member = workspace_member_get(workspace=workspace, user_id=user_id)
    if member is None:
        raise NotFound("That person is not a member of this workspace.", slug="member-not-found")
    member.delete()


def _validate_scopes(scopes: Iterable[str]) -> list[str]:
    scopes = [s for s in scopes if s]
    unknown = sorted(set(scopes) - set(API_KEY_SCOPES))
    if unknown:
        raise ApplicationError(
            f"Unknown scope(s) for an API key: {', '.join(unknown)}. An API key may hold: "
            f"{', '.join(API_KEY_SCOPES)} (managing API keys needs a person).",
            slug="invalid-scope",
        )
    if not scopes:
        raise ApplicationError("An API key needs at least one scope.")
    return sorted(set(scopes))


def api_key_create(
    *,
    org: Organization,
    name: str,
    scopes: Iterable[str],
    actor: User | None = None,
    rate_limit: int | None = None,
    expires_in_days: int | None = None,
) -> tuple[ApiKey, str]:
    """Mint an API key (the page and `api_keys.create` alike). Returns the row and the raw key,
    which is shown once and never stored. `rate_limit` is requests per minute (under the server's
    own limit); `expires_in_days` makes the key stop working after that many days."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Give the API key a name so you can recognise it later.")
    if len(name) > 100:
        raise ApplicationError("An API key's name is at most 100 characters.")
    if rate_limit is not None and not 1 <= rate_limit <= 1_000_000:
        raise ApplicationError("rate_limit is requests per minute: between 1 and 1,000,000.")
    longest = settings.API_KEY_MAX_TTL_DAYS
    if expires_in_days is not None and not 1 <= expires_in_days <= longest:
        raise ApplicationError(f"expires_in_days must be between 1 and {longest} (API_KEY_MAX_TTL_DAYS).")
    raw = ApiKey.PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            org=org,
            name=name,
            scopes=_validate_scopes(scopes),
            created_by=actor,
            display_prefix=raw[:12],
            key_hash=secret_hash(raw),
            rate_limit=rate_limit,
            expires_at=timezone.now() + datetime.timedelta(days=expires_in_days) if expires_in_days else None,
        )
        audit_record(
            action="apikey.create",
            actor=actor,
            org=org,
            target=key,
            after={"name": key.name, "scopes": key.scopes, "prefix": key.display_prefix},
        )
    return key, raw


def api_key_revoke(*, org: Organization, key_id: object, actor: User | None = None) -> ApiKey:
    """Revoke the org's key (another org's, or a malformed id, is a 404). Revoking twice is a no-op
    (and audited once)."""
    key = ApiKey.objects.filter(org=org, id=parse_uuid(key_id)).first()
    if key is None:
        raise NotFound("API key not found.")
    if key.revoked_at is None:
        with transaction.atomic():
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit_record(action="apikey.revoke", actor=actor, org=org, target=key, name=key.name)
    return key


def user_token_create(
    *, user: User, org: Organization | None = None, name: str = "", ttl_days: int | None = None
) -> tuple[UserToken, str]:
    """Mint a bearer token acting as `user` in `org` (their first org when not given), valid for
    `ttl_days` (default `USER_TOKEN_TTL_DAYS`). Returns the row and the raw token, shown once."""
    membership_qs = Membership.objects.filter(user=user).select_related("org")
    membership = (
        membership_qs.filter(org=org).first() if org else membership_qs.order_by("created_at").first()
    )
    if membership is None:
        raise ApplicationError(
            f"{user.email} is not a member of {'that organization' if org else 'any organization'}."
        )
    days = settings.USER_TOKEN_TTL_DAYS if ttl_days is None else ttl_days
    if not 1 <= days <= settings.USER_TOKEN_MAX_TTL_DAYS:
        raise ApplicationError(
            f"A token lives between 1 and {settings.USER_TOKEN_MAX_TTL_DAYS} days; {days} is outside that."
        )
    raw = UserToken.PREFIX + secrets.token_urlsafe(32)
    token = UserToken.objects.create(
        user=user,
        org=membership.org,
        name=(name or "").strip()[:100],
        display_prefix=raw[:12],
        token_hash=secret_hash(raw),
        expires_at=timezone.now() + datetime.timedelta(days=days),
    )
    return token, raw


def user_token_revoke(*, user: User, token_id: object) -> UserToken:
    """Revoke one of `user`'s own tokens (another user's token is a 404)."""
    token = UserToken.objects.filter(user=user, id=parse_uuid(token_id)).select_related("org").first()
    if token is None:
        raise NotFound("Token not found.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def login_lockout_reset(*, actor: User | None, username: str | None, ip_address: str | None) -> int:
    """Clear the failed logins that lock out `username` (on every IP) and `ip_address`. Returns how
    many attempt rows were removed. The caller writes the audit line."""
    from axes.utils import reset

    removed = 0
    if username:
        removed += reset(username=username)
    if ip_address:
        removed += reset(ip=ip_address)
    return removed


def credential_touch(credential: ApiKey | UserToken) -> None:
    """Record last use, at most once a minute per credential (saves a write on every request)."""
    now = timezone.now()
    if credential.last_used_at is None or (now - credential.last_used_at).total_seconds() > 60:
        type(credential).objects.filter(pk=credential.pk).update(last_used_at=now)
        credential.last_used_at = now


# --- what a workspace member's role allows with the workspace's orders -----------------------------


def workspace_order_check(*, workspace: Workspace, actor: object, action: str) -> None:
    """The one rule of workspace member roles (called by every service that places, cancels or
    changes an order, so the API and the pages enforce it alike): a person who is a `viewer`
    member of the workspace may read its orders but not `action` them (403 `workspace-viewer`).
    Editors and admins may; people who are not members of the workspace are not restricted by it
    (membership narrows, it does not grant); org admins never are (they set the roles). API keys
    and the system act by their scopes alone."""
    from geopera_web.actor import actor_of

    from .selectors import workspace_may_order

    if workspace_may_order(workspace=workspace, user=actor_of(actor).user):
        return
    raise PermissionDenied(
        f"You are a viewer of workspace “{workspace.name}”: viewers cannot {action} its orders. "
        "An org admin can make you an editor of it.",
        slug="workspace-viewer",
        workspace_id=str(workspace.pk),
    )
