"""Recurring acquisitions (issue 14, capability 2): a `TaskingSeries` of occurrences under one
parent tasking order.

- Placing: a tasking request whose params carry `occurrences` (or `recurUntil`) with a
  `captureFrequency` other than ONCE becomes a series (`recurrence_from_params`, `series_create`).
  The request's window is the first occurrence's; occurrence k's window is the first one moved by k
  periods, each computed from the first (never from the previous one, so nothing drifts): DAILY and
  WEEKLY add k days / weeks, MONTHLY adds k calendar months and clamps to the month's end (a window
  starting on 31 January starts on 28 February, then 31 March).
- Deciding: the parent carries the one study and quotation, priced for the series. Accepting it
  authorises the series once (the admin's decision, or an approval above the operator threshold,
  at the series price) and charges nothing itself: the parent goes to PROCESSING and each
  occurrence is charged its share when it is ordered (`series_accept`).
- Decided per occurrence: a product whose acquisitions cannot be priced for a whole series in
  advance (`TaskingProduct.series_pricing` = occurrence, copied to `TaskingSeries.pricing` when the
  series is placed) has a series study and quotation that accept the schedule only (no series
  price: the parent's estimate is 0, each occurrence shows its own). When an occurrence is due it
  becomes a PENDING child with its own `Quotation` at its price (the product's list price for the
  AOIs, as the estimate computes it), valid until its window opens (until it ends when the window
  is already open): an ordinary quotation in the unified inbox, decided by `quotation_decide` with
  the spend-approval rule and budgets. Accepting charges and activates the child like any
  quotation and the occurrence is ORDERED; rejecting, expiry or cancelling the child make it
  DECLINED with the reason (`occurrence_decided`, called by the decision paths; the sweep settles
  any it could not lock), and the series runs on to the next occurrence.
- Running: `series_advance` (beat, `tasking.tasks.advance_series`) orders every occurrence whose
  window starts within `TASKING_SERIES_LEAD_HOURS`: a child order with the occurrence's window and
  the parent's AOIs (plus, with `roll_remainder`, the uncovered remainder of the previous
  occurrence once that one has ended), charged through `charge_authorize` with a per-occurrence
  idempotency reference, ACTIVE like any accepted tasking order (its deliveries, coverage and
  window-end settlement are the ordinary ones). A remainder part smaller than
  `TASKING_SERIES_MIN_REMAINDER_KM2` (a sliver along an edge) is not rolled in. One short
  transaction per occurrence under its row lock (skip_locked): running it twice, concurrently or
  after a kill orders (or quotes) nothing twice.
- Cancelling: `series_cancel` cancels every occurrence not yet started (its window has not
  opened): an ordered one through `orders.services.order_cancel` (the same settlement as any
  cancel), a planned one simply stops; started ones run on.

Lock order: the series row, then occurrence rows, then (in the order services) orders, charges and
the wallet. A decision on an occurrence's quotation holds the quotation and the child order first,
so it takes the occurrence row only with skip_locked (never waiting: whoever holds it, the series
cancel or the sweep, settles the occurrence itself).
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from geopera_web.accounts.models import Membership, Organization, Role
from geopera_web.accounts.services import workspace_order_check
from geopera_web.actor import ActorLike, actor_of
from geopera_web.audit.services import audit_record
from geopera_web.errors import (
    ApplicationError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    parse_uuid,
)
from orders.events import (
    event_series_cancelled,
    event_series_occurrence_missed,
    event_series_occurrence_ordered,
    event_series_remainder_rolled,
)
from orders.models import CoverageSnapshot, Order, OrderGroup, OrderType
from orders.services import CancelEffect, order_cancel, order_cancel_effect, order_transition

from .models import CaptureFrequency, Quotation, SeriesOccurrence, SeriesPricing, TaskingSeries

logger = logging.getLogger(__name__)

SERIES_PARAMS = ("occurrences", "recurUntil", "rollRemainder")
PERIOD_DAYS = {CaptureFrequency.DAILY: 1, CaptureFrequency.WEEKLY: 7}
# The shortest gap between two monthly starts (28 February after 31 January): a window no longer
# than this never overlaps the next one.
MONTHLY_MIN_DAYS = 28


# --- windows -------------------------------------------------------------------------------------


def add_months(value: datetime, months: int) -> datetime:
    """`value` moved by whole calendar months, the day clamped to the target month's last day."""
    month0 = value.month - 1 + months
    year, month = value.year + month0 // 12, month0 % 12 + 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def occurrence_window(start: datetime, end: datetime, frequency: str, k: int) -> tuple[datetime, datetime]:
    """The window of occurrence `k` (0-based), computed from the first window (no drift)."""
    if frequency == CaptureFrequency.MONTHLY:
        s, e = add_months(start, k), add_months(end, k)
        return s, (e if e > s else s + (end - start))
    step = timedelta(days=PERIOD_DAYS[frequency] * k)
    return start + step, end + step


def occurrence_windows(
    start: datetime, end: datetime, frequency: str, count: int
) -> list[tuple[datetime, datetime]]:
    return [occurrence_window(start, end, frequency, k) for k in range(count)]


def occurrence_credits(total: int, count: int) -> list[int]:
    """The series price split over its occurrences in whole credits (the first `total % count`
    carry one more), so the shares add up to the price exactly."""
    base, extra = divmod(int(total), count)
    return [base + (1 if k < extra else 0) for k in range(count)]


