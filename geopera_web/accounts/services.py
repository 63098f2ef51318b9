"""Writes for organizations, people and credentials."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from geopera_web.errors import ApplicationError, NotFound

from .models import (
    ALL_SCOPES,
    ApiKey,
    BillingMode,
    Membership,
    Organization,
    Role,
    User,
    UserToken,
    Workspace,
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
    from geopera_web.billing.services import wallet_topup

    if billing_mode not in BillingMode.values:
        raise ApplicationError(
            f"Unknown billing mode {billing_mode!r}; use one of {', '.join(BillingMode.values)}."
        )
    if Organization.objects.filter(name__iexact=name).exists():
        raise ApplicationError(f"An organization named {name!r} already exists.", status=409)
    org = Organization.objects.create(name=name, billing_mode=billing_mode)
    Workspace.objects.create(org=org, name="Default workspace", is_default=True)
    if credits:
        wallet_topup(org=org, credits=credits, actor=actor, memo="Opening balance")
    return org


SUPPORT_GROUP = "Support staff"
SUPPORT_APPS = ("accounts", "billing", "api", "orders", "tasking")


def support_group_ensure() -> Group:
    """The group that makes `is_staff` users able to work in the Django admin: every permission
    on the product's own models (wallet movements still go through the admin's top-up views)."""
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    perms = Permission.objects.filter(content_type__app_label__in=SUPPORT_APPS)
    group.permissions.add(*perms)
    return group


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
    user = User.objects.create_user(
        email=email, password=password, is_staff=staff, first_name=first_name, last_name=last_name
    )
    if org is not None:
        Membership.objects.create(user=user, org=org, role=role)
    if staff:
        user.groups.add(support_group_ensure())
    return user


def membership_set(*, org: Organization, user: User, role: str) -> Membership:
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}; use one of {', '.join(Role.values)}.")
    membership, _ = Membership.objects.update_or_create(org=org, user=user, defaults={"role": role})
    return membership


def workspace_create(*, org: Organization, name: str) -> Workspace:
    if Workspace.objects.filter(org=org, name__iexact=name).exists():
        raise ApplicationError(f"A workspace named {name!r} already exists.", status=409)
    return Workspace.objects.create(org=org, name=name)


def _validate_scopes(scopes: Iterable[str]) -> list[str]:
    scopes = [s for s in scopes if s]
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise ApplicationError(
            f"Unknown scope(s): {', '.join(unknown)}. Known scopes: {', '.join(ALL_SCOPES)}."
        )
    if not scopes:
        raise ApplicationError("An API key needs at least one scope.")
    return sorted(set(scopes))


def api_key_create(
    *, org: Organization, name: str, scopes: Iterable[str], actor: User | None = None
) -> tuple[ApiKey, str]:
    """Mint an API key. Returns the row and the raw key, which is shown once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Give the API key a name so you can recognise it later.")
    raw = ApiKey.PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        org=org,
        name=name[:100],
        scopes=_validate_scopes(scopes),
        created_by=actor,
        display_prefix=raw[:12],
        key_hash=secret_hash(raw),
    )
    return key, raw


def api_key_revoke(*, org: Organization, key_id: object) -> ApiKey:
    key = ApiKey.objects.filter(org=org, id=key_id).first()
    if key is None:
        raise NotFound("API key not found.")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def user_token_create(*, user: User, org: Organization | None = None) -> tuple[UserToken, str]:
    """Mint a bearer token acting as `user` in `org` (their first org when not given)."""
    membership_qs = Membership.objects.filter(user=user).select_related("org")
    membership = (
        membership_qs.filter(org=org).first() if org else membership_qs.order_by("created_at").first()
    )
    if membership is None:
        raise ApplicationError(
            f"{user.email} is not a member of {'that organization' if org else 'any organization'}."
        )
    raw = UserToken.PREFIX + secrets.token_urlsafe(32)
    token = UserToken.objects.create(
        user=user, org=membership.org, display_prefix=raw[:12], token_hash=secret_hash(raw)
    )
    return token, raw


def credential_touch(credential: ApiKey | UserToken) -> None:
    """Record last use, at most once a minute per credential (saves a write on every request)."""
    now = timezone.now()
    if credential.last_used_at is None or (now - credential.last_used_at).total_seconds() > 60:
        type(credential).objects.filter(pk=credential.pk).update(last_used_at=now)
        credential.last_used_at = now
