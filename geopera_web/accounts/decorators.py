"""View guards shared by every app's pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def org_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in and a member of an org (`request.org` set); staff without one see why not."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.org is None:
            return render(request, "accounts/no_org.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def role_required(*roles: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @org_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.membership.role not in roles:
                raise PermissionDenied(f"Only {' or '.join(roles)} members can do this.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Support staff (`is_staff`) only; everyone else gets a 404, as if the page did not exist."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_staff:
            from django.http import Http404

            raise Http404
        return view(request, *args, **kwargs)

    return wrapped