def series_price_error(*, order: Order, credits: object, loc: list[Any]) -> dict[str, Any] | None:
    """The 422 error (loc/msg/type) for a price of a series parent that would leave some occurrence
    with 0 credits (`occurrence_credits` splits it): a series of n occurrences is priced 0 (free,
    as a one-off quotation may be) or at least n; a series decided per occurrence is priced 0 (each
    occurrence is quoted on its own). None when the price is fine or `order` is not a
    series parent. Every path that prices a series (a quotation, a priced feasibility option) and
    accepting such a price check it."""
    if not isinstance(credits, int) or isinstance(credits, bool) or credits <= 0:
        return None
    found = (
        TaskingSeries.objects.filter(parent_id=order.pk).values_list("occurrence_count", "pricing").first()
    )
    if found is None:
        return None
    count, pricing = found
    if pricing == SeriesPricing.OCCURRENCE:
        # Its own quote accepts the schedule and charges nothing: a price there would be shown to
        # the customer and never charged.
        return {
            "loc": loc,
            "msg": "This series is decided per occurrence: its quotation accepts the schedule only, so "
            "price it at 0. Each occurrence gets its own quotation when it is due.",
            "type": "value_error.series_price",
        }
    if credits >= count:
        return None
    short = count - credits
    return {
        "loc": loc,
        "msg": f"This series has {count} occurrences and each needs at least 1 credit: price it at "
        f"{count:,} credits or more (or 0 for a free series). {credits:,} would leave {short} "
        f"occurrence{'s' if short != 1 else ''} with 0 credits.",
        "type": "value_error.series_price",
    }


# --- the recurrence of a request -----------------------------------------------------------------


@dataclass(frozen=True)
class Recurrence:
    frequency: str
    count: int
    until: datetime | None
    roll_remainder: bool
    windows: list[tuple[datetime, datetime]]


def _err(field: str, msg: str, type_: str = "value_error") -> dict[str, Any]:
    return {"loc": ["body", "params", field], "msg": msg, "type": type_}


def recurrence_from_params(params: dict[str, Any]) -> Recurrence | None:
    """The series a validated tasking request asks for, or None for a one-off request. 422 naming
    the field: occurrences and recurUntil both given, frequency ONCE, fewer than 2 or more than
    `TASKING_SERIES_MAX_OCCURRENCES` occurrences, a window longer than the period."""
    from .schemas import _parse_instant

    count_raw, until_raw = params.get("occurrences"), params.get("recurUntil")
    if count_raw in (None, "") and until_raw in (None, ""):
        return None
    limit = settings.TASKING_SERIES_MAX_OCCURRENCES
    frequency = params.get("captureFrequency") or CaptureFrequency.ONCE
    start = _parse_instant(params.get("acquisitionStart"))
    end = _parse_instant(params.get("acquisitionEnd"))
    errors: list[dict[str, Any]] = []
    if frequency not in PERIOD_DAYS and frequency != CaptureFrequency.MONTHLY:
        errors.append(
            _err(
                "captureFrequency",
                "A recurring request needs a captureFrequency of DAILY, WEEKLY or MONTHLY, not ONCE.",
            )
        )
    if count_raw not in (None, "") and until_raw not in (None, ""):
        errors.append(_err("recurUntil", "Give either occurrences or recurUntil, not both."))
    for field, value in (("acquisitionStart", start), ("acquisitionEnd", end)):
        if value is None:
            errors.append(_err(field, f"A recurring request needs its first window: {field} is required."))
    if errors:
        raise InvalidInput(errors[0]["msg"], status=422, errors=errors)
    period_days = PERIOD_DAYS.get(frequency, MONTHLY_MIN_DAYS)
    if end - start > timedelta(days=period_days):
        errors.append(
            _err(
                "acquisitionEnd",
                f"Each occurrence's window must fit in its period: at most {period_days} days for a "
                f"{frequency.lower()} series (this one is {(end - start).days} days).",
            )
        )
    until = None
    if count_raw not in (None, ""):
        count = count_raw
        if not isinstance(count, int) or isinstance(count, bool) or not 2 <= count <= limit:
            errors.append(
                _err(
                    "occurrences",
                    f"occurrences must be a whole number from 2 to {limit} (TASKING_SERIES_MAX_OCCURRENCES).",
                )
            )
            count = 0
    else:
        until = _parse_instant(until_raw)
        count = 0
        if until is None:
            errors.append(_err("recurUntil", "recurUntil must be an ISO 8601 date-time with a timezone."))
        else:
            while count <= limit and occurrence_window(start, end, frequency, count)[0] <= until:
                count += 1
            if count < 2:
                errors.append(_err("recurUntil", "recurUntil must leave room for at least 2 occurrences."))
            elif count > limit:
                errors.append(
                    _err(
                        "recurUntil",
                        f"recurUntil gives more than {limit} occurrences (TASKING_SERIES_MAX_OCCURRENCES); "
                        "choose an earlier end date.",
                    )
                )
    if errors:
        raise InvalidInput(
            "The recurrence is not valid: " + " ".join(e["msg"] for e in errors), status=422, errors=errors
        )
    return Recurrence(
        frequency=frequency,
        count=count,
        until=until,
        roll_remainder=bool(params.get("rollRemainder")),
        windows=occurrence_windows(start, end, frequency, count),
    )


def series_create(*, order: Order, recurrence: Recurrence) -> TaskingSeries:
    """The series of a just-placed parent order, with its occurrences planned (inside the placing
    transaction). The parent's estimate becomes the series' (per-occurrence list price × count);
    decided per occurrence, the parent has no price (0) and each occurrence shows its estimate."""
    product = getattr(order.data_product, "tasking", None) if order.data_product_id else None
    pricing = product.series_pricing if product is not None else SeriesPricing.SERIES
    series = TaskingSeries.objects.create(
        org=order.org,
        parent=order,
        frequency=recurrence.frequency,
        occurrence_count=recurrence.count,
        until=recurrence.until,
        roll_remainder=recurrence.roll_remainder,
        pricing=pricing,
    )
    per_occurrence = order.total_credits
    if series.per_occurrence:
        shares = [per_occurrence] * recurrence.count
    else:
        shares = occurrence_credits(per_occurrence * recurrence.count, recurrence.count)
    SeriesOccurrence.objects.bulk_create(
        [
            SeriesOccurrence(series=series, index=k, window_start=s, window_end=e, credits=shares[k])
            for k, (s, e) in enumerate(recurrence.windows)
        ]
    )
    order.total_credits = 0 if series.per_occurrence else per_occurrence * recurrence.count
    # What the inbox and the desk show beside the series price, without a query per row.
    order.metadata = {
        **(order.metadata or {}),
        "recurrence": {
            "seriesId": str(series.pk),
            "frequency": recurrence.frequency,
            "occurrences": recurrence.count,
            "pricing": pricing,
            "perOccurrenceEstimate": per_occurrence,
        },
    }
    order.save(update_fields=["total_credits", "metadata", "updated_at"])
    return series


