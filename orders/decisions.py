"""One decision state machine for everything an organization must accept or reject before an order
moves on: feasibility studies and quotations (tasking), and any further kind (spend approvals).

- `AbstractDecision` holds what every decision row has: `decision` (PENDING → ACCEPTED | REJECTED |
  EXPIRED, the one TRANSITIONS table), who decided and when. A concrete model adds its own order
  foreign key (with its own related name), its deadline and its payload.
- `DecisionKind` describes a kind once: its inbox slug, model, the noun used in messages, the name
  of its deadline field and the order-event builder for each final decision. Kinds register with
  `register_decision_kind` (tasking does in `tasking/decisions.py`); `decision_kinds()` is what the
  expiry sweep, the inbox and the notifications iterate.
- `decision_transition` is the only way a decision changes: the caller holds the row lock; an
  illegal move is a 409 with `current_decision`; the row is saved with `update_fields` and the
  kind's order event is written. `decision_ensure_open` is the shared preamble of every decide path
  (409 when already decided, 410 when past its deadline).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from geopera_web.actor import ActorLike, actor_of
from geopera_web.audit.services import audit_record
from geopera_web.errors import Conflict, Gone


class AbstractDecision(models.Model):
    class Decision(models.TextChoices):
        PENDING = "PENDING", "Waiting for a decision"
        ACCEPTED = "ACCEPTED", "Accepted"
        REJECTED = "REJECTED", "Rejected"
        EXPIRED = "EXPIRED", "Expired"

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Decision.PENDING: {Decision.ACCEPTED, Decision.REJECTED, Decision.EXPIRED},
        Decision.ACCEPTED: set(),
        Decision.REJECTED: set(),
        Decision.EXPIRED: set(),
    }

    decision = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def is_pending(self) -> bool:
        return self.decision == self.Decision.PENDING


EventBuilder = Callable[..., Any]


@dataclass(frozen=True)
class DecisionKind:
    """One kind of decision. `events` maps each final decision to the order-event builder that
    records it (called as builder(decision=obj, actor=..., message=..., from_decision=...))."""

    slug: str  # the inbox's `kind` ("feasibility", "quotation", ...)
    model: type[AbstractDecision]
    noun: str  # "feasibility study": in messages a person reads
    deadline_field: str  # the model's deadline column ("deadline", "valid_until", ...)
    events: Mapping[str, EventBuilder]
    # What happens to the order when a pending decision of this kind expires (None: nothing).
    on_expired: Callable[[Any], None] | None = None
    # How a message to the deciders names one ("A quotation (12,000 credits)"); default "A <noun>".
    headline: Callable[[Any], str] | None = None
    # The inbox (`orders.inbox`): the column that names a row's workspace, and what to load with
    # the rows of one page (relation paths of the kind's model, as for select/prefetch_related).
    # The page's statement carries them as JSON: `inbox_related` (single relations the page shows,
    # e.g. the order's sensor), `wire_related` (those the API's item shape needs too) and
    # `inbox_prefetch` (reverse relations, e.g. a study's options).
    workspace_field: str = "order__workspace_id"
    inbox_related: tuple[str, ...] = ()
    wire_related: tuple[str, ...] = ()
    inbox_prefetch: tuple[str, ...] = ()

    def headline_of(self, obj: Any) -> str:
        return self.headline(obj) if self.headline else f"A {self.noun}"


_KINDS: dict[str, DecisionKind] = {}


def register_decision_kind(kind: DecisionKind) -> DecisionKind:
    missing = {AbstractDecision.Decision.ACCEPTED, AbstractDecision.Decision.REJECTED} - set(kind.events)
    if missing or AbstractDecision.Decision.EXPIRED not in kind.events:
        raise ValueError(f"Decision kind {kind.slug!r} needs an event builder for every final decision.")
    _KINDS[kind.slug] = kind
    return kind


def decision_kinds() -> list[DecisionKind]:
    return list(_KINDS.values())


def decision_kind(slug: str) -> DecisionKind:
    try:
        return _KINDS[slug]
    except KeyError:
        raise LookupError(f"No decision kind {slug!r}; known: {', '.join(_KINDS)}") from None


def decision_kind_of(obj: AbstractDecision) -> DecisionKind:
    for kind in _KINDS.values():
        if isinstance(obj, kind.model):
            return kind
    raise LookupError(f"{type(obj).__name__} is not a registered decision kind")


def decision_deadline(obj: AbstractDecision) -> datetime:
    return getattr(obj, decision_kind_of(obj).deadline_field)


def _already(obj: AbstractDecision, noun: str) -> Conflict:
    return Conflict(
        f"This {noun} is already {obj.decision.lower()}"
        + (f" by {obj.decided_by}" if obj.decided_by_id else "")
        + ".",
        current_decision=obj.decision,
    )


def deadline_check(*, deadline: datetime, what: str, decision: str) -> None:
    """410 `decision-expired` once `deadline` has passed."""
    if deadline <= timezone.now():
        raise Gone(
            f"This {what} expired at {deadline:%Y-%m-%d %H:%M} UTC; ask support for a new one.",
            slug="decision-expired",
            current_decision=decision,
            deadline=deadline.isoformat(),
        )


def decision_ensure_open(obj: AbstractDecision) -> None:
    """The preamble of every decide path, on a locked row: 409 with `current_decision` when it is
    decided already, 410 when it is still pending but past its deadline."""
    kind = decision_kind_of(obj)
    if not obj.is_pending:
        raise _already(obj, kind.noun)
    deadline_check(deadline=getattr(obj, kind.deadline_field), what=kind.noun, decision=obj.decision)


# Called with every decision that leaves PENDING, after its event (`on_decided`): what depends on a
# decision being open registers here (tasking closes the spend approvals that asked to make one).
_DECIDED_HOOKS: list[Callable[[AbstractDecision], None]] = []


def on_decided(hook: Callable[[AbstractDecision], None]) -> Callable[[AbstractDecision], None]:
    _DECIDED_HOOKS.append(hook)
    return hook


def decision_transition(
    *,
    obj: AbstractDecision,
    to: str,
    actor: ActorLike,
    message: str = "",
    also: Iterable[str] = (),
) -> AbstractDecision:
    """Move a decision per TRANSITIONS and record the kind's order event. The caller holds the row
    lock (select_for_update) inside a transaction; illegal → 409 with `current_decision`. `also`
    names further fields the caller changed on the row (saved in the same UPDATE)."""
    kind = decision_kind_of(obj)
    if to not in obj.TRANSITIONS[obj.decision]:
        raise _already(obj, kind.noun)
    who = actor_of(actor)
    from_decision = obj.decision
    obj.decision = to
    obj.decided_at = timezone.now()
    obj.decided_by = who.user
    obj.save(update_fields=["decision", "decided_at", "decided_by", *also, "updated_at"])
    kind.events[to](decision=obj, actor=who, message=message, from_decision=from_decision)
    audit_record(
        action=f"decision.{kind.slug}.{to.lower()}",
        actor=who,
        org_id=obj.org_id,  # every decision kind carries its org (no query)
        target=obj,
        before={"decision": from_decision},
        after={"decision": to},
        message=message[:300],
    )
    for hook in _DECIDED_HOOKS:
        hook(obj)
    return obj


def decisions_close_for_order(*, order: Any, why: str) -> int:
    """Close the pending decisions (studies, quotations, any kind) of an order that has ended:
    nothing is left to decide, so each becomes EXPIRED by the system, its event carrying `why`
    (`closedBecause`: the timeline says it closed, not that time ran out). `order_transition`
    calls it on every move to a terminal status, after the spend approvals closed with their own
    reason. Rows another transaction holds are skipped: that decide finds the order ended (409)."""
    closed = 0
    for kind in decision_kinds():
        rows = kind.model.objects.select_for_update(skip_locked=True).filter(
            order_id=order.pk, decision=AbstractDecision.Decision.PENDING
        )
        for obj in rows:
            obj.order = order  # the event reads it: no query per row
            obj.closed_because = why
            decision_transition(
                obj=obj, to=AbstractDecision.Decision.EXPIRED, actor=None, message=f"Closed: {why}"
            )
            closed += 1
    return closed
