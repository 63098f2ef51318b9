"""The series page of a recurring tasking request: its occurrences on a timeline (window, state,
coverage, a link to each child order) and Cancel series with its preview. Thin: `tasking.series`
reads and writes."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from geopera_web.accounts.decorators import org_required, role_required
from geopera_web.accounts.selectors import workspace_may_order
from geopera_web.errors import Conflict

from ..models import TaskingSeries
from ..series import (
    occurrence_label,
    series_cancel,
    series_cancel_preview,
    series_get,
    series_occurrences,
    series_price,
)


def _timeline_rows(series: TaskingSeries, occurrences: list, now) -> tuple[list[dict], dict]:
    """Each occurrence as a bar on one time axis (left/width in % of the series' span)."""
    first = occurrences[0].window_start if occurrences else now
    last = occurrences[-1].window_end if occurrences else now + timedelta(days=1)
    span = max((last - first).total_seconds(), 1.0)
    rows = []
    for occ in occurrences:
        words, tone = occurrence_label(occ, now=now)
        left = 100.0 * (occ.window_start - first).total_seconds() / span
        width = max(100.0 * (occ.window_end - occ.window_start).total_seconds() / span, 0.8)
        rows.append(
            {"occ": occ, "state": words, "tone": tone, "left": round(left, 2), "width": round(width, 2)}
        )
    now_pct = 100.0 * (now - first).total_seconds() / span
    axis = {"first": first, "last": last, "now": round(now_pct, 2) if 0 <= now_pct <= 100 else None}
    return rows, axis


@require_GET
@org_required
def series_page(request: HttpRequest, series_id: uuid.UUID) -> HttpResponse:
    series = series_get(org=request.org, series_id=series_id)
    now = timezone.now()
    occurrences = series_occurrences(series)
    rows, axis = _timeline_rows(series, occurrences, now)
    can_write = request.membership.role in ("admin", "operator") and workspace_may_order(
        workspace=series.parent.workspace, user=request.user
    )
    plan = None
    if can_write and series.state in (TaskingSeries.State.WAITING, TaskingSeries.State.RUNNING):
        _, plan = series_cancel_preview(org=request.org, series_id=series.pk, now=now)
    price, per_occurrence = series_price(series)
    return render(
        request,
        "tasking/series.html",
        {
            "series": series,
            "parent": series.parent,
            "rows": rows,
            "axis": axis,
            "plan": plan,
            # What the dialog shows is what the cancel may charge: a delivery landing meanwhile
            # makes the cancel a 409 with the new figures instead (as on the order page).
            "cancel_charged": plan.effect(series.parent.billing_mode).charged_credits if plan else 0,
            "can_write": can_write,
            "price": price,
            "per_occurrence": per_occurrence,
            "waiting": [o for o in occurrences if o.pending_quotation is not None],
            "done": sum(1 for o in occurrences if o.order_id and o.order.is_terminal),
        },
    )


@require_POST
@role_required("admin", "operator")
def series_cancel_view(request: HttpRequest, series_id: uuid.UUID) -> HttpResponse:
    expected = request.POST.get("expected_charge_credits", "")
    try:
        series, plan = series_cancel(
            org=request.org,
            actor=request.user,
            series_id=series_id,
            expected_charge_credits=int(expected) if expected.isdigit() else None,
        )
    except Conflict as exc:
        messages.warning(request, exc.detail)
        return redirect("tasking:series", series_id=series_id)
    messages.success(request, f"Series cancelled. {plan.done_sentence}")
    return redirect("tasking:series", series_id=series.pk)