# --- accepting: the series is authorised once ----------------------------------------------------


def series_of(order: Order) -> TaskingSeries | None:
    return TaskingSeries.objects.filter(parent_id=order.pk).first()


def series_accept(*, series: TaskingSeries, credits: int, actor: ActorLike, message: str) -> None:
    """The parent's price was accepted (decision row locked, moved to ACCEPTED): record the series
    price split over its occurrences, move the parent to PROCESSING (it holds no charge: each
    child is charged its share when ordered) and order the occurrences already due.

    Decided per occurrence, the acceptance is the schedule's: the series has no price (whatever
    the quote said is not charged), each occurrence keeps its estimate and is quoted when due."""
    from .services import SUB, _tasking_step

    locked = TaskingSeries.objects.select_for_update().get(pk=series.pk)
    if locked.state != TaskingSeries.State.WAITING:
        raise Conflict(f"The series is {locked.get_state_display().lower()}.", current_state=locked.state)
    occurrences = list(locked.occurrences.select_for_update().order_by("index"))
    if locked.per_occurrence:
        credits = 0
    else:
        for occ, share in zip(occurrences, occurrence_credits(credits, len(occurrences)), strict=True):
            occ.credits = share
            occ.save(update_fields=["credits", "updated_at"])
    locked.state = TaskingSeries.State.RUNNING
    locked.total_credits = credits
    locked.accepted_at = timezone.now()
    locked.save(update_fields=["state", "total_credits", "accepted_at", "updated_at"])
    parent = Order.objects.select_for_update().get(pk=locked.parent_id)
    parent.total_credits = credits
    parent.save(update_fields=["total_credits", "updated_at"])
    per = credits // max(len(occurrences), 1)
    if locked.per_occurrence:
        estimate = occurrences[0].credits if occurrences else 0
        message = (
            f"Schedule accepted: the series of {len(occurrences)} runs, decided per occurrence; each "
            f"occurrence is quoted at its own price (about {estimate:,} credits) when it is due, "
            "and nothing is charged until that quotation is accepted."
        )
    else:
        message = (
            f"{message} The series of {len(occurrences)} runs; each occurrence is charged about "
            f"{per:,} credits when it is ordered."
        )
    _tasking_step(
        order=parent,
        to_sub=SUB.QUOTATION_ACCEPTED,
        to_status=Order.Status.PROCESSING,
        actor=actor,
        message=message,
        data={"credits": credits, "seriesId": str(locked.pk), "occurrences": len(occurrences)},
    )
    audit_record(
        action="series.accept",
        actor=actor_of(actor),
        org=locked.org,
        target=locked,
        order=str(parent.pk),
        credits=credits,
        occurrences=len(occurrences),
        frequency=locked.frequency,
        pricing=locked.pricing,
    )
    # The occurrences already due are ordered now, in this transaction: a wallet that cannot pay the
    # first one is a 402 to the person accepting, as for a one-off order.
    now = timezone.now()
    for occ in occurrences:
        if _is_due(occ, now=now) and _previous_settled(locked, occ):
            _order_occurrence(series=locked, occ=occ, now=now, raise_refusal=True)


# --- running: the beat sweep ---------------------------------------------------------------------


def _lead() -> timedelta:
    return timedelta(hours=settings.TASKING_SERIES_LEAD_HOURS)


def _is_due(occ: SeriesOccurrence, *, now: datetime) -> bool:
    return occ.state == SeriesOccurrence.State.PLANNED and occ.window_start - _lead() <= now


# An occurrence over without an order that ran: nothing to wait for, nothing delivered.
ENDED_UNORDERED = (
    SeriesOccurrence.State.MISSED,
    SeriesOccurrence.State.DECLINED,
    SeriesOccurrence.State.CANCELLED,
)


def _previous_settled(series: TaskingSeries, occ: SeriesOccurrence) -> bool:
    """With `roll_remainder`, an occurrence waits for the previous one to end (its remainder is what
    it rolls in); otherwise it never waits."""
    if not series.roll_remainder or occ.index == 0:
        return True
    prev = series.occurrences.select_related("order").filter(index=occ.index - 1).first()
    if prev is None or prev.state in ENDED_UNORDERED:
        return True
    return prev.state == SeriesOccurrence.State.ORDERED and prev.order is not None and prev.order.is_terminal


