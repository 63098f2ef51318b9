"""The unified inbox of pending decisions (every registered decision kind: feasibility studies,
quotations, spend approvals), decided in place with htmx. Thin: the decide services hold every
rule (409/410/402 come back as the row's error).

A page is one statement (`orders.inbox.decisions_page`): the rows with their payloads, the counts,
the badges, the wallet and the workspaces, paged by a signed keyset cursor (`?after=`). The page does not re-render itself to stay fresh: a small region polls
`inbox_fresh`, which only counts (how many arrived since the newest row shown, and the badge)."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from geopera_web.accounts.decorators import org_required, role_required
from geopera_web.accounts.models import Membership, Role, User
from geopera_web.accounts.navigation import badge_querysets, badges_known
from geopera_web.accounts.selectors import workspace_list
from geopera_web.billing.models import Wallet
from geopera_web.billing.selectors import request_wallet
from geopera_web.errors import ApplicationError, InvalidInput, NotFound
from orders.approvals.services import approval_decide, approval_get
from orders.inbox import Decision, decisions_newer_count, inbox_kind_slugs

from ..feasibility import window_of
from ..models import FeasibilityStudy
from ..selectors import (
    decisions_pending,
    pending_decision_count,
    quotation_get,
    study_get,
)
from ..services import (
    feasibility_decide,
    quotation_decide,
    study_reject,
)
from .common import aoi_geojson, order_path, sensor_of


def _window_text(params: dict[str, Any]) -> tuple[Any, Any]:
    return window_of(params)


def _option_rows(study: FeasibilityStudy) -> list[dict[str, Any]]:
    """Options side by side, with the cells that differ between options flagged (and the best)."""
    options = list(study.options.all())
    prices = [o.price_credits for o in options]
    windows = [(o.window_start, o.window_end) for o in options]
    angles = [o.max_off_nadir for o in options]
    captures = [o.expected_captures for o in options]
    priced = [p for p in prices if p is not None]
    rows = []
    for o in options:
        rows.append(
            {
                "option": o,
                "diff_price": len(set(prices)) > 1,
                "best_price": o.price_credits is not None
                and len(priced) > 1
                and o.price_credits == min(priced),
                "diff_window": len(set(windows)) > 1,
                "diff_angle": len(set(angles)) > 1,
                "best_angle": len(set(angles)) > 1 and o.max_off_nadir == min(angles),
                "diff_captures": len(set(captures)) > 1,
            }
        )
    return rows


def _spend_text(org: Any, credits: int | None, wallet: Any) -> dict[str, Any]:
    """What accepting will do to the org's money, said exactly (credits, A$, the wallet after)."""
    if credits is None:
        return {"credits": None, "text": "Nothing is charged now: support will send a quotation to accept."}
    aud = f"A${credits / 100:,.2f}"
    if org.billing_mode == "credit":
        after = wallet.available_credits - credits
        text = (
            f"Reserves {credits:,} credits ({aud}) from your wallet. Available after: {after:,} credits "
            f"(A${after / 100:,.2f})."
        )
        return {"credits": credits, "text": text, "short": after < 0}
    if org.billing_mode == "card":
        return {"credits": credits, "text": f"Authorizes {aud} ({credits:,} credits) on the card on file."}
    return {"credits": credits, "text": f"Adds {aud} ({credits:,} credits) to this month's invoice."}


def _row_context(
    request: HttpRequest, item: Decision, *, wallet: Any = None, admins: list[str] | None = None
):
    obj, order = item.obj, item.obj.order
    wallet = wallet or request_wallet(request)
    start, end = _window_text(order.params or {})
    can_decide = request.membership.role == Role.ADMIN
    if admins is None:
        admins = [] if can_decide else _admin_names(request.org)  # only shown to those who cannot act
    ctx: dict[str, Any] = {
        "item": item,
        "obj": obj,
        "order": order,
        **_aoi_context(obj, order),
        # Approvals do not show the sensor (an archive order has none).
        "sensor": sensor_of(order) if item.kind != "approval" else None,
        "window_start": start,
        "window_end": end,
        "order_path": order_path(order),
        "can_decide": can_decide,
        "admins": admins,
    }
    if item.kind == "approval":
        ctx["spend"] = _spend_text(request.org, obj.credits, wallet)
    elif item.kind == "feasibility":
        ctx["options"] = _option_rows(obj)
        for row in ctx["options"]:
            row["spend"] = _spend_text(request.org, row["option"].price_credits, wallet)
    else:
        ctx["spend"] = _spend_text(request.org, obj.credits, wallet)
    return ctx


