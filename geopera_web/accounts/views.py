from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from geopera_web.errors import ApplicationError
from geopera_web.security import client_ip

from .decorators import role_required
from .forms import ApiKeyForm, EmailAuthenticationForm, UserTokenForm
from .middleware import SESSION_ORG_KEY
from .selectors import api_key_list, org_members, user_token_list
from .services import api_key_create, api_key_revoke, user_token_create, user_token_revoke

logger = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def login_locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' lockout response: the login page again, saying why and for how long (429)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = EmailAuthenticationForm(request, data=None, initial={"username": request.POST.get("username", "")})
    message = (
        f"Too many failed sign-ins for this account or from your network: signing in is locked for "
        f"{minutes} minutes. Try again later, or ask support to unlock your account."
    )
    logger.warning("login locked out ip=%s", client_ip(request))
    return render(
        request,
        "accounts/login.html",
        {"form": form, "locked_out": message, "next": request.POST.get("next", "")},
        status=429,
    )


@require_POST
def switch_org(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    wanted = request.POST.get("org_id", "")
    membership = next((m for m in request.memberships if str(m.org_id) == wanted), None)
    if membership is None:
        messages.error(request, "You are not a member of that organization.")
    else:
        request.session[SESSION_ORG_KEY] = str(membership.org_id)
        messages.success(request, f"Now working in {membership.org.name}.")
    target = request.POST.get("next") or reverse("dashboard")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("dashboard")
    return redirect(target)


@require_GET
@role_required("admin")
def api_keys(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/api_keys.html",
        {
            "keys": api_key_list(org=request.org),
            "form": ApiKeyForm(),
            "members": org_members(org=request.org),
        },
    )


@require_POST
@role_required("admin")
def api_key_new(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    raw = None
    if form.is_valid():
        try:
            _, raw = api_key_create(
                org=request.org,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                actor=request.user,
                rate_limit=form.cleaned_data.get("rate_limit"),
                expires_in_days=form.cleaned_data.get("expires_in_days"),
            )
            form = ApiKeyForm()
        except ApplicationError as exc:
            form.add_error(None, exc.detail)
    return render(
        request,
        "accounts/api_keys.html",
        {
            "keys": api_key_list(org=request.org),
            "form": form,
            "new_key": raw,
            "members": org_members(org=request.org),
        },
        status=200 if raw or form.is_valid() else 400,
    )


@require_POST
@role_required("admin")
def api_key_delete(request: HttpRequest, key_id: str) -> HttpResponse:
    key = api_key_revoke(org=request.org, key_id=key_id, actor=request.user)
    if request.htmx:
        return render(request, "accounts/api_keys.html#key-row", {"key": key})
    messages.success(request, f"Revoked {key.name}.")
    return redirect("accounts:api_keys")


# --- the user's own tokens -------------------------------------------------------------------------


def _tokens_page(request: HttpRequest, *, form: UserTokenForm, new_token: str | None, status: int = 200):
    return render(
        request,
        "accounts/tokens.html",
        {"tokens": user_token_list(user=request.user), "form": form, "new_token": new_token},
        status=status,
    )


@require_GET
@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    return _tokens_page(request, form=UserTokenForm(), new_token=None)


@require_POST
@login_required
def token_new(request: HttpRequest) -> HttpResponse:
    form = UserTokenForm(request.POST)
    raw = None
    if request.org is None:
        form.add_error(None, "You are not a member of any organization, so a token could act nowhere.")
    elif form.is_valid():
        try:
            _, raw = user_token_create(
                user=request.user,
                org=request.org,
                name=form.cleaned_data["name"],
                ttl_days=form.cleaned_data["days"],
            )
            form = UserTokenForm()
        except ApplicationError as exc:
            form.add_error(None, exc.detail)
    return _tokens_page(request, form=form, new_token=raw, status=200 if raw else 400)


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_id: str) -> HttpResponse:
    token = user_token_revoke(user=request.user, token_id=token_id)
    if request.htmx:
        return render(request, "accounts/tokens.html#token-row", {"token": token})
    messages.success(request, f"Revoked token {token.display_prefix}….")
    return redirect("accounts:tokens")
