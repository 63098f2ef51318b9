"""The org admins' workspace pages: every workspace with its member and order counts and this
month's spend against its budget; one workspace's members and their roles, added, changed and
removed through the same project services as `projects.add_member|update_member|remove_member`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from geopera_web.errors import ApplicationError

from .decorators import role_required
from .models import Membership, Workspace, WorkspaceMember
from .selectors import workspace_get, workspace_list_with_counts, workspace_members
from .services import workspace_member_add, workspace_member_remove, workspace_member_update

ROLE_HELP = {
    WorkspaceMember.Role.ADMIN: "places, cancels and changes the workspace's orders",
    WorkspaceMember.Role.EDITOR: "places, cancels and changes the workspace's orders",
    WorkspaceMember.Role.VIEWER: "reads the workspace's orders; cannot place, cancel or change them",
}


def _budget_row(*, spent: int, budget: int | None) -> dict[str, Any]:
    return {
        "spent": spent,
        "budget": budget,
        "left": max(0, budget - spent) if budget is not None else None,
        "percent": min(100, round(spent * 100 / budget)) if budget else (100 if budget == 0 and spent else 0),
        "over": budget is not None and spent > budget,
    }


def _budgets(*, org: Any, workspaces: list[Workspace]) -> dict[Any, dict[str, Any]]:
    from orders.approvals.models import SpendPolicy
    from orders.approvals.services import workspaces_month_spent

    ids = [ws.pk for ws in workspaces]
    spent = workspaces_month_spent(org=org, workspace_ids=ids)
    budgets = dict(
        SpendPolicy.objects.filter(org=org, workspace_id__in=ids).values_list(
            "workspace_id", "monthly_budget_credits"
        )
    )
    return {ws_id: _budget_row(spent=spent.get(ws_id, 0), budget=budgets.get(ws_id)) for ws_id in ids}


@require_GET
@role_required("admin")
def workspaces(request: HttpRequest) -> HttpResponse:
    """Three queries whatever the number of workspaces: the list with counts, the month's spend,
    the budgets."""
    rows = list(workspace_list_with_counts(org=request.org, include_archived=True))
    money = _budgets(org=request.org, workspaces=rows)
    return render(
        request,
        "accounts/workspaces.html",
        {"workspaces": [{"ws": ws, "money": money[ws.pk]} for ws in rows]},
    )


def _workspace_or_404(request: HttpRequest, workspace_id: object) -> Workspace:
    ws = workspace_get(org=request.org, workspace_id=workspace_id)
    if ws is None:
        raise Http404
    return ws


@require_GET
@role_required("admin")
def workspace_detail(request: HttpRequest, workspace_id: object) -> HttpResponse:
    ws = _workspace_or_404(request, workspace_id)
    members = list(workspace_members(workspace=ws).order_by("user__email"))
    taken = {m.user_id for m in members}
    org_roles = dict(Membership.objects.filter(org=request.org).values_list("user_id", "role"))
    candidates = [
        m
        for m in Membership.objects.filter(org=request.org).select_related("user").order_by("user__email")
        if m.user_id not in taken
    ]
    return render(
        request,
        "accounts/workspace_detail.html",
        {
            "ws": ws,
            "members": [{"m": m, "org_role": org_roles.get(m.user_id, "")} for m in members],
            "candidates": candidates,
            "roles": WorkspaceMember.Role.choices,
            "role_help": ROLE_HELP,
            "money": _budgets(org=request.org, workspaces=[ws])[ws.pk],
            "order_count": ws.orders.count(),
        },
    )


def _refused(request: HttpRequest, workspace_id: object, exc: ApplicationError) -> HttpResponse:
    """A refused change (unknown person or role, already a member): the page again, saying why."""
    messages.error(request, exc.detail)
    return redirect("accounts:workspace", workspace_id=workspace_id)


def _manager(request: HttpRequest) -> dict[str, Any]:
    return {"org": request.org, "org_role": request.membership.role}


@require_POST
@role_required("admin")
def workspace_member_add_view(request: HttpRequest, workspace_id: object) -> HttpResponse:
    _workspace_or_404(request, workspace_id)
    try:
        member = workspace_member_add(
            **_manager(request),
            actor=request.user,
            workspace_id=workspace_id,
            user_id=request.POST.get("user_id", ""),
            role=request.POST.get("role") or WorkspaceMember.Role.EDITOR,
        )
    except ApplicationError as exc:
        return _refused(request, workspace_id, exc)
    messages.success(request, f"{member.user.email} added as {member.role}.")
    return redirect("accounts:workspace", workspace_id=workspace_id)


@require_POST
@role_required("admin")
def workspace_member_update_view(request: HttpRequest, workspace_id: object, user_id: int) -> HttpResponse:
    _workspace_or_404(request, workspace_id)
    try:
        member = workspace_member_update(
            **_manager(request),
            actor=request.user,
            workspace_id=workspace_id,
            user_id=user_id,
            role=request.POST.get("role", ""),
        )
    except ApplicationError as exc:
        return _refused(request, workspace_id, exc)
    messages.success(request, f"{member.user.email} is now {member.role}.")
    return redirect("accounts:workspace", workspace_id=workspace_id)


@require_POST
@role_required("admin")
def workspace_member_remove_view(request: HttpRequest, workspace_id: object, user_id: int) -> HttpResponse:
    _workspace_or_404(request, workspace_id)
    try:
        workspace_member_remove(
            **_manager(request), actor=request.user, workspace_id=workspace_id, user_id=user_id
        )
    except ApplicationError as exc:
        return _refused(request, workspace_id, exc)
    messages.success(request, "Removed from the workspace.")
    return redirect("accounts:workspace", workspace_id=workspace_id)