def series_advance(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Order (or, decided per occurrence, quote) every due occurrence of every running series,
    settle the quoted ones whose decision was taken (or expired), then end the series whose
    occurrences have all ended. Safe to run any number of times, concurrently too. Returns counts."""
    now = now or timezone.now()
    running = SeriesOccurrence.objects.filter(series__state=TaskingSeries.State.RUNNING)
    due = list(
        running.filter(state=SeriesOccurrence.State.PLANNED, window_start__lte=now + _lead())
        .order_by("window_start", "index")
        .values_list("pk", flat=True)[:limit]
    )
    # A quoted occurrence whose child left PENDING but that its decision could not lock.
    due += list(
        running.filter(state=SeriesOccurrence.State.QUOTED)
        .exclude(order__status=Order.Status.PENDING)
        .order_by("window_start", "index")
        .values_list("pk", flat=True)[:limit]
    )
    counts = dict.fromkeys(("ordered", "quoted", "declined", "missed"), 0)
    for pk in due:
        try:
            result = occurrence_advance(occurrence_id=pk, now=now)
        except Exception:  # one bad occurrence must not stop the others; the next run retries it
            logger.exception("series occurrence %s could not be advanced", pk)
            continue
        if result in counts:
            counts[result] += 1
    # orders.cancel on a parent cancels its series at once (order_cancel hands it to series_cancel);
    # a parent cancelled by another path (support, a state change) stops its series here.
    for series in TaskingSeries.objects.select_related("org").filter(
        state=TaskingSeries.State.RUNNING, parent__status=Order.Status.CANCELLED
    ):
        try:
            series_cancel(org=series.org, actor=None, series_id=series.pk, now=now)
        except Exception:
            logger.exception("series %s could not be stopped after its parent was cancelled", series.pk)
    ended = 0
    for pk in TaskingSeries.objects.filter(state=TaskingSeries.State.RUNNING).values_list("pk", flat=True):
        ended += series_finish(series_id=pk)
    # A series whose quote was never accepted (rejected, expired, cancelled) closes with its parent.
    TaskingSeries.objects.filter(
        state=TaskingSeries.State.WAITING, parent__status__in=list(Order.TERMINAL)
    ).update(state=TaskingSeries.State.CLOSED, updated_at=now)
    return counts | {"ended": ended}


@transaction.atomic
def occurrence_advance(*, occurrence_id: object, now: datetime | None = None) -> str:
    """Order one occurrence if it is due: "ordered", "quoted" (decided per occurrence: its
    quotation waits in the inbox), "missed", "declined" (a quoted one whose quotation was
    rejected or expired), or "" (nothing to do: not due, done already, locked by a concurrent
    run, waiting for the previous one to end or for its decision)."""
    now = now or timezone.now()
    occ = (
        SeriesOccurrence.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("series")
        .filter(pk=occurrence_id)
        .first()
    )
    if occ is None or occ.series.state != TaskingSeries.State.RUNNING:
        return ""
    if occ.state == SeriesOccurrence.State.QUOTED:
        return _settle_quoted(occ, actor=None)
    if not _is_due(occ, now=now):
        return ""
    if not _previous_settled(occ.series, occ):
        if occ.window_end <= now:
            _miss(occ, "The previous occurrence was still acquiring when this window ended.")
            return "missed"
        return ""
    return _order_occurrence(series=occ.series, occ=occ, now=now, raise_refusal=False)


def _miss(occ: SeriesOccurrence, reason: str, *, state: str = SeriesOccurrence.State.MISSED) -> None:
    occ.state = state
    occ.note = reason[:500]
    occ.save(update_fields=["state", "note", "updated_at"])
    event_series_occurrence_missed(order=occ.series.parent, series=occ.series, occurrence=occ, reason=reason)
    audit_record(
        action="series.occurrence_missed"
        if state == SeriesOccurrence.State.MISSED
        else "series.occurrence_declined",
        org=occ.series.org,
        target=occ,
        series=str(occ.series_id),
        index=occ.index,
        reason=reason,
    )


@dataclass(frozen=True)
class RolledRemainder:
    """The uncovered remainder of one AOI of the previous occurrence, rolled into the next one."""

    name: str
    geometry: Any
    km2: float


def _without_slivers(geometry: Any, min_km2: float) -> tuple[Any, float]:
    """(the parts of `geometry` of at least `min_km2` as one MultiPolygon or None, their km²), on
    the WGS 84 ellipsoid in one PostGIS statement."""
    from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_AsEWKB(ST_Multi(ST_Collect(d.geom))), coalesce(sum(d.km2), 0) FROM ("
            " SELECT p.geom, ST_Area(p.geom::geography) / 1e6 AS km2"
            " FROM ST_Dump(ST_GeomFromEWKB(%s)) p) d WHERE d.km2 >= %s",
            [bytes(geometry.ewkb), min_km2],
        )
        wkb, km2 = cursor.fetchone()
    if wkb is None:
        return None, 0.0
    kept = GEOSGeometry(memoryview(bytes(wkb)))
    return (kept if isinstance(kept, MultiPolygon) else MultiPolygon(kept, srid=kept.srid)), float(km2)


def _remainder_groups(series: TaskingSeries, occ: SeriesOccurrence) -> list[RolledRemainder]:
    """Each AOI's remainder the previous occurrence left uncovered, to roll into `occ`.

    Not billed: every occurrence already acquires the series' whole AOIs, so the remainder lies
    inside the next occurrence's own AOIs: one capture over it is that occurrence's own (paid)
    acquisition and fills the rolled remainder at the same time. The rolled AOI is tracked (its
    coverage is shown and followed) but not billed again; the short occurrence keeps its pro-rata
    refund (or its release when it failed). A part smaller than `TASKING_SERIES_MIN_REMAINDER_KM2`
    (a sliver along an edge) is left out, and an AOI left with none rolls nothing."""
    if not series.roll_remainder or occ.index == 0:
        return []
    prev = series.occurrences.select_related("order").filter(index=occ.index - 1).first()
    child = prev.order if prev is not None else None
    if child is None or child.status not in (Order.Status.PARTIALLY_FULFILLED, Order.Status.FAILED):
        return []
    latest = {
        s.group_id: s
        for s in CoverageSnapshot.objects.filter(order=child)
        .order_by("group_id", "-computed_at", "-id")
        .distinct("group_id")
    }
    min_km2 = float(settings.TASKING_SERIES_MIN_REMAINDER_KM2)
    out = []
    for group in child.groups.order_by("position"):
        snap = latest.get(group.pk)
        remainder = group.geometry if snap is None else snap.remainder
        if remainder is None or remainder.empty:
            continue
        kept, km2 = _without_slivers(remainder, min_km2)
        if kept is not None:
            base = group.name.split(" — remainder of ")[0]
            out.append(RolledRemainder(f"{base} — remainder of occurrence {prev.index + 1}"[:200], kept, km2))
    return out


def _child_params(parent: Order, occ: SeriesOccurrence) -> dict[str, Any]:
    params = {k: v for k, v in (parent.params or {}).items() if k not in SERIES_PARAMS}
    params["acquisitionStart"] = occ.window_start.isoformat().replace("+00:00", "Z")
    params["acquisitionEnd"] = occ.window_end.isoformat().replace("+00:00", "Z")
    params["captureFrequency"] = CaptureFrequency.ONCE
    return params


def _create_child(
    *, series: TaskingSeries, occ: SeriesOccurrence, rolled: list[RolledRemainder], priced: bool
) -> Order:
    """The PENDING child order of `occ`: the parent's AOIs (each at its share of the series price,
    or `priced`: at the product's list price now, as the estimate computes it) and the rolled
    remainders (tracked, 0 credits). Its total is what those groups add up to."""
    from .aoi import billed_credits

    parent = series.parent
    n = series.occurrence_count
    child = Order.objects.create(
        org=parent.org,
        workspace=parent.workspace,
        order_type=OrderType.TASKING,
        status=Order.Status.PENDING,
        display_name=f"{parent.display_name or 'Series'} · {occ.index + 1} of {n}"[:200],
        data_product=parent.data_product,
        params=_child_params(parent, occ),
        tags=list(parent.tags or []),
        license_type=parent.license_type,
        billing_mode=parent.billing_mode,
        total_credits=0,
        metadata={
            **{k: v for k, v in (parent.metadata or {}).items() if k not in ("simulation", "recurrence")},
            **(
                {"simulation": parent.metadata["simulation"]}
                if "simulation" in (parent.metadata or {})
                else {}
            ),
            "series": {"id": str(series.pk), "parentOrderId": str(parent.pk), "index": occ.index},
        },
        created_by=parent.created_by,
    )
    base = list(parent.groups.select_related("data_product").order_by("position"))
    total = 0
    for g in base:
        billed, credits = g.billed_area_km2, g.credits
        if priced:
            billed, credits = billed_credits(
                area_km2=g.area_km2, product=g.data_product or parent.data_product
            )
        OrderGroup.objects.create(
            order=child,
            position=g.position,
            name=g.name,
            data_product=g.data_product,
            geometry=g.geometry,
            area_km2=g.area_km2,
            billed_area_km2=billed,
            credits=credits,
        )
        total += credits
    for i, r in enumerate(rolled):
        OrderGroup.objects.create(
            order=child,
            position=len(base) + i,
            name=r.name,
            data_product=parent.data_product,
            geometry=r.geometry,
            area_km2=r.km2,
            billed_area_km2=r.km2,
            credits=0,
        )
    child.total_credits = occ.credits if not priced else total
    child.save(update_fields=["total_credits", "updated_at"])
    return child


def _rolled_note(occ: SeriesOccurrence, rolled_km2: float) -> str:
    return (
        f"Rolled in {rolled_km2:,.1f} km² left uncovered by occurrence {occ.index} "
        "(tracked here, not billed again: it lies inside this occurrence's own areas)."
    )


def _order_occurrence(
    *, series: TaskingSeries, occ: SeriesOccurrence, now: datetime, raise_refusal: bool
) -> str:
    """Create, charge and start the child of `occ` (its row locked by the caller). A refused charge
    (wallet, budget, card) marks the occurrence missed with the reason, or raises it when the person
    accepting is there to read it (`raise_refusal`). Decided per occurrence: quote it instead."""
    from .services import SUB, _authorize

    if occ.window_end <= now:
        _miss(occ, "Its acquisition window ended before it could be ordered.")
        return "missed"
    if series.per_occurrence:
        return _quote_occurrence(series=series, occ=occ, now=now)
    parent = series.parent
    n = series.occurrence_count
    rolled = _remainder_groups(series, occ)
    rolled_km2 = sum(r.km2 for r in rolled)
    try:
        with transaction.atomic():
            child = _create_child(series=series, occ=occ, rolled=rolled, priced=False)
            event_series_occurrence_ordered(order=child, series=series, occurrence=occ, child=child)
            charge = _authorize(
                order=child,
                credits=occ.credits,
                actor=None,
                what=f"series occurrence {occ.index + 1} of {n}",
                idempotency_key=f"series-occurrence-{occ.pk}",
            )
            child.charge = charge
            child.save(update_fields=["charge", "updated_at"])
            order_transition(
                order=child,
                to=Order.Status.ACTIVE,
                sub_status=SUB.QUOTATION_ACCEPTED,
                message=f"Occurrence {occ.index + 1} of {n} of the series ordered "
                f"({occ.credits:,} credits): acquisition from {occ.window_start:%d %b %Y %H:%M} UTC.",
                data={"credits": occ.credits, "chargeId": str(charge.id), "seriesId": str(series.pk)},
            )
    except ApplicationError as exc:
        if raise_refusal:
            raise
        _miss(occ, f"It could not be charged: {exc.detail}")
        return "missed"
    occ.state = SeriesOccurrence.State.ORDERED
    occ.order = child
    occ.rolled_in_km2 = rolled_km2
    occ.note = _rolled_note(occ, rolled_km2) if rolled else ""
    occ.save(update_fields=["state", "order", "rolled_in_km2", "note", "updated_at"])
    event_series_occurrence_ordered(order=parent, series=series, occurrence=occ, child=child)
    _rolled_events(series=series, occ=occ, child=child, rolled_km2=rolled_km2, rolled=rolled)
    _audit_ordered(series=series, occ=occ, child=child, actor=None)
    return "ordered"


def _rolled_events(
    *, series: TaskingSeries, occ: SeriesOccurrence, child: Order, rolled_km2: float, rolled: list
) -> None:
    if rolled:
        for on in (series.parent, child):
            event_series_remainder_rolled(order=on, series=series, occurrence=occ, km2=rolled_km2)


def _audit_ordered(*, series: TaskingSeries, occ: SeriesOccurrence, child: Order, actor: ActorLike) -> None:
    audit_record(
        action="series.occurrence_ordered",
        actor=actor_of(actor),
        org=series.org,
        target=occ,
        series=str(series.pk),
        order=str(child.pk),
        index=occ.index,
        credits=occ.credits,
        rolled_km2=round(occ.rolled_in_km2, 3),
    )


def _quote_occurrence(*, series: TaskingSeries, occ: SeriesOccurrence, now: datetime) -> str:
    """Decided per occurrence: `occ` (its row locked, due, window not ended) becomes a PENDING child
    waiting for its own quotation's decision in the inbox, at the list price of its AOIs, valid
    until its window opens (or, already open, until it ends). Nothing is charged here."""
    from .services import SUB, _decision_pending_event, _notify_admins, _tasking_step

    n = series.occurrence_count
    rolled = _remainder_groups(series, occ)
    rolled_km2 = sum(r.km2 for r in rolled)
    child = _create_child(series=series, occ=occ, rolled=rolled, priced=True)
    child.sub_status = SUB.QUOTATION_WAITING_UPLOAD
    child.save(update_fields=["sub_status", "updated_at"])
    valid_until = occ.window_start if occ.window_start > now else occ.window_end
    price = child.total_credits
    _tasking_step(
        order=child,
        to_sub=SUB.QUOTATION_WAITING_RESPONSE,
        actor=None,
        message=f"Occurrence {occ.index + 1} of {n} of the series is due: quoted {price:,} credits "
        f"(the list price for its areas), to decide before {valid_until:%d %b %Y %H:%M} UTC.",
        data={"credits": price, "seriesId": str(series.pk), "validUntil": valid_until.isoformat()},
    )
    quotation = Quotation.objects.create(
        org=series.org,
        order=child,
        credits=price,
        valid_until=valid_until,
        notes=f"Occurrence {occ.index + 1} of {n} ({occ.window_start:%d %b} – {occ.window_end:%d %b %Y}): "
        "this product is priced per acquisition, so each occurrence of the series is decided on its own.",
    )
    occ.state = SeriesOccurrence.State.QUOTED
    occ.order = child
    occ.credits = price
    occ.rolled_in_km2 = rolled_km2
    occ.note = _rolled_note(occ, rolled_km2) if rolled else ""
    occ.save(update_fields=["state", "order", "credits", "rolled_in_km2", "note", "updated_at"])
    _decision_pending_event(child, kind="quotation", obj_id=quotation.id, deadline=valid_until)
    _notify_admins(kind="quotation", obj_id=quotation.id)
    _rolled_events(series=series, occ=occ, child=child, rolled_km2=rolled_km2, rolled=rolled)
    audit_record(
        action="series.occurrence_quoted",
        actor=None,
        org=series.org,
        target=occ,
        series=str(series.pk),
        order=str(child.pk),
        quotation=str(quotation.pk),
        index=occ.index,
        credits=price,
        valid_until=valid_until,
    )
    return "quoted"


_DECLINED_BECAUSE = {
    Order.Status.REJECTED: "Declined: its quotation was rejected.",
    Order.Status.EXPIRED: "Declined: no decision on its quotation before it expired.",
    Order.Status.CANCELLED: "Declined: its order was cancelled before its quotation was accepted.",
}


def _settle_quoted(occ: SeriesOccurrence, *, actor: ActorLike) -> str:
    """A quoted occurrence (row locked) whose child left PENDING: ORDERED when its quotation was
    accepted (the child charged and acquiring), DECLINED with the reason otherwise."""
    child = Order.objects.filter(pk=occ.order_id).first()
    if child is None or child.status == Order.Status.PENDING:
        return ""
    series = occ.series
    if child.charge_id is not None:
        occ.state = SeriesOccurrence.State.ORDERED
        occ.credits = child.total_credits
        occ.save(update_fields=["state", "credits", "updated_at"])
        for on in (child, series.parent):
            event_series_occurrence_ordered(order=on, series=series, occurrence=occ, child=child)
        _audit_ordered(series=series, occ=occ, child=child, actor=actor)
        return "ordered"
    reason = _DECLINED_BECAUSE.get(
        child.status, f"Declined: its order is {child.get_status_display().lower()}."
    )
    _miss(occ, reason, state=SeriesOccurrence.State.DECLINED)
    return "declined"


def occurrence_decided(*, order: Order, actor: ActorLike = None) -> str:
    """The decision paths' hook (`tasking.services`, `tasking.decisions`): `order` just left PENDING
    (its quotation accepted and charged, rejected or expired). When it is a quoted occurrence's
    child, settle that occurrence now — unless its row is locked (skip_locked: never waiting behind
    a series cancel or the sweep, which lock it before the orders), when the sweep settles it."""
    occ = (
        SeriesOccurrence.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("series__parent", "series__org")
        .filter(order_id=order.pk, state=SeriesOccurrence.State.QUOTED)
        .first()
    )
    return _settle_quoted(occ, actor=actor) if occ is not None else ""


@transaction.atomic
def series_finish(*, series_id: object) -> int:
    """End a running series whose occurrences have all ended (1), moving the parent to FULFILLED
    (every child fulfilled), PARTIALLY_FULFILLED (some delivered) or FAILED (none did); else 0.
    A missed, declined or cancelled occurrence has ended; a quoted one waits for its decision."""
    series = TaskingSeries.objects.select_for_update(skip_locked=True).filter(pk=series_id).first()
    if series is None or series.state != TaskingSeries.State.RUNNING:
        return 0
    occurrences = list(series.occurrences.select_related("order"))
    done = [
        o.state in ENDED_UNORDERED
        or (o.state == SeriesOccurrence.State.ORDERED and o.order is not None and o.order.is_terminal)
        for o in occurrences
    ]
    if not all(done):
        return 0
    statuses = [o.order.status for o in occurrences if o.state == SeriesOccurrence.State.ORDERED]
    fulfilled = sum(s == Order.Status.FULFILLED for s in statuses)
    delivered = fulfilled + sum(s == Order.Status.PARTIALLY_FULFILLED for s in statuses)
    if fulfilled == len(occurrences):
        to = Order.Status.FULFILLED
    elif delivered:
        to = Order.Status.PARTIALLY_FULFILLED
    else:
        to = Order.Status.FAILED
    series.state = TaskingSeries.State.ENDED
    series.save(update_fields=["state", "updated_at"])
    order_transition(
        order=series.parent,
        to=to,
        message=f"Every occurrence of the series has ended: {fulfilled} of {len(occurrences)} fulfilled.",
        data={"seriesId": str(series.pk), "fulfilled": fulfilled, "occurrences": len(occurrences)},
    )
    return 1


# --- reading and cancelling ----------------------------------------------------------------------


def series_get(*, org: Organization, series_id: object, for_update: bool = False) -> TaskingSeries:
    """The org's series (404 for a missing one and another org's alike)."""
    pk = parse_uuid(series_id)
    qs = TaskingSeries.objects.filter(org=org)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    series = qs.select_related("parent", "parent__workspace").filter(pk=pk).first() if pk else None
    if series is None:
        raise NotFound("Series not found.", slug="series-not-found")
    return series


def series_price(series: TaskingSeries) -> tuple[int, int]:
    """(the series price, the price of one occurrence): the accepted price (or the parent's
    estimate before) and its share; decided per occurrence, (0, the estimate of one at placing)."""
    if series.per_occurrence:
        recurrence = (series.parent.metadata or {}).get("recurrence") or {}
        return 0, int(recurrence.get("perOccurrenceEstimate") or 0)
    price = series.total_credits or series.parent.total_credits
    return price, price // max(series.occurrence_count, 1)


def series_occurrences(series: TaskingSeries) -> list[SeriesOccurrence]:
    """The occurrences with their child orders, each child's latest coverage (percent over its
    AOIs) as `coverage_percent` and, for a quoted one, its quotation waiting for a decision as
    `pending_quotation` (else None) — a constant number of queries."""
    occurrences = list(series.occurrences.select_related("order", "order__charge").order_by("index"))
    child_ids = [o.order_id for o in occurrences if o.order_id]
    quoted = [o.order_id for o in occurrences if o.state == SeriesOccurrence.State.QUOTED]
    pending = {
        q.order_id: q
        for q in Quotation.objects.filter(order_id__in=quoted, decision=Quotation.Decision.PENDING)
    }
    by_order: dict[Any, list[CoverageSnapshot]] = {}
    for snap in (
        CoverageSnapshot.objects.filter(order_id__in=child_ids)
        .order_by("group_id", "-computed_at", "-id")
        .distinct("group_id")
    ):
        by_order.setdefault(snap.order_id, []).append(snap)
    for o in occurrences:
        snaps = by_order.get(o.order_id, [])
        requested = sum(s.requested_km2 for s in snaps)
        o.coverage_percent = (
            round(100.0 * sum(s.covered_km2 for s in snaps) / requested, 1) if requested else None
        )
        o.pending_quotation = pending.get(o.order_id) if o.order_id else None
    return occurrences


def occurrence_is_started(occ: SeriesOccurrence, *, now: datetime | None = None) -> bool:
    """Started: ordered and its window has opened (or its order already moved on)."""
    now = now or timezone.now()
    if occ.state != SeriesOccurrence.State.ORDERED or occ.order is None:
        return False
    return occ.window_start <= now or occ.order.status != Order.Status.ACTIVE


def occurrence_label(occ: SeriesOccurrence, *, now: datetime | None = None) -> tuple[str, str]:
    """(words, tone) of an occurrence's state for the timeline."""
    now = now or timezone.now()
    if occ.state == SeriesOccurrence.State.PLANNED:
        return "Scheduled", "muted"
    if occ.state == SeriesOccurrence.State.QUOTED:
        return "Waiting for a decision", "action"
    if occ.state in ENDED_UNORDERED:
        return occ.get_state_display(), "bad" if occ.state == SeriesOccurrence.State.MISSED else "muted"
    order = occ.order
    if order.status == Order.Status.ACTIVE:
        return (
            ("Acquiring", "action") if occ.window_start <= now else ("Ordered, window not open yet", "muted")
        )
    tone = {Order.Status.FULFILLED: "good", Order.Status.PARTIALLY_FULFILLED: "warn"}.get(order.status, "bad")
    return order.get_status_display(), tone


