"""Writes of spend policies and approvals, and the two checks every spend path runs inside its
own transaction, before it secures the money:

    if approval_required(org=..., workspace=..., actor=..., credits=...):
        ...create the order/keep the decision pending, approval_request(...), return
    budget_enforce(org=..., workspace=..., credits=...)   # locks the workspace's policy row
    charge_authorize(...)

Lock order (with the rest of the code base): the decision row (quotation, study, approval), then
the workspace's SpendPolicy row (`budget_enforce`), then the wallet (`charge_authorize`), then the
order. A tasking acceptance locks its order right after the decision row (a series cancel holds an
occurrence's order while it needs the wallet). The policy row is held until the spend commits, so concurrent spends of one workspace count
the month one after the other (READ COMMITTED: each count sees every spend committed before it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Case, F, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from geopera_web.accounts.models import Membership, Organization, Role, Workspace
from geopera_web.accounts.selectors import workspace_get
from geopera_web.actor import Actor, ActorLike, actor_of
from geopera_web.audit.services import audit_record
from geopera_web.billing.models import Charge
from geopera_web.errors import Conflict, InvalidInput, NotFound, PaymentRequired, PermissionDenied, parse_uuid

from ..decisions import decision_ensure_open, decision_transition
from ..events import event_approval_requested
from ..models import Order
from .models import DEFAULT_APPROVAL_TTL_HOURS, BudgetWarning, SpendApproval, SpendPolicy
from .notify import spend_notify

WARNING_LEVELS = (80, 100)
# The approval whose action `approval_decide` is performing (its own decision must not close it).
_PERFORMING: ContextVar[Any] = ContextVar("approval_performing", default=None)


# --- reading the policy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectivePolicy:
    threshold: int | None  # the workspace's threshold, else the org's
    threshold_source: str  # "workspace" | "organization" | ""
    budget: int | None
    ttl_hours: int


def policy_effective(*, org: Organization, workspace: Workspace) -> EffectivePolicy:
    # One query: the org row (workspace null) and this workspace's row.
    rows = {
        p.workspace_id: p
        for p in SpendPolicy.objects.filter(org=org).filter(
            models.Q(workspace__isnull=True) | models.Q(workspace=workspace)
        )
    }
    org_row, ws_row = rows.get(None), rows.get(workspace.pk)
    if ws_row is not None and ws_row.approval_threshold_credits is not None:
        threshold, source = ws_row.approval_threshold_credits, "workspace"
    elif org_row is not None and org_row.approval_threshold_credits is not None:
        threshold, source = org_row.approval_threshold_credits, "organization"
    else:
        threshold, source = None, ""
    return EffectivePolicy(
        threshold=threshold,
        threshold_source=source,
        budget=ws_row.monthly_budget_credits if ws_row else None,
        ttl_hours=org_row.approval_ttl_hours if org_row else DEFAULT_APPROVAL_TTL_HOURS,
    )


def month_start(now: dt.datetime | None = None) -> dt.datetime:
    now = now or timezone.now()
    return now.astimezone(dt.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def workspace_month_spent(*, workspace: Workspace, since: dt.datetime | None = None) -> int:
    """Credits the workspace committed this month: every charge of its orders made since the 1st
    (UTC) at what it costs now (held: the amount held; captured: captured minus refunds; released: 0)."""
    since = since or month_start()
    charges = Charge.objects.filter(
        created_at__gte=since,
        pk__in=Order.objects.filter(workspace=workspace, charge__isnull=False).values("charge_id"),
    )
    net = Case(
        When(status=Charge.Status.AUTHORIZED, then=F("authorized_credits")),
        When(status=Charge.Status.CAPTURED, then=F("captured_credits") - F("refunded_credits")),
        default=0,
    )
    return int(charges.aggregate(total=Coalesce(Sum(net), 0))["total"])


def role_of(*, org: Organization, actor: Actor) -> str | None:
    if actor.user is None:
        return None
    return Membership.objects.filter(org=org, user=actor.user).values_list("role", flat=True).first()


# --- the two checks of every spend -------------------------------------------------------------------


def approval_required(*, org: Organization, workspace: Workspace, actor: ActorLike, credits: int) -> bool:
    """An operator's spend above the effective threshold waits for an admin. Admins, the system and
    support staff acting for the org are never held (budgets still apply to them)."""
    who = actor_of(actor)
    if role_of(org=org, actor=who) != Role.OPERATOR:
        return False
    threshold = policy_effective(org=org, workspace=workspace).threshold
    return threshold is not None and credits > threshold


def operator_may_spend(*, org: Organization, workspace: Workspace) -> bool:
    """Whether operators may accept priced tasking decisions here (a threshold is set: up to it
    they spend, above it they ask)."""
    return policy_effective(org=org, workspace=workspace).threshold is not None


@dataclass(frozen=True)
class BudgetState:
    budget: int
    spent: int  # before this spend

    @property
    def left(self) -> int:
        return max(0, self.budget - self.spent)


def budget_enforce(*, org: Organization, workspace: Workspace, credits: int) -> BudgetState | None:
    """Refuse a spend that would take the workspace past its monthly budget (402 naming the
    budget and what is left); otherwise record 80 %/100 % warnings it crosses. Must run inside the
    spending transaction, before the money is secured: it locks the workspace's policy row until
    that transaction ends. None when the workspace has no budget."""
    policy = SpendPolicy.objects.select_for_update().filter(org=org, workspace=workspace).first()
    if policy is None or policy.monthly_budget_credits is None:
        return None
    state = BudgetState(
        budget=policy.monthly_budget_credits, spent=workspace_month_spent(workspace=workspace)
    )
    if state.spent + credits > state.budget:
        raise PaymentRequired(
            f"The monthly budget of workspace “{workspace.name}” is {state.budget:,} credits; "
            f"{state.spent:,} are committed this month, so {state.left:,} are left and this costs "
            f"{credits:,}. Ask an admin to raise the budget, or spend less.",
            slug="budget-exceeded",
            title="Budget exceeded",
            budget="workspace-monthly",
            workspace_id=str(workspace.pk),
            workspace_name=workspace.name,
            budget_credits=state.budget,
            spent_credits=state.spent,
            left_credits=state.left,
            required_credits=credits,
        )
    _budget_warnings(org=org, workspace=workspace, state=state, credits=credits)
    return state


def _budget_warnings(*, org: Organization, workspace: Workspace, state: BudgetState, credits: int) -> None:
    after = state.spent + credits
    if state.budget <= 0:
        return
    month = month_start().date()
    for level in WARNING_LEVELS:
        if after * 100 >= state.budget * level:
            try:
                with transaction.atomic():
                    BudgetWarning.objects.create(
                        workspace=workspace,
                        month=month,
                        level=level,
                        spent_credits=after,
                        budget_credits=state.budget,
                    )
            except IntegrityError:
                continue  # this month's warning at this level went out already
            spend_notify(
                org=org,
                event="budget.threshold_reached",
                subject=f"[geopera] Workspace “{workspace.name}” has used {level}% of its monthly budget",
                body=f"Workspace “{workspace.name}” has committed {after:,} of its {state.budget:,} credits "
                f"this month ({after * 100 // state.budget}%). {max(0, state.budget - after):,} credits are left.",
                payload={
                    "workspaceId": str(workspace.pk),
                    "level": level,
                    "spentCredits": after,
                    "budgetCredits": state.budget,
                    "month": month.isoformat(),
                },
            )


# --- approval requests ----------------------------------------------------------------------------


def approval_request(
    *,
    org: Organization,
    workspace: Workspace,
    order: Order,
    action: str,
    credits: int,
    actor: ActorLike,
    note: str = "",
    target_id: object = None,
    payload: dict[str, Any] | None = None,
) -> SpendApproval:
    """Record an operator's spend above the threshold as a pending approval (nothing is spent), in
    the order's timeline, and tell the org's admins (on commit). One pending request per quotation
    or option: asking twice returns the first."""
    who = actor_of(actor)
    note = str(note or "").strip()
    if len(note) > 1000:
        raise InvalidInput(
            "The note for the approver is at most 1000 characters.",
            status=422,
            errors=[
                {"loc": ["body", "approvalNote"], "msg": "At most 1000 characters.", "type": "value_error"}
            ],
        )
    if target_id is not None:
        existing = SpendApproval.objects.filter(
            action=action, target_id=target_id, decision=SpendApproval.Decision.PENDING
        ).first()
        if existing is not None:
            return existing
    policy = policy_effective(org=org, workspace=workspace)
    left_after = None
    if policy.budget is not None:
        left_after = policy.budget - workspace_month_spent(workspace=workspace) - credits
    try:
        with transaction.atomic():
            approval = SpendApproval.objects.create(
                org=org,
                workspace=workspace,
                order=order,
                action=action,
                target_id=target_id,
                credits=credits,
                note=note,
                requested_by=who.user,
                expires_at=timezone.now() + timedelta(hours=policy.ttl_hours),
                budget_left_after=left_after,
                payload=payload or {},
            )
    except IntegrityError:
        existing = SpendApproval.objects.filter(
            action=action, target_id=target_id, decision=SpendApproval.Decision.PENDING
        ).first()
        if existing is None:
            raise
        return existing
    event_approval_requested(approval=approval, actor=who)
    admins = list(
        Membership.objects.filter(org=org, role=Role.ADMIN, user__is_active=True).values_list(
            "user__email", flat=True
        )
    )
    spend_notify(
        org=org,
        event="approval.requested",
        subject=f"[geopera] Approval needed: {credits:,} credits for “{order.display_name or 'an order'}”",
        body=f"{who.label} asks to spend {credits:,} credits ({approval.get_action_display().lower()}) "
        f"in workspace “{workspace.name}”."
        + (f"\nTheir note: {note}" if note else "")
        + f"\nDecide in your inbox before {approval.expires_at:%Y-%m-%d %H:%M} UTC.",
        payload={"approvalId": str(approval.pk), "orderId": str(order.pk), "credits": credits},
        recipients=admins,
    )
    audit_record(
        action="approval.request",
        actor=who,
        org=org,
        target=approval,
        order=str(order.pk),
        spend=action,
        credits=credits,
        workspace=workspace.name,
        note=note[:300],
    )
    return approval


# What approving performs, per action: the original action at the approval's price (409 carrying
# `current_credits` when the price changed). Registered by the app that owns the action.
ApprovalPerformer = Callable[[SpendApproval, Actor], None]
_PERFORMERS: dict[str, ApprovalPerformer] = {}
# What rejecting or expiring does to the order, per action (archive: the waiting order ends).
_ON_CLOSED: dict[str, Callable[[SpendApproval, str, Actor], None]] = {}


def register_approval_action(
    action: str,
    *,
    perform: ApprovalPerformer,
    on_closed: Callable[[SpendApproval, str, Actor], None] | None = None,
) -> None:
    _PERFORMERS[action] = perform
    if on_closed is not None:
        _ON_CLOSED[action] = on_closed


def price_changed(*, approval: SpendApproval, now_credits: int) -> Conflict:
    return Conflict(
        f"The price changed since this was asked: it is now {now_credits:,} credits, not "
        f"{approval.credits:,}. Reject it and ask the requester to submit it again at the new price.",
        slug="price-changed",
        current_decision=approval.decision,
        approved_credits=approval.credits,
        current_credits=now_credits,
    )


def approval_get(*, org: Organization, approval_id: object, for_update: bool = False) -> SpendApproval:
    pk = parse_uuid(approval_id)
    qs = SpendApproval.objects.filter(org=org)
    if for_update:
        qs = qs.select_for_update()
    approval = qs.filter(pk=pk).first() if pk else None
    if approval is None:
        raise NotFound("Approval request not found.", slug="approval-not-found")
    return approval


def _ensure_admin(*, org: Organization, actor: Actor, action: str) -> None:
    if role_of(org=org, actor=actor) != Role.ADMIN:
        raise PermissionDenied(f"Only admins of the organization may {action}.", required_roles=["admin"])


@transaction.atomic
def approval_decide(
    *, org: Organization, actor: ActorLike, approval_id: object, decision: str, reason: str = ""
) -> SpendApproval:
    """An org admin approves (the original action runs now, at the price shown; 409 with the new
    price when it changed, 402 when the budget or wallet cannot take it — the request then stays
    pending) or rejects (with a reason the requester is told). Two admins at once: the row lock
    serialises them and the second gets 409 with the first's decision."""
    who = actor_of(actor)
    _ensure_admin(org=org, actor=who, action="approve spending")
    if decision not in (SpendApproval.Decision.ACCEPTED, SpendApproval.Decision.REJECTED):
        raise InvalidInput("decision must be ACCEPTED or REJECTED.")
    reason = str(reason or "").strip()[:1000]
    approval = approval_get(org=org, approval_id=approval_id, for_update=True)
    decision_ensure_open(approval)  # 409 decided, 410 expired
    if decision == SpendApproval.Decision.ACCEPTED:
        # The action first: if it refuses (price changed, budget, wallet), nothing is decided. The
        # decision it makes does not close this very request (`approvals_close_for_targets`).
        performing = _PERFORMING.set(approval.pk)
        try:
            _PERFORMERS[approval.action](approval, who)
        finally:
            _PERFORMING.reset(performing)
        decision_transition(
            obj=approval,
            to=decision,
            actor=who,
            message=f"Approved by {who.label}: {approval.credits:,} credits.",
        )
        requester_msg = f"Your request to spend {approval.credits:,} credits was approved by {who.label}."
    else:
        if not reason:
            raise InvalidInput(
                "Say why it is rejected: the requester is told.",
                status=422,
                errors=[{"loc": ["body", "reason"], "msg": "A reason is required.", "type": "value_error"}],
            )
        approval.reason = reason
        decision_transition(
            obj=approval,
            to=decision,
            actor=who,
            message=f"Rejected by {who.label}: {reason}",
            also=("reason",),
        )
        if approval.action in _ON_CLOSED:
            _ON_CLOSED[approval.action](approval, decision, who)
        requester_msg = (
            f"Your request to spend {approval.credits:,} credits was rejected by {who.label}: {reason}"
        )
    if approval.requested_by_id and approval.requested_by.email:
        spend_notify(
            org=org,
            event=f"approval.{decision.lower()}",
            subject=f"[geopera] Spend request {decision.lower()}: “{approval.order.display_name or 'order'}”",
            body=requester_msg,
            payload={"approvalId": str(approval.pk), "orderId": str(approval.order_id), "decision": decision},
            recipients=[approval.requested_by.email],
        )
    return approval


