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
    prefs = feed_services.preferences_for(user=request.user)
    return render(request, "events/notifications.html", {"rows": rows, "prefs": prefs, **_pref_options()})


def _pref_options() -> dict:
    return {"email_modes": feed_services.EMAIL_MODES.items()}


@require_POST
@org_required
def preferences_save(request: HttpRequest) -> HttpResponse:
    """The preferences form: `in_app:<type>` (a checkbox) and `email:<type>` for each listed type;
    the caller's own preferences only (no user id is taken from the request)."""
    types = [k.split(":", 1)[1] for k in request.POST if k.startswith("email:")]
    choices = {
        t: feed_services.PreferenceChoice(
            in_app=request.POST.get(f"in_app:{t}") == "on", email=request.POST.get(f"email:{t}", "")
        )
        for t in types
    }
    errors: dict[str, str] = {}
    saved = False
    try:
        if not choices:
            raise ApplicationError("Nothing to save.")
        feed_services.preferences_set(user=request.user, choices=choices)
        saved = True
    except ApplicationError as exc:
        for e in exc.extra.get("errors") or [{"loc": ["form"], "msg": exc.detail}]:
            loc = e["loc"][0]
            if loc in feed_services.NOTIFIABLE:
                errors.setdefault(loc, e["msg"])
            else:  # not a row of the form: say it above it
                errors.setdefault("form", e["msg"] if loc == "form" else f"{loc}: {e['msg']}")
    prefs = feed_services.preferences_for(user=request.user)
    if errors:
        # Show what was submitted for the rows in error, not the stored values.
        for row in prefs:
            if (c := choices.get(row["event_type"])) is not None:
                row |= {"in_app": c.in_app, "email": c.email, "error": errors.get(row["event_type"], "")}
    if not request.htmx:
        if saved:
            messages.success(request, "Notification preferences saved.")
            return redirect("events:notifications")
        rows = feed_services.feed(user=request.user, org=request.org)[:100]
        context = {"rows": rows, "prefs": prefs, "pref_errors": errors, **_pref_options()}
        return render(request, "events/notifications.html", context, status=400)
    return render(
        request,
        "events/notifications.html#preferences",
        {"prefs": prefs, "pref_errors": errors, "pref_saved": saved, **_pref_options()},
        status=400 if errors else 200,
    )


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