def _aoi_context(obj: Any, order: Any) -> dict[str, Any]:
    """The mini-map's GeoJSON and the number of areas: built by PostGIS when the row came from an
    inbox page (`inbox_aoi_features`), else from the order's groups (a row just decided)."""
    features = getattr(obj, "inbox_aoi_features", None)
    if features is None and hasattr(obj, "inbox_aoi_features"):
        features = []
    if features is None:
        return {"aoi_geojson": aoi_geojson(order), "areas": len(order.groups.all())}
    return {
        "aoi_geojson": json.dumps({"type": "FeatureCollection", "features": features}),
        "areas": len(features),
    }


def _admin_names(org: Any) -> list[str]:
    return [
        m.user.display_name if hasattr(m.user, "display_name") else str(m.user)
        for m in Membership.objects.filter(org=org, role=Role.ADMIN).select_related("user")
    ]


PAGE_SIZE = 10


def request_pending_count(request: HttpRequest) -> int:
    """Every waiting decision of the org, counted once per request (the badge shows it too)."""
    count = getattr(request, "_inbox_pending_count", None)
    if count is None:
        count = request._inbox_pending_count = pending_decision_count(org=request.org)  # type: ignore[attr-defined]
    return count


def _filters(request: HttpRequest) -> tuple[str, str]:
    kind = request.GET.get("kind", "")
    return (kind if kind in inbox_kind_slugs() else ""), request.GET.get("workspace", "")


def _inbox_context(request: HttpRequest, *, full_page: bool) -> dict[str, Any]:
    """The inbox page in one statement (besides the session, user and membership every page reads):
    the page's rows with their payloads, the filtered count, every navigation badge, the wallet,
    the admins' names (for those who cannot decide) and, for the whole page, the workspaces."""
    kind, workspace = _filters(request)
    after = request.GET.get("after", "")
    filters = {"workspace_id": workspace or None, "kinds": kind or None}
    can_decide = request.membership.role == Role.ADMIN
    extra_rows: dict[str, Any] = {"wallet": Wallet.objects.filter(org=request.org)}
    if not can_decide:  # only shown to those who cannot act
        extra_rows["admins"] = User.objects.filter(
            memberships__org=request.org, memberships__role=Role.ADMIN
        ).order_by("id")
    if full_page:
        extra_rows["workspaces"] = workspace_list(org=request.org)
    filtered = bool(kind or workspace)
    badges = badge_querysets(request)
    badges.pop("inbox", None)  # the page's own count (unfiltered) is that badge
    more = {
        "with_total": True,
        "with_total_all": filtered,
        "extra_counts": badges,
        "extra_rows": extra_rows,
        **filters,
    }
    cursor_error = ""
    try:
        page = decisions_pending(org=request.org, size=PAGE_SIZE, cursor=after or None, **more)
    except (InvalidInput, NotFound):
        if not after:
            raise
        # A damaged or forged link (a cursor this server did not issue): say so, show the newest.
        cursor_error = "That page link is not valid (it may be damaged); here are the newest decisions."
        after = ""
        page = decisions_pending(org=request.org, size=PAGE_SIZE, **more)
    total = page.total_all if filtered else page.total
    if total is None:  # (a workspace filter that names no workspace: nothing was counted)
        total = request_pending_count(request)
    badges_known(request, {**page.counts, "inbox": total})
    request._inbox_pending_count = total  # type: ignore[attr-defined]
    if page.extra["wallet"]:
        request._active_wallet = page.extra["wallet"][0]  # type: ignore[attr-defined]
    wallet = request_wallet(request)  # (made here, once, when the org has none yet)
    admins = [u.display_name for u in page.extra.get("admins", [])]
    query = [(k, v) for k, v in (("kind", kind), ("workspace", workspace)) if v]
    # The "new decisions" notice counts what arrived after the newest row this page has seen.
    since = page.rows[0].created_at if page.rows and not after else timezone.now()
    return {
        "page": page,
        "rows": [_row_context(request, item, wallet=wallet, admins=admins) for item in page.rows],
        "admins": admins,
        "kind": kind,
        "workspace": workspace,
        "kinds": inbox_kind_slugs(),
        "after": after,
        "cursor_error": cursor_error,
        "count": page.total,
        "pending_count": total,
        "workspaces": page.extra.get("workspaces", []),
        "query": urlencode(query),
        "next_query": urlencode([*query, ("after", page.next_cursor)]) if page.next_cursor else "",
        "fresh_query": urlencode([*query, ("since", since.isoformat())]),
    }


def decisions_pending_count_filtered(
    request: HttpRequest, *, total: int, workspace_id: str | None, kinds: str | None
) -> int:
    if not workspace_id and not kinds:
        return total
    return pending_decision_count(org=request.org, workspace_id=workspace_id, kinds=kinds)


