"""Writes of watches, and the bulk match that runs after every catalog import.

Matching is one SQL statement for all watches at once (never one query per watch): new captures
joined to watches by `ST_Intersects` on both GiST indexes, filtered by each watch's cloud,
off-nadir and collections, scored by how much of the watched AOI the matching captures cover
together (geodesic, measured like coverage), kept when that reaches the watch's minimum, and
inserted as alerts + matches in the same statement. A capture alerts a watch once (unique
constraint); runs are serialised by a transaction-level advisory lock.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import MultiPolygon
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from geopera_web.accounts.models import Organization, Role
from geopera_web.errors import InvalidInput, NotFound, PermissionDenied

from ..cart.models import Cart, CartItem
from ..coverage.calculations import SEGMENT_DEGREES
from ..geometry import geodesic_area_km2, geometry_from_geojson, polygonal_from_geos
from ..models import Capture, CoverageSnapshot, DataProduct, Order
from .models import Watch, WatchAlert, WatchMatch, WatchWatcher
from .selectors import watch_get, watch_role

logger = logging.getLogger(__name__)

WRITE_ROLES = (Role.ADMIN, Role.OPERATOR)


def _require_writer(*, org: Organization, user: User) -> None:
    if watch_role(org=org, user=user) not in WRITE_ROLES:
        raise PermissionDenied(
            "Only operators and admins create or delete watches.", required_roles=list(WRITE_ROLES)
        )


def _number(value: Any, *, field: str, lo: float, hi: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} must be a number between {lo:g} and {hi:g}.") from None
    if not (lo <= number <= hi):  # also refuses NaN
        raise InvalidInput(f"{field} must be between {lo:g} and {hi:g}.")
    return number


class UnknownCollection(NotFound):
    """A collection is named by id: an unknown one is a 404, as the reference answers for ids."""


def _collections(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    wanted = sorted({str(v).strip() for v in items if str(v).strip()})
    known = set(DataProduct.objects.filter(collection__in=wanted).values_list("collection", flat=True))
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise UnknownCollection(f"Unknown collection(s): {', '.join(unknown[:5])}.")
    return wanted


def order_remainder(*, org: Organization, order_id: object) -> MultiPolygon | None:
    """The union of the latest remainder of every AOI of one of the org's tasking orders."""
    from ..coverage.selectors import tasking_order_get

    return _remainder_of(tasking_order_get(org=org, order_id=order_id))  # 404 if not this org's


def _remainder_of(order: Order) -> MultiPolygon | None:
    parts: list = []
    for snap in (
        CoverageSnapshot.objects.filter(order=order)
        .order_by("group_id", "-computed_at", "-id")
        .distinct("group_id")
        .only("remainder")
    ):
        if snap.remainder is not None:
            parts.extend(snap.remainder)
    if not parts:
        return None
    union = MultiPolygon(*parts, srid=4326).unary_union
    return union if isinstance(union, MultiPolygon) else MultiPolygon(union, srid=4326)


