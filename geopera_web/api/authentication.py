"""Who is calling the API, and in which org.

- `Authorization: Bearer gpra_…` or `X-API-Key: gpra_…`: an org's API key (its own scopes);
- `Authorization: Bearer gput_…`: a user token, acting as its user in one org (the role's scopes);
- the dashboard's own calls: the browser session, with CSRF, in the session's active org.

Each class returns `(user_or_None, Principal)`; `request.auth` is then the Principal.
"""

from __future__ import annotations

from rest_framework import authentication, exceptions

from geopera_web.accounts.models import ApiKey, Membership, UserToken
from geopera_web.accounts.selectors import api_key_authenticate, user_token_authenticate
from geopera_web.accounts.services import credential_touch

from .registry import Principal


def _bearer(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


class _BearerRealm:
    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 when credentials are missing.
        return 'Bearer realm="geopera"'


class ApiKeyAuthentication(_BearerRealm, authentication.BaseAuthentication):
    principal_kind = "api_key"

    def authenticate(self, request):
        raw = request.META.get("HTTP_X_API_KEY", "").strip() or None
        bearer = _bearer(request)
        if raw is None and bearer and bearer.startswith(ApiKey.PREFIX):
            raw = bearer
        if raw is None:
            return None
        key = api_key_authenticate(raw=raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        if key.is_expired:
            raise exceptions.AuthenticationFailed(
                f"This API key expired on {key.expires_at:%Y-%m-%d %H:%M} UTC. An org admin can mint a new one."
            )
        credential_touch(key)
        return (None, Principal(org=key.org, scopes=frozenset(key.scopes), api_key=key))


class UserTokenAuthentication(_BearerRealm, authentication.BaseAuthentication):
    principal_kind = "user_token"

    def authenticate(self, request):
        raw = _bearer(request)
        if raw is None:
            return None
        if not raw.startswith(UserToken.PREFIX):
            raise exceptions.AuthenticationFailed("Unrecognised bearer token.")
        token = user_token_authenticate(raw=raw)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if token.is_expired:
            raise exceptions.AuthenticationFailed(
                f"This token expired on {token.effective_expires_at:%Y-%m-%d %H:%M} UTC. Create a new one "
                "on your Tokens page (/settings/tokens/) or with `manage.py create_token`."
            )
        role = token.member_role  # type: ignore[attr-defined]  (annotated: same query as the token)
        membership = None if role is None else Membership(user=token.user, org=token.org, role=role)
        if membership is None:
            raise exceptions.AuthenticationFailed(
                "This token's user is no longer a member of its organization."
            )
        credential_touch(token)
        return (
            token.user,
            Principal(org=token.org, scopes=membership.scopes, user=token.user, role=membership.role),
        )


class CsrfSessionAuthentication(_BearerRealm, authentication.SessionAuthentication):
    """The browser session (CSRF enforced), in the org the middleware chose for this request."""

    principal_kind = "session"

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, _ = result
        membership = getattr(request._request, "membership", None)
        if membership is None:
            raise exceptions.PermissionDenied("You are not a member of any organization.")
        return (
            user,
            Principal(org=membership.org, scopes=membership.scopes, user=user, role=membership.role),
        )
