"""Small security helpers shared by the platform: who the client is (IP), and the production
refusals that run when the settings load."""

from __future__ import annotations

import ipaddress

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address. `REMOTE_ADDR` unless `TRUSTED_PROXY_COUNT` proxies sit in front, in
    which case the address that the outermost trusted proxy saw (counted from the right of
    `X-Forwarded-For`, so a client cannot choose its own address by sending that header)."""
    if request is None:
        return None
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "") or "")
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < proxies:
        return remote
    return _valid_ip(hops[-proxies]) or remote


def login_username(request: HttpRequest | None, credentials: dict | None = None) -> str | None:
    """The account a login attempt names, normalised the way users log in (case-insensitive email),
    so `Admin@x` and `admin@x` count against one account."""
    value = None
    if credentials:
        value = credentials.get("username") or credentials.get("email")
    if value is None and request is not None:
        value = request.POST.get("username")
    return value.strip().lower()[:255] if isinstance(value, str) and value.strip() else None


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' check, for every login that comes with a request (the login page, the admin's).
    A call without a request is server-side code (a management command, the test client's
    `login()`): nothing for a remote attacker to guess with, so it is not throttled."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