# How an approval's reason says its order ended ("The order was cancelled.").
ORDER_ENDED_WORDS = {
    Order.Status.CANCELLED: "was cancelled",
    Order.Status.REJECTED: "was rejected",
    Order.Status.EXPIRED: "expired",
    Order.Status.FAILED: "failed",
    Order.Status.FULFILLED: "was fulfilled",
    Order.Status.PARTIALLY_FULFILLED: "was partially fulfilled",
}


def approvals_close_for_order(*, order: Order) -> int:
    """Close every pending approval of an order that has ended (cancelled, rejected, expired, ...):
    nothing is left to approve, so each becomes EXPIRED — closed without anyone's decision, by the
    system (`decided_by` empty), its reason saying why — with its timeline event and audit row, in
    the caller's transaction. Not REJECTED: no admin rejected it, and the requester must not be
    told one did. `order_transition` calls it on every move to a terminal status, so every exit
    (orders.cancel, the order page, a series cancel, a rejected or expired decision) closes them.

    The order row is locked by the caller. Approvals are locked with skip_locked: one an admin is
    deciding right now holds its row and waits for this order; it then finds the order ended and
    is refused (409), and the sweep (`approvals_close_ended`) closes it. Returns how many closed."""
    why = ORDER_ENDED_WORDS.get(order.status, f"was {order.get_status_display().lower()}")
    return _close_pending(
        SpendApproval.objects.filter(order_id=order.pk), why=f"The order {why}.", order=order
    )


