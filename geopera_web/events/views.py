"""The notifications page (and the bell's count) and the Webhooks settings page."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from geopera_web.accounts.decorators import org_required, role_required
from geopera_web.errors import ApplicationError

from . import notifications as feed_services
from .models import EventSubscription, WebhookDelivery
from .registry import EVENT_TYPES
from .webhooks import subscription_create


@require_GET
@org_required
def notifications_page(request: HttpRequest) -> HttpResponse:
    rows = feed_services.feed(user=request.user, org=request.org)[:100]
    return render(request, "events/notifications.html", {"rows": rows})


@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The bell, polled by every page: rendered without the layout's context processors (no
    wallet, no badges), so the poll costs the session, the user, the membership and one count.
    A poll whose session ended gets htmx's "stop polling" (286) instead of the login page."""
    if request.htmx and not request.user.is_authenticated:
        return HttpResponse(status=286)
    return _bell(request)


@org_required
def _bell(request: HttpRequest) -> HttpResponse:
    count = feed_services.unread_count(user=request.user, org=request.org)
    response = HttpResponse(render_to_string("events/_bell.html", {"count": count}))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@org_required
def notification_action(request: HttpRequest, action: str, pk: str | None = None) -> HttpResponse:
    try:
        if action == "read-all":
            feed_services.mark_all_read(user=request.user, org=request.org)
        elif action == "read":
            n = feed_services.mark_read(user=request.user, org=request.org, notification_id=pk)
            if request.POST.get("open") and n.link.startswith("/"):
                return redirect(n.link)
        elif action == "dismiss":
            feed_services.dismiss(user=request.user, org=request.org, notification_id=pk)
    except ApplicationError:
        return HttpResponse("No such notification.", status=404)
    return redirect("events:notifications")


@role_required("admin")
def webhooks_page(request: HttpRequest) -> HttpResponse:
    new_secret = None
    if request.method == "POST":
        try:
            sub = subscription_create(
                org=request.org,
                actor=request.user,
                event_type=request.POST.get("event_type", ""),
                endpoint_url=request.POST.get("endpoint_url", "").strip(),
                description=request.POST.get("description", ""),
            )
            new_secret = sub.secret
            messages.success(request, "Subscription created. Copy its signing secret now: it is shown once.")
        except ApplicationError as exc:
            messages.error(request, str(exc))
    subs = EventSubscription.objects.filter(org=request.org).prefetch_related(
        Prefetch(
            "deliveries", queryset=WebhookDelivery.objects.select_related("event").order_by("-created_at")
        )
    )
    return render(
        request,
        "events/webhooks.html",
        {"subs": subs, "event_types": ["*", *EVENT_TYPES], "new_secret": new_secret},
        status=400 if request.method == "POST" and new_secret is None else 200,
    )