@transaction.atomic
def watch_create(
    *,
    org: Organization,
    user: User,
    name: str,
    aoi: Any = None,
    order_id: object = None,
    max_cloud_cover: Any = None,
    max_off_nadir: Any = None,
    collections: Any = None,
    min_new_coverage_percent: Any = None,
) -> Watch:
    """Save an AOI + filters as a watch. With `order_id` the AOI is that tasking order's remainder
    (computed here, never taken from the client); otherwise `aoi` is GeoJSON, validated like any AOI."""
    _require_writer(org=org, user=user)
    collections = _collections(collections)  # first: an unknown collection is a 404 (UnknownCollection)
    name = str(name or "").strip()[:200]
    order = None
    if order_id not in (None, ""):
        from ..coverage.selectors import tasking_order_get

        order = tasking_order_get(org=org, order_id=order_id)
        geom = order_remainder(org=org, order_id=order.pk)
        if geom is None:
            raise InvalidInput("This order has no remainder left to watch: every AOI is covered.")
        name = name or f"Remainder of {order.display_name or 'order'}"
    else:
        if aoi in (None, "", {}):
            raise InvalidInput("Draw or upload an area to watch first.")
        parsed = geometry_from_geojson(aoi, field="aoi", polygonal=True)
        geom = parsed if isinstance(parsed, MultiPolygon) else MultiPolygon(parsed, srid=4326)
        geom = polygonal_from_geos(geom, field="aoi")
        geom = geom if isinstance(geom, MultiPolygon) else MultiPolygon(geom, srid=4326)
    if Watch.objects.filter(org=org).count() >= settings.WATCHES_MAX_PER_ORG:
        raise InvalidInput(
            f"An organization keeps at most {settings.WATCHES_MAX_PER_ORG} watches (WATCHES_MAX_PER_ORG); "
            "delete some first."
        )
    geom.srid = 4326
    watch = Watch.objects.create(
        org=org,
        created_by=user,
        name=name or "Watched area",
        aoi=geom,
        aoi_km2=geodesic_area_km2(geom),
        order=order,
        max_cloud_cover=_number(max_cloud_cover, field="Maximum cloud cover", lo=0, hi=100),
        max_off_nadir=_number(max_off_nadir, field="Maximum off-nadir", lo=0, hi=90),
        collections=collections,
        min_new_coverage_percent=_number(min_new_coverage_percent, field="Minimum new coverage", lo=0, hi=100)
        or 0.0,
        remainder_updated_at=timezone.now() if order else None,
    )
    WatchWatcher.objects.create(watch=watch, user=user)  # the creator is its first watcher
    return watch


@transaction.atomic
def watch_delete(*, org: Organization, user: User, watch_id: object) -> None:
    watch = watch_get(org=org, watch_id=watch_id)  # 404 if not this org's
    _require_writer(org=org, user=user)
    watch.delete()


@transaction.atomic
def watch_watcher_set(*, org: Organization, user: User, watch_id: object, watching: bool) -> Watch:
    """Start or stop `user` being told of the watch's matches (idempotent). Any member of the
    watch's org may (a viewer too: being told spends nothing); another org's watch is a 404."""
    watch = watch_get(org=org, watch_id=watch_id)
    if watch_role(org=org, user=user) is None:
        raise PermissionDenied("Only members of the organization watch its watches.")
    if watching:
        WatchWatcher.objects.get_or_create(watch=watch, user=user)
    else:
        WatchWatcher.objects.filter(watch=watch, user=user).delete()
    return watch


def watch_remainders_follow(*, order: Order, now: dt.datetime | None = None) -> int:
    """Rewrite the watched area of every watch of `order`'s remainder from its latest coverage
    snapshots (called where they are written, `coverage_recompute`, in the same transaction): the
    remainder shrinks as deliveries cover it, so an import over the part now covered alerts no one.
    Nothing left (every AOI covered): the watch is marked covered and never matches again.
    Returns how many watches changed. Precondition: the caller holds the order's row lock."""
    watches = list(Watch.objects.select_for_update().filter(order=order, covered_at__isnull=True))
    if not watches:
        return 0
    now = now or timezone.now()
    remainder = _remainder_of(order)
    for watch in watches:
        if remainder is None:
            watch.covered_at = now
        else:
            remainder.srid = 4326
            watch.aoi = remainder
            watch.aoi_km2 = geodesic_area_km2(remainder)
        watch.remainder_updated_at = now
    Watch.objects.bulk_update(watches, ["aoi", "aoi_km2", "covered_at", "remainder_updated_at"])
    return len(watches)


# --- the bulk match -------------------------------------------------------------------------------