def _close_pending(approvals: models.QuerySet[SpendApproval], *, why: str, order: Order | None = None) -> int:
    """Close the pending ones of `approvals` (EXPIRED by the system, `why` the reason), skipping
    rows another transaction holds and the approval being approved right now. Returns how many."""
    pending = approvals.select_for_update(skip_locked=True).filter(decision=SpendApproval.Decision.PENDING)
    performing = _PERFORMING.get()
    if performing is not None:
        pending = pending.exclude(pk=performing)
    closed = 0
    for approval in pending:
        if order is not None:
            approval.order = order  # the event reads it: no query per approval
        approval.reason = why[:1000]
        decision_transition(
            obj=approval,
            to=SpendApproval.Decision.EXPIRED,
            actor=None,
            message=f"Closed without a decision: {why[0].lower()}{why[1:]}",
            also=("reason",),
        )
        closed += 1
    return closed


def approvals_close_for_targets(*, targets: list[Any], why: str) -> int:
    """Close the pending approvals that ask to decide one of `targets` (a quotation, a study's
    options) once that was decided without them — an admin accepted or rejected it directly, or it
    expired: EXPIRED by the system with `why` as the reason, as `approvals_close_for_order` does.
    The approval being approved right now (whose action made that decision) is not one of them.
    Rows another transaction holds are skipped: that decide then finds its target decided (409)."""
    return _close_pending(SpendApproval.objects.filter(target_id__in=targets), why=why)