@dataclass(frozen=True)
class SeriesCancelPlan:
    """What cancelling the series does: each occurrence not started with what happens to its money
    (the order's own cancel preview for an ordered one), and the started ones that run on."""

    cancelled: list[tuple[SeriesOccurrence, CancelEffect | None]]
    running_on: list[SeriesOccurrence]

    @property
    def released_credits(self) -> int:
        return sum(e.credits for _, e in self.cancelled if e is not None)

    def _sentence(self, *, done: bool) -> str:
        n = len(self.cancelled)
        cancelled = (
            f"{n} occurrence{'s' if n != 1 else ''} not yet started "
            + (("was" if n == 1 else "were") if done else "will be")
            + " cancelled"
            + (f" ({_numbers(o for o, _ in self.cancelled)})" if n else "")
        )
        if self.released_credits:
            cancelled += f"; {self.released_credits:,} credits held for them {'went' if done else 'go'} back."
        else:
            cancelled += "."
        parts = [cancelled]
        if self.running_on:
            m = len(self.running_on)
            parts.append(
                f"{m} started occurrence{'s' if m != 1 else ''} run{'s' if m == 1 else ''} on "
                f"({_numbers(self.running_on)})."
            )
        return " ".join(parts)

    @property
    def sentence(self) -> str:
        """What cancelling the series will do, naming the occurrences cancelled and those that run
        on (the cancel dialogs, the dry-run message)."""
        return self._sentence(done=False)

    @property
    def done_sentence(self) -> str:
        """What cancelling the series did (the message after cancelling)."""
        return self._sentence(done=True)

    def effect(self, billing_mode: str) -> CancelEffect:
        """The plan as one order cancel's money (`orders.cancel` on the parent): the sum of what
        cancelling each not-started occurrence gives back and charges, their AOI lines together."""
        effects = [e for _, e in self.cancelled if e is not None]
        credits = sum(e.credits for e in effects)
        charged = sum(e.charged_credits for e in effects)
        action = "settle" if charged else ("release" if credits else "none")
        if effects and all(e.action == "refund" for e in effects):
            action = "refund"
        lines = tuple(line for e in effects for line in e.lines)
        return CancelEffect(action, credits, billing_mode, charged_credits=charged, lines=lines, series=self)

    def as_wire(self) -> dict[str, Any]:
        return {
            "cancelledOccurrences": [
                {"index": o.index + 1, "orderId": str(o.order_id) if o.order_id else None}
                | ({"money": e.as_wire()} if e is not None else {})
                for o, e in self.cancelled
            ],
            "runningOn": [{"index": o.index + 1, "orderId": str(o.order_id)} for o in self.running_on],
            "releasedCredits": self.released_credits,
            "summary": self.sentence,
        }