_MATCH_SQL = f"""
WITH fresh AS (
    SELECT id, footprint, cloud_cover, off_nadir, collection, created_at
    FROM orders_capture WHERE created_at >= %(since)s
),
hits AS (
    SELECT w.id AS watch_id, c.id AS capture_id, c.footprint
    FROM orders_watch w
    JOIN fresh c ON ST_Intersects(c.footprint, w.aoi)
    WHERE c.created_at >= w.created_at
      AND w.covered_at IS NULL
      AND (w.max_cloud_cover IS NULL OR c.cloud_cover <= w.max_cloud_cover)
      AND (w.max_off_nadir IS NULL OR c.off_nadir <= w.max_off_nadir)
      AND (cardinality(w.collections) = 0 OR c.collection = ANY(w.collections))
      AND NOT EXISTS (SELECT 1 FROM orders_watchmatch m WHERE m.watch_id = w.id AND m.capture_id = c.id)
),
scored AS (
    SELECT h.watch_id, count(*) AS n, w.min_new_coverage_percent AS minimum,
           100.0 * COALESCE(ST_Area(ST_Segmentize(
               ST_CollectionExtract(ST_Intersection(w.aoi, ST_Union(h.footprint)), 3),
               {SEGMENT_DEGREES})::geography), 0)
           / NULLIF(ST_Area(ST_Segmentize(w.aoi, {SEGMENT_DEGREES})::geography), 0) AS pct
    FROM hits h JOIN orders_watch w ON w.id = h.watch_id
    GROUP BY h.watch_id, w.id
),
alerts AS (
    INSERT INTO orders_watchalert (id, watch_id, created_at, new_coverage_percent, capture_count)
    SELECT gen_random_uuid(), watch_id, %(now)s, LEAST(100.0, pct), n
    -- A capture that only touches the area's edge covers none of it: no alert (minimum 0 too).
    FROM scored WHERE pct > 1e-9 AND pct + 1e-9 >= minimum
    RETURNING id, watch_id
),
matched AS (
    INSERT INTO orders_watchmatch (watch_id, alert_id, capture_id, created_at)
    SELECT h.watch_id, a.id, h.capture_id, %(now)s FROM hits h JOIN alerts a USING (watch_id)
    ON CONFLICT (watch_id, capture_id) DO NOTHING
    RETURNING alert_id
)
SELECT a.id FROM alerts a
"""


@transaction.atomic
def watches_match(*, since: dt.datetime, now: dt.datetime | None = None) -> list[WatchAlert]:
    """Find every watch that captures imported since `since` match, in one statement, record an
    alert per watch, and write one `watch.matched` event per alert in the same transaction: its
    watchers are told from that event (in the app and by e-mail, per each person's preferences;
    `geopera_web.events.notifications`), resolved for the whole batch in one query. Safe to run
    twice: a capture alerts a watch once."""
    now = now or timezone.now()
    with connection.cursor() as cur:
        # Two runs at once could each score the same captures; one after the other, the second finds
        # them matched already.
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('orders.watches.match'))")
        cur.execute(_MATCH_SQL, {"since": since, "now": now})
        alert_ids = [row[0] for row in cur.fetchall()]
    if not alert_ids:
        return []
    alerts = list(WatchAlert.objects.filter(pk__in=alert_ids).select_related("watch__org").order_by("pk"))
    from geopera_web.events.services import events_emit_many

    events_emit_many([(a.watch.org, "watch.matched", alert_event_data(a)) for a in alerts])
    return alerts


def alert_url(alert: WatchAlert) -> str:
    return reverse("orders:watch_alert_open", args=[alert.pk])


def alert_event_data(alert: WatchAlert) -> dict[str, Any]:
    """The `watch.matched` event's data (webhooks carry it; notifications are titled from it)."""
    watch = alert.watch
    return {
        "watchId": str(watch.pk),
        "watchName": watch.name,
        "alertId": str(alert.pk),
        "captures": alert.capture_count,
        "newCoveragePercent": round(alert.new_coverage_percent, 2),
        "aoiKm2": round(watch.aoi_km2, 3),
        "orderId": str(watch.order_id) if watch.order_id else None,
        "path": alert_url(alert),
        "url": settings.SITE_URL.rstrip("/") + alert_url(alert),
    }


