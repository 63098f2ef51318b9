"""The notifications page (and the bell's count) and the Webhooks settings page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from geopera_web.accounts.decorators import org_required, role_required
from geopera_web.accounts.models import Workspace
from geopera_web.errors import ApplicationError, InvalidInput, parse_uuid
from orders.catalog.models import OrderType

from . import notifications as feed_services
from .models import EventSubscription, WebhookDelivery
from .registry import EVENT_TYPES
from .webhooks import (
    deliveries_replay,
    subscription_create,
    subscription_delete,
    subscription_get,
    subscription_rotate_secret,
    subscription_test,
    subscription_update,
)


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


# --- Settings → Webhooks (org admins only, like API keys: everyone else gets a 403) -----------------

LOG_PAGE_SIZE = 25


def _headers_from_text(text: str) -> dict[str, str]:
    """`Name: value`, one a line (what the form's textarea holds)."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise InvalidInput(f"Write each header as “Name: value” (not {line[:60]!r}).")
        out[name.strip()] = value.strip()
    return out


def _headers_to_text(headers: dict[str, str]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in (headers or {}).items())


def _filter_from_post(request: HttpRequest) -> dict[str, str]:
    out: dict[str, str] = {}
    workspace_id = request.POST.get("workspace_id", "").strip()
    if workspace_id:
        pk = parse_uuid(workspace_id)
        if pk is None or not Workspace.objects.filter(org=request.org, pk=pk).exists():
            raise InvalidInput("Choose one of this organization's workspaces.")
        out["workspace_id"] = workspace_id
    order_type = request.POST.get("order_type", "").strip()
    if order_type:
        if order_type not in OrderType.values:
            raise InvalidInput(f"Order type is one of: {', '.join(OrderType.values)}.")
        out["order_type"] = order_type
    return out


def _form_fields(request: HttpRequest) -> dict[str, Any]:
    return {
        "event_type": request.POST.get("event_type", ""),
        "endpoint_url": request.POST.get("endpoint_url", "").strip(),
        "description": request.POST.get("description", ""),
        "filter_config": _filter_from_post(request),
        "headers": _headers_from_text(request.POST.get("headers", "")),
    }


def _initial(request: HttpRequest, sub: EventSubscription | None, *, posted: bool) -> dict[str, str]:
    """What the form shows: what was posted (after an error), else the saved subscription."""
    if posted:
        keys = ("event_type", "endpoint_url", "workspace_id", "order_type", "headers", "description")
        return {k: request.POST.get(k, "") for k in keys}
    if sub is None:
        return {}
    f = sub.filter_config or {}
    return {
        "event_type": sub.event_type,
        "endpoint_url": sub.endpoint_url,
        "workspace_id": str(f.get("workspace_id", "")),
        "order_type": str(f.get("order_type", "")),
        "headers": _headers_to_text(sub.headers),
        "description": sub.description,
    }


def _form_choices(request: HttpRequest) -> dict[str, Any]:
    return {
        "event_types": ["*", *EVENT_TYPES],
        "workspaces": Workspace.objects.filter(org=request.org, is_archived=False).only("id", "name")[:200],
        "order_types": OrderType.choices,
    }


@require_http_methods(["GET", "POST"])
@role_required("admin")
def webhooks_page(request: HttpRequest) -> HttpResponse:
    new_secret = error = None
    if request.method == "POST":
        try:
            sub = subscription_create(org=request.org, actor=request.user, **_form_fields(request))
            new_secret = sub.secret
            messages.success(request, "Subscription created. Copy its signing secret now: it is shown once.")
        except ApplicationError as exc:
            error = exc.detail
    since = timezone.now() - timedelta(hours=24)
    subs = EventSubscription.objects.filter(org=request.org).annotate(
        last_delivery_at=Max("deliveries__created_at"),
        failed_24h=Count(
            "deliveries",
            filter=Q(deliveries__created_at__gte=since, deliveries__status=WebhookDelivery.Status.FAILED),
        ),
    )[:200]
    return render(
        request,
        "events/webhooks.html",
        {
            "subs": subs,
            "new_secret": new_secret,
            "error": error,
            "initial": _initial(request, None, posted=bool(error)),
        }
        | _form_choices(request),
        status=400 if error else 200,
    )


def _log_context(request: HttpRequest, sub: EventSubscription) -> dict[str, Any]:
    """One page of the delivery log, newest first: a count and one page of rows with their event."""
    qs = (
        WebhookDelivery.objects.filter(subscription=sub)
        .select_related("event")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(qs, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return {"sub": sub, "page": page, "deliveries": page.object_list}


def _detail(
    request: HttpRequest,
    sub: EventSubscription,
    *,
    error: str | None = None,
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    return render(
        request,
        "events/webhook_detail.html",
        {
            **_log_context(request, sub),
            "error": error,
            "initial": _initial(request, sub, posted=bool(error)),
            "now": timezone.now(),
            **(extra or {}),
        }
        | _form_choices(request),
        status=status,
    )


@require_GET
@role_required("admin")
def webhook_detail(request: HttpRequest, pk: str) -> HttpResponse:
    return _detail(request, subscription_get(org=request.org, subscription_id=pk))


@require_GET
@role_required("admin")
def webhook_log(request: HttpRequest, pk: str) -> HttpResponse:
    sub = subscription_get(org=request.org, subscription_id=pk)
    if not request.htmx:
        return _detail(request, sub)
    return render(request, "events/webhook_detail.html#log", _log_context(request, sub))


@require_POST
@role_required("admin")
def webhook_edit(request: HttpRequest, pk: str) -> HttpResponse:
    sub = subscription_get(org=request.org, subscription_id=pk)
    try:
        subscription_update(org=request.org, subscription_id=sub.pk, **_form_fields(request))
    except ApplicationError as exc:
        return _detail(request, sub, error=exc.detail, status=400)
    messages.success(request, "Subscription saved.")
    return redirect("events:webhook", pk=sub.pk)


@require_POST
@role_required("admin")
def webhook_active(request: HttpRequest, pk: str) -> HttpResponse:
    """Pause (active=0) or re-enable (active=1; a disabled endpoint starts again from 0 failures)."""
    sub = subscription_update(org=request.org, subscription_id=pk, active=request.POST.get("active") == "1")
    if request.htmx:
        return render(request, "events/webhook_detail.html#state", {"sub": sub})
    messages.success(request, "Subscription enabled." if sub.active else "Subscription paused.")
    return redirect("events:webhook", pk=sub.pk)


@require_POST
@role_required("admin")
def webhook_delete(request: HttpRequest, pk: str) -> HttpResponse:
    sub = subscription_get(org=request.org, subscription_id=pk)
    subscription_delete(org=request.org, subscription_id=sub.pk)
    messages.success(request, f"Deleted the subscription to {sub.endpoint_url}.")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("events:webhooks")
        return response
    return redirect("events:webhooks")


@require_POST
@role_required("admin")
def webhook_test(request: HttpRequest, pk: str) -> HttpResponse:
    """A real signed `ping`, attempted in this request; the result shows in place."""
    d = subscription_test(org=request.org, subscription_id=pk)
    if request.htmx:
        response = render(request, "events/webhook_detail.html#test-result", {"test": d})
        response["HX-Trigger"] = "wh-log-changed"  # the log below shows the new delivery
        return response
    return _detail(request, d.subscription, extra={"test": d})


@require_POST
@role_required("admin")
def webhook_rotate(request: HttpRequest, pk: str) -> HttpResponse:
    try:
        overlap = float(request.POST.get("overlap_hours") or 24)
    except ValueError:
        raise InvalidInput("The overlap is a number of hours.") from None
    if not 0 <= overlap <= 24 * 30:
        raise InvalidInput("The overlap is between 0 and 720 hours.")
    sub, secret = subscription_rotate_secret(org=request.org, subscription_id=pk, overlap_hours=overlap)
    if request.htmx:
        return render(request, "events/webhook_detail.html#rotated", {"sub": sub, "new_secret": secret})
    return _detail(request, sub, extra={"new_secret": secret})


def _when(value: str, name: str) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidInput(f"{name} is a date and time (YYYY-MM-DDTHH:MM).")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _after_replay(request: HttpRequest, sub: EventSubscription, count: int) -> HttpResponse:
    note = (
        f"Queued {count} replay{'s' if count != 1 else ''}." if count else "Nothing to replay in that range."
    )
    if request.htmx:
        request.GET = request.GET.copy()
        request.GET["page"] = "1"
        return render(
            request, "events/webhook_detail.html#log", {**_log_context(request, sub), "log_note": note}
        )
    messages.success(request, note)
    return redirect("events:webhook", pk=sub.pk)


@require_POST
@role_required("admin")
def webhook_replay_one(request: HttpRequest, pk: str, delivery_pk: str) -> HttpResponse:
    sub = subscription_get(org=request.org, subscription_id=pk)
    copies = deliveries_replay(org=request.org, subscription_id=sub.pk, delivery_id=delivery_pk)
    return _after_replay(request, sub, len(copies))


@require_POST
@role_required("admin")
def webhook_replay_range(request: HttpRequest, pk: str) -> HttpResponse:
    sub = subscription_get(org=request.org, subscription_id=pk)
    since = _when(request.POST.get("since", ""), "From")
    until = _when(request.POST.get("until", ""), "Until")
    if since is None:
        raise InvalidInput("Give the start of the range to replay.")
    if until is not None and until <= since:
        raise InvalidInput("The end of the range comes after its start.")
    copies = deliveries_replay(org=request.org, subscription_id=sub.pk, since=since, until=until)
    return _after_replay(request, sub, len(copies))
