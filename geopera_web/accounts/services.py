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
from django.db import transaction
from django.utils import timezone

from geopera_web.admin_policy import SUPPORT_GROUP, support_group_sync  # noqa: F401
from geopera_web.errors import ApplicationError, NotFound, parse_uuid

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
