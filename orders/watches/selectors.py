"""Reads of watches, always inside the caller's org (another org's watch is a 404)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Exists, Max, OuterRef, QuerySet

from geopera_web.accounts.models import Membership, Organization
from geopera_web.errors import NotFound, parse_uuid

from .models import Watch, WatchAlert, WatchMatch, WatchWatcher


def watch_role(*, org: Organization, user: User) -> str | None:
    return Membership.objects.filter(org=org, user=user).values_list("role", flat=True).first()


def watch_list(*, org: Organization, user: User | None = None) -> QuerySet[Watch]:
    """The org's watches with their alert figures, how many people watch each and whether `user`
    does (one query)."""
    qs = (
        Watch.objects.filter(org=org)
        .select_related("created_by", "order")
        .annotate(
            alert_count=Count("alerts", distinct=True),
            match_count=Count("matches", distinct=True),
            watcher_count=Count("watchers", distinct=True),
            last_alert_at=Max("alerts__created_at"),
        )
        .defer("aoi")
        .order_by("-created_at", "-id")
    )
    if user is not None:
        qs = qs.annotate(watching=Exists(WatchWatcher.objects.filter(watch=OuterRef("pk"), user=user)))
    return qs


def watch_watcher_names(*, watch_ids: list[Any]) -> dict[Any, list[str]]:
    """Who watches each of these watches (one query), for showing on the list."""
    names: dict[Any, list[str]] = {}
    for watch_id, username, first, last in (
        WatchWatcher.objects.filter(watch_id__in=watch_ids)
        .order_by("created_at", "id")
        .values_list("watch_id", "user__username", "user__first_name", "user__last_name")
    ):
        names.setdefault(watch_id, []).append(f"{first} {last}".strip() or username)
    return names


def watch_get(*, org: Organization, watch_id: object) -> Watch:
    pk = parse_uuid(watch_id)
    watch = Watch.objects.filter(org=org, pk=pk).first() if pk else None
    if watch is None:
        raise NotFound("No such watch.")
    return watch


def watch_alert_get(*, org: Organization, user: User, alert_id: object) -> WatchAlert:
    """An alert of a watch this person watches (it went to its watchers): anyone else's is a 404."""
    pk = parse_uuid(alert_id)
    alert = (
        WatchAlert.objects.filter(
            Exists(WatchWatcher.objects.filter(watch=OuterRef("watch"), user=user)), watch__org=org, pk=pk
        )
        .select_related("watch")
        .first()
        if pk
        else None
    )
    if alert is None:
        raise NotFound("No such watch alert.")
    return alert


def watch_outlook(*, watch: Watch) -> dict[str, Any] | None:
    """What the archive could now cover of a watched area, from every capture that matched it:
    the share of the area (geodesic, measured as the match measures it) and the server's price
    for those captures clipped to the area (the cart's own pricing)."""
    from ..cart.pricing import archive_quote

    # Only matches that still reach the watched area: a remainder watch's area shrinks as
    # deliveries cover it, and a capture over the part now covered is no help.
    rows = list(
        WatchMatch.objects.filter(watch=watch, capture__footprint__intersects=watch.aoi)
        .order_by("-capture__acquired_at")
        .values_list("capture_id", "capture__scene_id")[:500]
    )
    scene_ids = [sid for _, sid in rows]
    if not scene_ids:
        return None
    from django.db import connection

    from ..coverage.calculations import SEGMENT_DEGREES

    with connection.cursor() as cur:
        cur.execute(
            f"""
            SELECT 100.0 * COALESCE(ST_Area(ST_Segmentize(ST_CollectionExtract(
                       ST_Intersection(w.aoi, ST_Union(c.footprint)), 3), {SEGMENT_DEGREES})::geography), 0)
                   / NULLIF(ST_Area(ST_Segmentize(w.aoi, {SEGMENT_DEGREES})::geography), 0)
            FROM orders_watch w JOIN orders_watchmatch m ON m.watch_id = w.id
            JOIN orders_capture c ON c.id = m.capture_id
            WHERE w.id = %s AND c.id = ANY(%s) GROUP BY w.id
            """,
            [watch.pk, [pk for pk, _ in rows]],
        )
        row = cur.fetchone()
    import json

    clip = json.loads(watch.aoi.json)
    quote = archive_quote(captures=[{"id": sid, "geometry": clip} for sid in scene_ids])
    latest = WatchAlert.objects.filter(watch=watch).order_by("-created_at").first()
    return {
        "percent": min(100.0, float(row[0] or 0.0)) if row else 0.0,
        "captures": len(scene_ids),
        "credits": quote.total_credits,
        "priceable": not quote.errors,
        "alert": latest,
    }
