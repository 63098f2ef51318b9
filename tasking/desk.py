"""The support desk: what support staff work through in a day, across every org.

Reads: `desk_page` filters the desk's tasking orders (state, org, sensor, product, assignee, a
search), sorts them (longest waiting, newest, soonest due) and returns one page by OFFSET with a
constant number of queries (a count, the rows with everything a row shows, their areas). Nothing
loads the whole queue.

Writes: `desk_claim` / `desk_release`. A staff member claims an order so colleagues see who works
on it; both lock the order row first, so two claims of one order at the same instant are serialised
and the second one is told who has it (409) instead of silently taking it over.

"Due" is what the item is late against: for an order waiting on support, the start of the
requested acquisition window (a study written after it opens is worth less); for an order waiting
on the customer, the deadline of its pending study or quotation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Case, CharField, DateTimeField, F, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Least
from django.utils import timezone

from geopera_web.audit.services import audit_record
from geopera_web.errors import Conflict, NotFound, parse_uuid
from orders.decisions import AbstractDecision
from orders.models import Order, OrderType

from .models import FeasibilityStudy, Quotation, SupportClaim

Sub = Order.SubStatus
PAGE_SIZE = 25
# A customer decision due within this is "expiring": worth a nudge before it lapses.
EXPIRING_WITHIN = timedelta(hours=48)

SUPPORT_WORK = (Sub.FEASIBILITY_WAITING_UPLOAD, Sub.QUOTATION_WAITING_UPLOAD)
CUSTOMER_WAIT = (Sub.FEASIBILITY_WAITING_RESPONSE, Sub.QUOTATION_WAITING_RESPONSE)

# state filter: (label, sub-statuses); "expiring" also needs a due date within EXPIRING_WITHIN.
STATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "support": ("Needs support (study or quote)", SUPPORT_WORK),
    "study": ("Needs a study", (Sub.FEASIBILITY_WAITING_UPLOAD,)),
    "quotation": ("Needs a quotation", (Sub.QUOTATION_WAITING_UPLOAD,)),
    "customer": ("Waiting on the customer", CUSTOMER_WAIT),
    "expiring": ("Customer decision expiring (48 h)", CUSTOMER_WAIT),
    "all": ("Everything open", SUPPORT_WORK + CUSTOMER_WAIT),
}
ASSIGNEES = {"": "Anyone", "mine": "Mine", "unassigned": "Unassigned"}
SORTS = {"age": "Longest waiting", "newest": "Newest", "due": "Soonest due"}
_ID_PREFIX = re.compile(r"^[0-9a-f]{4,8}(-[0-9a-f]{0,4}){0,4}[0-9a-f]*$")
# Only a well-formed ISO instant is cast (placement validates it; a damaged row sorts last).
_ISO_INSTANT = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$"


@dataclass(frozen=True)
class DeskFilters:
    state: str = "support"
    org: str = ""
    sensor: str = ""
    product: str = ""
    assignee: str = ""
    q: str = ""
    sort: str = "age"
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, data: Any) -> DeskFilters:
        """The filters of a desk URL. An unknown value is not an error page: it falls back to the
        default and says so (the rest of the filters still apply)."""
        errors: list[str] = []

        def pick(name: str, allowed: Any, default: str) -> str:
            value = str(data.get(name, "") or "").strip()
            if value and value not in allowed:
                errors.append(f"Unknown {name} {value[:40]!r}: showing {allowed.get(default, default)!r}.")
                return default
            return value or default

        org = str(data.get("org", "") or "").strip()
        if org and parse_uuid(org) is None:
            errors.append(f"Unknown organization {org[:40]!r}: showing every organization.")
            org = ""
        return cls(
            state=pick("state", STATES, "support"),
            org=org,
            sensor=str(data.get("sensor", "") or "").strip()[:60],
            product=str(data.get("product", "") or "").strip()[:100],
            assignee=pick("assignee", ASSIGNEES, ""),
            q=str(data.get("q", "") or "").strip()[:100],
            sort=pick("sort", SORTS, "age"),
            errors=errors,
        )

    def query_items(self) -> list[tuple[str, str]]:
        """The non-default filters, for links that keep them (paging, shareable URLs)."""
        items = [
            ("state", self.state if self.state != "support" else ""),
            ("org", self.org),
            ("sensor", self.sensor),
            ("product", self.product),
            ("assignee", self.assignee),
            ("q", self.q),
            ("sort", self.sort if self.sort != "age" else ""),
        ]
        return [(k, v) for k, v in items if v]

    @property
    def active_count(self) -> int:
        return sum(1 for k, _ in self.query_items() if k != "sort")


def _pending_deadline(model: type[AbstractDecision], column: str) -> Subquery:
    return Subquery(
        model.objects.filter(order_id=OuterRef("pk"), decision=AbstractDecision.Decision.PENDING)
        .order_by(column)
        .values(column)[:1],
        output_field=DateTimeField(),
    )


def desk_queryset(*, filters: DeskFilters, staff: Any) -> QuerySet[Order]:
    """The desk's orders under `filters`, sorted, with `due` and `waiting_since` annotated."""
    _, subs = STATES[filters.state]
    window_start = Case(
        When(
            params__acquisitionStart__regex=_ISO_INSTANT,
            then=Cast(KT("params__acquisitionStart"), DateTimeField()),
        ),
        default=None,
        output_field=DateTimeField(),
    )
    qs = (
        Order.objects.filter(order_type=OrderType.TASKING, status=Order.Status.PENDING, sub_status__in=subs)
        .annotate(
            decision_due=Least(
                _pending_deadline(FeasibilityStudy, "deadline"),
                _pending_deadline(Quotation, "valid_until"),
            ),
        )
        .annotate(
            due=Case(
                When(sub_status__in=CUSTOMER_WAIT, then=F("decision_due")),
                default=window_start,
                output_field=DateTimeField(),
            )
        )
    )
    if filters.state == "expiring":
        qs = qs.filter(due__isnull=False, due__lt=timezone.now() + EXPIRING_WITHIN)
    if filters.org:
        qs = qs.filter(org_id=parse_uuid(filters.org))
    if filters.sensor:
        qs = qs.filter(data_product__tasking__sensor_id=filters.sensor)
    if filters.product:
        qs = qs.filter(data_product_id=filters.product)
    if filters.assignee == "mine":
        qs = qs.filter(support_claim__staff=staff)
    elif filters.assignee == "unassigned":
        qs = qs.filter(support_claim__isnull=True)
    if filters.q:
        term = filters.q
        match = Q(display_name__icontains=term) | Q(org__name__icontains=term)
        prefix = term.lower()
        if _ID_PREFIX.match(prefix):
            qs = qs.annotate(id_text=Cast("id", CharField()))
            match |= Q(id_text__startswith=prefix)
        qs = qs.filter(match)
    # `updated_at` is when the order last moved: how long it has waited in its current state.
    order_by = {
        "age": ("updated_at", "id"),
        "newest": ("-updated_at", "-id"),
        "due": (F("due").asc(nulls_last=True), "updated_at", "id"),
    }[filters.sort]
    return qs.select_related(
        "org",
        "workspace",
        "data_product__tasking__sensor",
        "created_by",
        "support_claim__staff",
    ).order_by(*order_by)


