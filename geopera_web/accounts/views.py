from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from geopera_web.errors import ApplicationError

from .decorators import role_required
from .forms import ApiKeyForm, EmailAuthenticationForm
from .middleware import SESSION_ORG_KEY
from .selectors import api_key_list, org_members
from .services import api_key_create, api_key_revoke


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


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
    key = api_key_revoke(org=request.org, key_id=key_id)
    if request.htmx:
        return render(request, "accounts/api_keys.html#key-row", {"key": key})
    messages.success(request, f"Revoked {key.name}.")
    return redirect("accounts:api_keys")
