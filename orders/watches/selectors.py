"""Reads of watches, always inside the caller's org (another org's watch is a 404)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Max, QuerySet

from geopera_web.accounts.models import Membership, Organization
from geopera_web.errors import NotFound, parse_uuid

from .models import Watch, WatchAlert, WatchMatch


def watch_role(*, org: Organization, user: User) -> str | None:
    return Membership.objects.filter(org=org, user=user).values_list("role", flat=True).first()


def watch_list(*, org: Organization) -> QuerySet[Watch]:
    """The org's watches with their alert figures (one query)."""
    return (
        Watch.objects.filter(org=org)
        .select_related("created_by", "order")
        .annotate(
            alert_count=Count("alerts", distinct=True),
            match_count=Count("matches", distinct=True),
            last_alert_at=Max("alerts__created_at"),
        )
        .defer("aoi")
        .order_by("-created_at", "-id")
    )


def watch_get(*, org: Organization, watch_id: object) -> Watch:
    pk = parse_uuid(watch_id)
    watch = Watch.objects.filter(org=org, pk=pk).first() if pk else None
    if watch is None:
        raise NotFound("No such watch.")
    return watch


def watch_alert_get(*, org: Organization, user: User, alert_id: object) -> WatchAlert:
    """An alert of one of this person's watches (it went to them alone): anyone else's is a 404."""
    pk = parse_uuid(alert_id)
    alert = (
        WatchAlert.objects.filter(watch__org=org, watch__created_by=user, pk=pk)
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

    scene_ids = list(
        WatchMatch.objects.filter(watch=watch)
        .order_by("-capture__acquired_at")
        .values_list("capture__scene_id", flat=True)[:500]
    )
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
            WHERE w.id = %s GROUP BY w.id
            """,
            [watch.pk],
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