@require_GET
@org_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Every waiting decision of the org, newest first, a page at a time; htmx swaps the list
    region for filters and paging."""
    list_only = bool(request.htmx and request.htmx.target == "inbox-list")
    context = _inbox_context(request, full_page=not list_only)
    status = 400 if context["cursor_error"] else 200
    if list_only:
        return render(request, "tasking/inbox.html#list", context, status=status)
    return render(request, "tasking/inbox.html", context, status=status)


def _fragment(template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """A polled fragment rendered without the layout's context processors (no wallet, no badges):
    the poll costs only the counts it shows."""
    return HttpResponse(render_to_string(template, context), status=status)


@require_GET
@org_required
def inbox_badge(request: HttpRequest) -> HttpResponse:
    return _fragment("tasking/_inbox_badge.html", {"count": request_pending_count(request)})


@require_GET
@org_required
def inbox_fresh(request: HttpRequest) -> HttpResponse:
    """What the open inbox polls: how many decisions arrived after the newest one it shows (under
    its filters), the filtered count and the badge. Counts only: the list is fetched when the
    person asks for it."""
    kind, workspace = _filters(request)
    since = parse_datetime(request.GET.get("since", "") or "")
    if since is None or since.tzinfo is None:
        return HttpResponse("`since` must be an ISO 8601 time with a zone.", status=400)
    filters = {"workspace_id": workspace or None, "kinds": kind or None}
    total = request_pending_count(request)
    query = [(k, v) for k, v in (("kind", kind), ("workspace", workspace)) if v]
    context = {
        "new": decisions_newer_count(org=request.org, since=since, **filters),
        "count": decisions_pending_count_filtered(request, total=total, **filters),
        "pending_count": total,
        "kind": kind,
        "workspace": workspace,
        "query": urlencode(query),
        "fresh_query": urlencode([*query, ("since", since.isoformat())]),
        "oob": True,
    }
    return _fragment("tasking/_inbox_fresh.html", context)


def _page_filters(request: HttpRequest) -> tuple[str, str]:
    """The kind and workspace filters of the inbox page a decision was made on (htmx sends its URL)."""
    query = parse_qs(urlsplit(request.headers.get("HX-Current-URL", "")).query)
    kind = (query.get("kind") or [""])[0]
    workspace = (query.get("workspace") or [""])[0]
    try:
        workspace = str(uuid.UUID(workspace)) if workspace else ""
    except ValueError:
        workspace = ""
    return (kind if kind in inbox_kind_slugs() else ""), workspace


def _decided_row(request: HttpRequest, kind: str, obj: Any, *, error: ApplicationError | None = None):
    obj.refresh_from_db()
    obj.order.refresh_from_db()
    total = request_pending_count(request)
    page_kind, page_workspace = _page_filters(request)
    context = {
        "r": _row_context(request, Decision(kind, obj)),
        "error": error,
        "wallet": request_wallet(request),
        "pending_count": total,
        # The inbox page's own count ("3 pending decisions", maybe filtered) follows the decision too.
        "filtered_count": decisions_pending_count_filtered(
            request, total=total, workspace_id=page_workspace or None, kinds=page_kind or None
        ),
        "page_kind": page_kind,
        "page_workspace": page_workspace,
    }
    return render(request, "tasking/_inbox_decided.html", context, status=error.status if error else 200)


@require_POST
@role_required("admin")
def inbox_study_accept(request: HttpRequest, study_id: str) -> HttpResponse:
    study = study_get(org=request.org, study_id=study_id)
    try:
        study = feasibility_decide(
            org=request.org, actor=request.user, study_id=study.id, option_id=request.POST.get("option_id")
        )
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        return _decided_row(request, "feasibility", study, error=exc)
    return _decided_row(request, "feasibility", study)


@require_POST
@role_required("admin")
def inbox_study_reject(request: HttpRequest, study_id: str) -> HttpResponse:
    study = study_get(org=request.org, study_id=study_id)
    try:
        study = study_reject(org=request.org, actor=request.user, study_id=study.id)
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        return _decided_row(request, "feasibility", study, error=exc)
    return _decided_row(request, "feasibility", study)


@require_POST
@role_required("admin")
def inbox_quotation_decide(request: HttpRequest, quotation_id: str) -> HttpResponse:
    quotation = quotation_get(org=request.org, quotation_id=quotation_id)
    try:
        quotation = quotation_decide(
            org=request.org,
            actor=request.user,
            quotation_id=quotation.id,
            decision=request.POST.get("decision", ""),
        )
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        return _decided_row(request, "quotation", quotation, error=exc)
    return _decided_row(request, "quotation", quotation)


@require_POST
@role_required("admin")
def inbox_approval_decide(request: HttpRequest, approval_id: str) -> HttpResponse:
    """Approve (the original spend runs now, at the price shown) or reject (with a reason) a spend
    approval, in place; a refusal (409 price changed, 402 budget or wallet, 410 expired) comes back
    as the row's error and the request stays as it is."""
    approval = approval_get(org=request.org, approval_id=approval_id)
    try:
        approval = approval_decide(
            org=request.org,
            actor=request.user,
            approval_id=approval.id,
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", ""),
        )
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        return _decided_row(request, "approval", approval, error=exc)
    return _decided_row(request, "approval", approval)