def _numbers(occurrences: Any) -> str:
    """Occurrences by their 1-based numbers, as a person reads them: "#2, #3 and #4"."""
    shown = [f"#{o.index + 1}" for o in occurrences]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _not_started(occ: SeriesOccurrence, *, now: datetime) -> bool:
    """An ordered occurrence whose window has not opened, or a quoted one still waiting."""
    if occ.state == SeriesOccurrence.State.QUOTED:
        return occ.order.status == Order.Status.PENDING
    return occ.state == SeriesOccurrence.State.ORDERED and not occurrence_is_started(occ, now=now)


def _cancel_plan(series: TaskingSeries, *, now: datetime) -> SeriesCancelPlan:
    cancelled, running = [], []
    for occ in series.occurrences.select_related("order", "order__charge").order_by("index"):
        if occ.state == SeriesOccurrence.State.PLANNED:
            cancelled.append((occ, None))
        elif _not_started(occ, now=now):
            cancelled.append((occ, order_cancel_effect(occ.order)))
        elif occ.state == SeriesOccurrence.State.ORDERED and not occ.order.is_terminal:
            running.append(occ)
    return SeriesCancelPlan(cancelled=cancelled, running_on=running)


def _ensure_cancellable(series: TaskingSeries) -> None:
    if series.state not in (TaskingSeries.State.WAITING, TaskingSeries.State.RUNNING):
        raise Conflict(
            f"The series is {series.get_state_display().lower()}; it cannot be cancelled.",
            current_state=series.state,
        )