def desk_page(*, filters: DeskFilters, staff: Any, page: Any = 1, size: int | None = None) -> Page:
    """One page of the desk: a count, the page's rows, their areas (three queries for any page).
    A page number past the end shows the last page; a malformed one the first."""
    qs = desk_queryset(filters=filters, staff=staff).prefetch_related("groups")
    return Paginator(qs, size or PAGE_SIZE).get_page(page)


def desk_row(*, order_id: Any, staff: Any) -> Order:
    """One order as a desk row shows it (after a claim or a release), whatever its state."""
    qs = desk_queryset(filters=DeskFilters(state="all"), staff=staff).prefetch_related("groups")
    order = qs.filter(pk=parse_uuid(order_id)).first() if parse_uuid(order_id) else None
    if order is None:
        raise NotFound("That order is not on the support desk (it may have moved on).")
    return order


def _desk_order_for_update(order_id: Any) -> Order:
    oid = parse_uuid(order_id)
    order = (
        Order.objects.select_for_update(of=("self",))
        .filter(pk=oid, order_type=OrderType.TASKING)
        .select_related("org")
        .first()
        if oid
        else None
    )
    if order is None:
        raise NotFound("Order not found.")
    return order


def _who(user: Any) -> str:
    return getattr(user, "display_name", "") or getattr(user, "email", "") or str(user)