def approvals_close_ended(*, limit: int = 500) -> int:
    """The sweep's safety net (beat, with the decision expiry): close the pending approvals whose
    order has ended but which `approvals_close_for_order` could not take (being decided at that
    moment, or left from before it existed). One short transaction per order."""
    order_ids = list(
        SpendApproval.objects.filter(
            decision=SpendApproval.Decision.PENDING, order__status__in=Order.TERMINAL
        )
        .order_by("order_id")
        .values_list("order_id", flat=True)
        .distinct()[:limit]
    )
    closed = 0
    for order_id in order_ids:
        with transaction.atomic():
            order = Order.objects.select_for_update(skip_locked=True).filter(pk=order_id).first()
            if order is not None and order.is_terminal:
                closed += approvals_close_for_order(order=order)
    return closed


def approval_on_expired(approval: SpendApproval) -> None:
    if approval.action in _ON_CLOSED:
        _ON_CLOSED[approval.action](approval, SpendApproval.Decision.EXPIRED, actor_of(None))


# --- policies ---------------------------------------------------------------------------------------


def _credits_field(value: object, field: str) -> int | None:
    if value in (None, ""):
        return None
    maximum = settings.CREDITS_MAX  # a policy figure beyond it is a typo, not a budget
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        try:
            if isinstance(value, str) and value.strip().isdigit():
                parsed = int(value.strip())
                if parsed <= maximum:
                    return parsed
        except ValueError:
            pass
        raise InvalidInput(
            f"{field} must be a whole number of credits between 0 and {maximum:,} (or empty for none).",
            status=422,
            errors=[
                {
                    "loc": ["body", field],
                    "msg": "A whole, non-negative number of credits.",
                    "type": "value_error",
                }
            ],
        )
    return value