def _ensure_may_cancel(*, org: Organization, series: TaskingSeries, actor: ActorLike) -> None:
    who = actor_of(actor)
    if (
        who.user is not None
        and not Membership.objects.filter(
            org=org, user=who.user, role__in=(Role.ADMIN, Role.OPERATOR)
        ).exists()
    ):
        raise PermissionDenied(
            "Only admins and operators may cancel a series.", required_roles=["admin", "operator"]
        )
    workspace_order_check(workspace=series.parent.workspace, actor=actor, action="cancel")


def series_cancel_preview(
    *, org: Organization, series_id: object, now: datetime | None = None
) -> tuple[TaskingSeries, SeriesCancelPlan]:
    series = series_get(org=org, series_id=series_id)
    _ensure_cancellable(series)
    return series, _cancel_plan(series, now=now or timezone.now())


def series_cancelling_parent(order: Order) -> TaskingSeries | None:
    """The still cancellable series whose parent `order` is: cancelling that order is cancelling
    its series (`orders.services.order_cancel` hands it to `series_cancel`)."""
    return TaskingSeries.objects.filter(
        parent_id=order.pk, state__in=(TaskingSeries.State.WAITING, TaskingSeries.State.RUNNING)
    ).first()


@transaction.atomic
def series_cancel(
    *,
    org: Organization,
    actor: ActorLike,
    series_id: object,
    now: datetime | None = None,
    expected_charge_credits: int | None = None,
) -> tuple[TaskingSeries, SeriesCancelPlan]:
    """Cancel every occurrence not yet started (an ordered one by `order_cancel`, with its
    settlement), stop the series and cancel the parent (which holds no money); started
    occurrences run on. 404 for another org's series, 403 for viewers, 409 when already over."""
    now = now or timezone.now()
    series = series_get(org=org, series_id=series_id, for_update=True)
    _ensure_may_cancel(org=org, series=series, actor=actor)
    _ensure_cancellable(series)
    # Lock the occurrences before reading the plan: a concurrent sweep skips them (skip_locked).
    locked = list(
        series.occurrences.select_for_update(of=("self",)).select_related("series").order_by("index")
    )
    for occ in locked:  # a decision taken while the row was locked: settle it before the plan
        if occ.state == SeriesOccurrence.State.QUOTED:
            _settle_quoted(occ, actor=actor)
    plan = _cancel_plan(series, now=now)
    if expected_charge_credits is not None:
        effect = plan.effect(series.parent.billing_mode)
        if effect.charged_credits != expected_charge_credits:
            raise Conflict(
                f"Deliveries changed since the preview: cancelling now charges {effect.charged_credits:,} "
                f"credits, not {expected_charge_credits:,}. {plan.sentence} Review and confirm again.",
                slug="cancel-preview-changed",
                current_status=series.parent.status,
                preview=effect.as_wire(),
            )
    for occ, _effect in plan.cancelled:
        if occ.order_id:
            order_cancel(org=org, actor=actor, order_id=occ.order_id)
        occ.state = SeriesOccurrence.State.CANCELLED
        occ.note = "The series was cancelled before it started."
        occ.save(update_fields=["state", "note", "updated_at"])
    series.state = TaskingSeries.State.CANCELLED
    series.cancelled_at = now
    series.save(update_fields=["state", "cancelled_at", "updated_at"])
    event_series_cancelled(
        order=series.parent,
        actor=actor,
        series=series,
        cancelled=len(plan.cancelled),
        running_on=len(plan.running_on),
        released_credits=plan.released_credits,
    )
    parent = Order.objects.get(pk=series.parent_id)
    if Order.Status.CANCELLED in Order.TRANSITIONS[parent.status]:
        order_cancel(org=org, actor=actor, order_id=parent.pk)
    audit_record(
        action="series.cancel",
        actor=actor_of(actor),
        org=org,
        target=series,
        order=str(series.parent_id),
        cancelled=[o.index + 1 for o, _ in plan.cancelled],
        running_on=[o.index + 1 for o in plan.running_on],
        released_credits=plan.released_credits,
    )
    return series, plan