@transaction.atomic
def desk_claim(*, order_id: Any, staff: Any) -> SupportClaim:
    """`staff` takes the order. Holding the order's row lock, an existing claim by someone else is
    a 409 naming them; claiming one's own claim again is a no-op (a double click)."""
    order = _desk_order_for_update(order_id)
    claim = SupportClaim.objects.select_related("staff").filter(order=order).first()
    if claim is not None:
        if claim.staff_id == staff.pk:
            return claim
        raise Conflict(
            f"{_who(claim.staff)} already works on “{order.display_name or order.pk}” "
            f"(claimed {timezone.localtime(claim.claimed_at):%d %b %H:%M}).",
            claimed_by=_who(claim.staff),
        )
    claim = SupportClaim.objects.create(order=order, staff=staff, claimed_at=timezone.now())
    audit_record(action="support.claim", actor=staff, target=order, org_id=str(order.org_id))
    return claim


def desk_claim_check(*, order: Order, actor: Any) -> None:
    """A study or quotation written for an order a colleague has claimed is a 409 naming them (the
    claim is what stops two people writing the same study). Takes the order's row lock, the lock
    claims and releases take, so a claim cannot land between this check and the write. The
    automatic planner (no user) is not held back."""
    user = getattr(actor, "user", actor)
    if not getattr(user, "is_authenticated", False):
        return
    Order.objects.select_for_update(of=("self",)).filter(pk=order.pk).first()
    claim = SupportClaim.objects.select_related("staff").filter(order_id=order.pk).first()
    if claim is not None and claim.staff_id != user.pk:
        raise Conflict(
            f"{_who(claim.staff)} has claimed “{order.display_name or order.pk}” at the desk: ask them, "
            "or have them release it, before writing its study or quotation.",
            claimed_by=_who(claim.staff),
        )


@transaction.atomic
def desk_release(*, order_id: Any, staff: Any) -> None:
    """`staff` gives the order back. Only the claimant can release (someone else's claim is a 409
    naming them); releasing an unclaimed order is a no-op."""
    order = _desk_order_for_update(order_id)
    claim = SupportClaim.objects.select_related("staff").filter(order=order).first()
    if claim is None:
        return
    if claim.staff_id != staff.pk:
        raise Conflict(
            f"Only {_who(claim.staff)}, who claimed it, can release “{order.display_name or order.pk}”.",
            claimed_by=_who(claim.staff),
        )
    claim.delete()
    audit_record(action="support.release", actor=staff, target=order, org_id=str(order.org_id))


def desk_filter_choices() -> dict[str, list[tuple[str, str]]]:
    """The options of the desk's selects: organizations with an open desk item (not every org),
    active sensors and their tasking products. Three small queries."""
    from geopera_web.accounts.models import Organization

    from .models import Sensor, TaskingProduct

    _, subs = STATES["all"]
    orgs = (
        Organization.objects.filter(
            orders__order_type=OrderType.TASKING,
            orders__status=Order.Status.PENDING,
            orders__sub_status__in=subs,
        )
        .distinct()
        .order_by("name")
        .values_list("id", "name")[:500]
    )
    sensors = Sensor.objects.filter(is_active=True).order_by("position", "name").values_list("id", "name")
    products = (
        TaskingProduct.objects.filter(data_product__is_active=True, sensor__is_active=True)
        .order_by("sensor__position", "position")
        .values_list("data_product_id", "data_product__name")
    )
    return {
        "orgs": [(str(i), n) for i, n in orgs],
        "sensors": list(sensors),
        "products": list(products),
    }