def watch_matched_recipients(events: list) -> dict[Any, list[int]]:
    """Who hears of each `watch.matched` event (by event id): the watch's watchers, for the whole
    batch in one query (the notification fan-out then keeps members of the event's org only)."""
    from geopera_web.errors import parse_uuid

    wanted = {e.pk: parse_uuid(e.payload.get("watchId")) for e in events}
    by_watch: dict[Any, list[int]] = {}
    for watch_id, user_id in (
        WatchWatcher.objects.filter(
            watch_id__in={w for w in wanted.values() if w}, watch__org_id__in={e.org_id for e in events}
        )
        .order_by("watch_id", "created_at", "id")
        .values_list("watch_id", "user_id")
    ):
        by_watch.setdefault(watch_id, []).append(user_id)
    return {pk: list(by_watch.get(wid, [])) for pk, wid in wanted.items()}


def watches_match_enqueue(*, since: dt.datetime) -> None:
    """After the import commits, match it against every watch in a Celery task."""
    from ..tasks import match_watches

    def enqueue() -> None:
        try:
            match_watches.delay(since.isoformat())
        except Exception:  # a broker outage must not fail a committed import
            logger.exception("Could not queue the watch match for captures since %s", since)

    transaction.on_commit(enqueue)


# --- opening an alert -----------------------------------------------------------------------------


def _alert_captures(alert: WatchAlert) -> list[Capture]:
    return list(
        # Still over the watched area (a remainder watch's area shrinks as deliveries cover it).
        Capture.objects.filter(
            pk__in=WatchMatch.objects.filter(alert=alert).values("capture_id"),
            footprint__intersects=alert.watch.aoi,
        ).order_by("-acquired_at")[: settings.CART_MAX_CAPTURES]
    )


def watch_alert_preview(*, org: Organization, user: User, alert_id: object) -> dict[str, Any]:
    """What opening an alert would add to the person's cart (nothing is written): its captures
    clipped to the watched area, the server's price for them, and which are already in the cart."""
    from ..cart.pricing import archive_quote
    from .selectors import watch_alert_get

    alert = watch_alert_get(org=org, user=user, alert_id=alert_id)  # 404 unless theirs
    captures = _alert_captures(alert)
    clip = json.loads(alert.watch.aoi.json)
    quote = archive_quote(captures=[{"id": c.scene_id, "geometry": clip} for c in captures])
    in_cart = set(
        CartItem.objects.filter(cart__org=org, cart__user=user, capture__in=captures).values_list(
            "capture__scene_id", flat=True
        )
    )
    return {"alert": alert, "captures": captures, "quote": quote, "in_cart": in_cart}


@transaction.atomic
def watch_alert_to_cart(*, org: Organization, user: User, alert_id: object) -> tuple[WatchAlert, list[str]]:
    """Put an alert's captures in the person's cart, clipped to the watched area (so the price is
    that of the area watched), with the watched area as the cart's AOI. Returns the scene ids.
    Idempotent: a capture already in the cart is not added again."""
    from .selectors import watch_alert_get

    alert = watch_alert_get(org=org, user=user, alert_id=alert_id)  # 404 unless theirs
    captures = _alert_captures(alert)
    cart, _ = Cart.objects.select_for_update().get_or_create(org=org, user=user)
    cart.aoi = alert.watch.aoi
    cart.save(update_fields=["aoi", "updated_at"])
    have = set(CartItem.objects.filter(cart=cart).values_list("capture_id", flat=True))
    room = settings.CART_MAX_CAPTURES - len(have)
    new = [c for c in captures if c.pk not in have][: max(0, room)]
    CartItem.objects.bulk_create([CartItem(cart=cart, capture=c, clip_geometry=alert.watch.aoi) for c in new])
    return alert, [c.scene_id for c in captures]