@transaction.atomic
def spend_policy_update(
    *,
    org: Organization,
    actor: ActorLike,
    workspace_id: object = None,
    approval_threshold_credits: object = None,
    monthly_budget_credits: object = None,
    approval_ttl_hours: object = None,
) -> SpendPolicy:
    """Org admins set the org row (workspace_id None: threshold and approval expiry) or a workspace
    row (threshold override and monthly budget). Empty values clear a figure."""
    who = actor_of(actor)
    _ensure_admin(org=org, actor=who, action="change spend policies")
    workspace = None
    if workspace_id not in (None, ""):
        workspace = workspace_get(org=org, workspace_id=workspace_id)
        if workspace is None:
            raise NotFound(
                "Workspace (projectId) not found in your organization.", slug="workspace-not-found"
            )
    threshold = _credits_field(approval_threshold_credits, "approvalThresholdCredits")
    budget = _credits_field(monthly_budget_credits, "monthlyBudgetCredits")
    if workspace is None and budget is not None:
        raise InvalidInput(
            "Monthly budgets are per workspace: give a workspaceId.",
            status=422,
            errors=[
                {
                    "loc": ["body", "monthlyBudgetCredits"],
                    "msg": "Needs a workspaceId.",
                    "type": "value_error",
                }
            ],
        )
    ttl = DEFAULT_APPROVAL_TTL_HOURS
    if approval_ttl_hours not in (None, ""):
        try:
            ttl = int(approval_ttl_hours)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            ttl = -1
        if isinstance(approval_ttl_hours, bool | float) or not 1 <= ttl <= 24 * 30:
            raise InvalidInput(
                "approvalTtlHours must be a whole number of hours from 1 to 720.",
                status=422,
                errors=[
                    {"loc": ["body", "approvalTtlHours"], "msg": "1 to 720 hours.", "type": "value_error"}
                ],
            )
    policy, _ = SpendPolicy.objects.get_or_create(org=org, workspace=workspace)
    policy = SpendPolicy.objects.select_for_update().get(pk=policy.pk)
    before = {
        "approval_threshold_credits": policy.approval_threshold_credits,
        "monthly_budget_credits": policy.monthly_budget_credits,
        "approval_ttl_hours": policy.approval_ttl_hours,
    }
    policy.approval_threshold_credits = threshold
    policy.monthly_budget_credits = budget
    if workspace is None:
        policy.approval_ttl_hours = ttl
    policy.updated_by = who.user
    policy.save()
    audit_record(
        action="policy.update",
        actor=who,
        org=org,
        target=policy,
        before=before,
        after={
            "approval_threshold_credits": policy.approval_threshold_credits,
            "monthly_budget_credits": policy.monthly_budget_credits,
            "approval_ttl_hours": policy.approval_ttl_hours,
        },
        workspace=workspace.name if workspace is not None else None,
    )
    return policy


def workspaces_month_spent(
    *, org: Organization, workspace_ids: list[Any], since: dt.datetime | None = None
) -> dict[Any, int]:
    """`workspace_month_spent` for many workspaces in one query: {workspace id: credits}."""
    since = since or month_start()
    net = Case(
        When(charge__status=Charge.Status.AUTHORIZED, then=F("charge__authorized_credits")),
        When(
            charge__status=Charge.Status.CAPTURED,
            then=F("charge__captured_credits") - F("charge__refunded_credits"),
        ),
        default=0,
    )
    rows = (
        Order.objects.filter(org=org, workspace_id__in=workspace_ids, charge__created_at__gte=since)
        .values("workspace_id")
        .annotate(total=Coalesce(Sum(net), 0))
        .order_by()
    )
    return {row["workspace_id"]: int(row["total"]) for row in rows}
