"""Demo data of the orders app for `manage.py seed_demo` (registered in `orders/hooks.py`): the archive
catalog, three archive orders placed through the real services, and four tasking orders with
coverage histories. Every seeder is idempotent."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from typing import Any

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import transaction
from django.utils import timezone

from geopera_web.demo import DemoWorld

DEMO_CATALOG_SEED = 2024
DEMO_CATALOG_COUNT = 4000


def seed_catalog_demo(world: DemoWorld) -> None:
    """Archive products and a few thousand captures over well-known cities (idempotent)."""
    from django.utils import timezone

    from .catalog.data import generate_scenes
    from .catalog.services import archive_products_ensure, captures_bulk_load
    from .models import Capture

    created = archive_products_ensure()
    world.log(f"catalog: archive products ready ({created} new)")
    marker = f"_{DEMO_CATALOG_SEED:x}-"
    if Capture.objects.filter(scene_id__contains=marker).exists():
        world.log("catalog: demo captures already present, skipped")
        return
    inserted = captures_bulk_load(
        rows=generate_scenes(count=DEMO_CATALOG_COUNT, seed=DEMO_CATALOG_SEED, end_date=timezone.now().date())
    )
    world.log(f"catalog: {inserted} demo captures")


# --- coverage demo ---------------------------------------------------------------------------------
# Four tasking orders for Acme over recognisable places, delivered by the simulated provider on a
# pinned schedule (so the history spans days): one ACTIVE at ~100% / ~60%, one ACTIVE that keeps
# receiving passes live under `make demo` (beat), one FULFILLED, one PARTIALLY_FULFILLED with its
# pro-rata refund.

_BOX = "POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"

COVERAGE_DEMO: list[dict[str, Any]] = [
    {
        "key": "coverage-vintage",
        "name": "Vintage 2027 vine & irrigation survey",
        "workspace": "Crop monitoring",
        "aois": [
            (
                "Hunter Valley vineyards (Pokolbin)",
                "POLYGON((151.05 -32.86, 151.38 -32.88, 151.42 -32.70, 151.30 -32.60, 151.10 -32.64, 151.05 -32.86))",
            ),
            (
                "Murrumbidgee Irrigation Area (Griffith)",
                "POLYGON((145.90 -34.45, 146.35 -34.47, 146.40 -34.18, 146.15 -34.10, 145.92 -34.16, 145.90 -34.45),"
                # Griffith town itself is not farmland: a hole in the AOI.
                "(146.02 -34.31, 146.08 -34.31, 146.08 -34.27, 146.02 -34.27, 146.02 -34.31))",
            ),
        ],
        "coverage": [1.0, 0.7],
        "seed": 2027,
        "schedule_days": [-6, -4.5, -3, -1.2],
        "window_days": 24,
        "status": "active",
    },
    {
        "key": "coverage-botany",
        "name": "Port Botany berth & foreshore monitoring",
        "workspace": "Water & irrigation",
        "aois": [
            ("Port Botany & Botany Bay", _BOX.format(x0=151.13, y0=-34.05, x1=151.27, y1=-33.93)),
            ("Georges River estuary", _BOX.format(x0=150.98, y0=-34.03, x1=151.12, y1=-33.93)),
        ],
        "coverage": [1.0, 1.0],
        "seed": 31,
        # The first batches are history; the rest arrive live (beat polls every 30 s) a few
        # minutes after `make demo`, so coverage visibly grows and the order fulfils itself.
        "schedule_days": [-2, -0.8],
        "live_minutes": [3, 6, 9],
        "window_days": 14,
        "status": "active",
    },
    {
        "key": "coverage-barossa",
        "name": "Barossa Valley harvest baseline",
        "workspace": "Crop monitoring",
        "aois": [
            ("Barossa Valley floor", _BOX.format(x0=138.85, y0=-34.68, x1=139.08, y1=-34.42)),
            ("Eden Valley ridge", _BOX.format(x0=139.09, y0=-34.70, x1=139.20, y1=-34.52)),
        ],
        "coverage": [1.0, 1.0],
        "seed": 5,
        "schedule_days": [-20, -17, -15, -12],
        "window_days": -5,
        "status": "fulfilled",
    },
    {
        "key": "coverage-downs",
        "name": "Darling Downs cotton emergence",
        "workspace": "Crop monitoring",
        "aois": [
            ("Dalby cotton block", _BOX.format(x0=151.05, y0=-27.30, x1=151.40, y1=-27.05)),
            ("Cecil Plains irrigation", _BOX.format(x0=151.10, y0=-27.62, x1=151.30, y1=-27.45)),
        ],
        "coverage": [0.62, 1.0],
        "seed": 77,
        "schedule_days": [-16, -13, -10, -8],
        "window_days": -2,
        "status": "partially_fulfilled",
    },
    {
        # A long, thin transect: ~30 strips in 8 passes, more than the order page lists at once
        # (ORDER_PAGE_MAX_ROWS), so its assets and lineage show "Show more".
        "key": "coverage-transect",
        "name": "Riverina soil-moisture transect",
        "workspace": "Water & irrigation",
        "aois": [("Hay to Wagga Wagga transect", _BOX.format(x0=144.6, y0=-34.62, x1=149.6, y1=-34.50))],
        "coverage": [0.9],
        "seed": 41,
        "schedule_days": [-9, -8, -7, -6, -5, -4, -3, -2],
        "window_days": 30,
        "status": "active",
    },
    {
        # Cancelled part-way: the delivered share was charged, the undelivered rest released.
        "key": "coverage-mudgee",
        "name": "Mudgee vineyard survey",
        "workspace": "Crop monitoring",
        "aois": [
            ("Mudgee vineyards", _BOX.format(x0=149.50, y0=-32.65, x1=149.70, y1=-32.50)),
            ("Rylstone", _BOX.format(x0=149.90, y0=-32.85, x1=150.02, y1=-32.75)),
        ],
        "coverage": [0.55, 0.0],
        "seed": 19,
        "schedule_days": [-5, -3],
        "window_days": 20,
        "status": "cancelled",
    },
]


def _mpoly(wkt: str) -> MultiPolygon:
    geom = GEOSGeometry(wkt, srid=4326)
    return geom if geom.geom_type == "MultiPolygon" else MultiPolygon(geom, srid=4326)


def _iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def seed_coverage(world: DemoWorld) -> None:
    from geopera_web.accounts.models import Workspace
    from geopera_web.billing.selectors import wallet_get
    from geopera_web.billing.services import charge_authorize, wallet_topup

    from .coverage.services import coverage_recompute, order_coverage_settle
    from .fulfilment.services import tasking_deliveries_sync
    from .geometry import geodesic_area_km2
    from .models import DataProduct, Order, OrderEvent, OrderGroup, OrderType
    from .pricing import billed_area_km2, credits_for_area
    from .services import order_cancel, order_transition

    org, admin = world.orgs["acme"], world.users["acme_admin"]
    product = (
        DataProduct.objects.filter(id="spot-tasking").first()
        or DataProduct.objects.filter(order_type=OrderType.TASKING, is_active=True)
        .order_by("credits_per_km2")
        .first()
    )
    if product is None:
        product, _ = DataProduct.objects.get_or_create(
            id="sim-tasking-50cm",
            defaults={
                "name": "Simulated tasking 50 cm",
                "order_type": OrderType.TASKING,
                "collection": "sim-tasking",
                "credits_per_km2": 900,
                "min_area_km2": 25,
            },
        )
    now = timezone.now()
    for spec in COVERAGE_DEMO:
        if Order.objects.filter(org=org, metadata__demo=spec["key"]).exists():
            continue
        with transaction.atomic():
            days = [now + timedelta(days=d) for d in spec["schedule_days"]]
            live = [now + timedelta(minutes=m) for m in spec.get("live_minutes", [])]
            start = days[0] - timedelta(days=1)
            workspace = (
                Workspace.objects.filter(org=org, name=spec["workspace"]).first()
                or Workspace.objects.filter(org=org).first()
            )
            groups = []
            for name, wkt in spec["aois"]:
                geom = _mpoly(wkt)
                area = geodesic_area_km2(geom)
                groups.append(
                    (
                        name,
                        geom,
                        area,
                        billed_area_km2(product=product, area_km2=area),
                        credits_for_area(product=product, area_km2=area),
                    )
                )
            total = sum(g[4] for g in groups)
            if wallet_get(org=org).available_credits < total:
                wallet_topup(org=org, credits=total, memo="Demo top-up for tasking orders", actor=admin)
            order = Order.objects.create(
                org=org,
                workspace=workspace,
                order_type=OrderType.TASKING,
                status=Order.Status.PENDING,
                sub_status=Order.SubStatus.QUOTATION_WAITING_RESPONSE,
                display_name=spec["name"],
                data_product=product,
                params={
                    "displayName": spec["name"],
                    "acquisitionStart": _iso(start),
                    "acquisitionEnd": _iso(now + timedelta(days=spec["window_days"])),
                    "cloudCoverage": 20,
                },
                billing_mode=org.billing_mode,
                total_credits=total,
                created_by=admin,
                metadata={
                    "demo": spec["key"],
                    "simulation": {
                        "seed": spec["seed"],
                        "coverage": spec["coverage"],
                        "key": spec["key"],
                        # Every batch on the schedule: none left over for the first beat to deliver.
                        "batches": len(days) + len(live),
                        "schedule": [_iso(t) for t in days + live],
                    },
                },
            )
            for i, (name, geom, area, billed, credits) in enumerate(groups):
                OrderGroup.objects.create(
                    order=order,
                    position=i,
                    name=name,
                    data_product=product,
                    geometry=geom,
                    area_km2=area,
                    billed_area_km2=billed,
                    credits=credits,
                )
            order.charge = charge_authorize(
                org=org,
                credits=total,
                reference=f"order:{order.pk}",
                actor=admin,
                description=f"Tasking: {spec['name']}",
            )
            order.save(update_fields=["charge"])
            order_transition(
                order=order,
                to=Order.Status.ACTIVE,
                actor=admin,
                sub_status=Order.SubStatus.QUOTATION_ACCEPTED,
                message="Quotation accepted.",
            )
            # Demo history: the order was placed and accepted before its first pass.
            Order.objects.filter(pk=order.pk).update(created_at=start - timedelta(days=1))
            OrderEvent.objects.filter(order=order).update(created_at=start)
        for when in days:
            tasking_deliveries_sync(order_id=order.pk, now=when)
            OrderEvent.objects.filter(order=order, created_at__gt=when).update(created_at=when)
            coverage_recompute(order_id=order.pk, now=when + timedelta(minutes=2))
            OrderEvent.objects.filter(order=order, created_at__gt=when + timedelta(minutes=2)).update(
                created_at=when + timedelta(minutes=2)
            )
        if spec["status"] == "partially_fulfilled":
            order_coverage_settle(order_id=order.pk, now=now)
        elif spec["status"] == "cancelled":
            order_cancel(org=org, actor=admin, order_id=order.pk)
        order.refresh_from_db()
        world.log(f"  coverage demo: {spec['name']} ({order.status})")


DEMO_TAG = "demo-seed"
# The demo orders clip every capture to the CBD (the catalog's strips are hundreds of km² each).
_CBD = (151.18, -33.89, 151.23, -33.85)


def _sydney_captures(world: DemoWorld) -> list:
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from .models import Capture, DataProduct

    area = Polygon.from_bbox(_CBD)
    area.srid = 4326
    found = list(
        Capture.objects.filter(
            footprint__intersects=area, data_product__order_type="archive", data_product__is_active=True
        ).order_by("data_product__credits_per_km2", "-acquired_at", "scene_id")[:6]
    )
    if len(found) >= 4:
        return found
    world.log("archive-orders: no catalog captures over Sydney's CBD; creating a handful")
    product, _ = DataProduct.objects.get_or_create(
        id="demo-optical-50cm",
        defaults={
            "name": "Optical 50 cm (demo)",
            "order_type": "archive",
            "collection": "demo-optical",
            "credits_per_km2": 120,
            "min_area_km2": 25.0,
        },
    )
    captures = []
    for i in range(6):
        left = 151.12 + i * 0.02  # every strip crosses the CBD, which the demo orders clip to
        poly = Polygon.from_bbox((left, -33.95, left + 0.1, -33.80))
        poly.srid = 4326
        capture, _ = Capture.objects.get_or_create(
            collection=product.collection,
            scene_id=f"DEMO-SYD-{i + 1:02d}",
            defaults={
                "data_product": product,
                "footprint": MultiPolygon(poly, srid=4326),
                "acquired_at": dt.datetime(2026, 10, 1 + i, 0, 5, tzinfo=dt.UTC),
                "cloud_cover": 3.0 + i,
                "off_nadir": 8.0 + i,
                "gsd": 0.5,
                "sun_elevation": 55.0,
                "platform": "demo-sat-1",
            },
        )
        captures.append(capture)
    return captures


def seed_archive_orders(world: DemoWorld) -> None:
    """Three Acme archive orders placed through the real services: one processing, one fulfilled,
    one cancelled. Idempotent: does nothing once the demo orders exist."""
    from .cart.services import archive_order_place
    from .fulfilment.services import archive_order_sync
    from .fulfilment.simulator import SimulatedProvider
    from .models import Order
    from .services import order_cancel

    org, user = world.orgs["acme"], world.users["acme_operator"]
    if Order.objects.filter(org=org, tags__contains=[DEMO_TAG]).exists():
        world.log("archive-orders: demo orders already there")
        return
    captures = _sydney_captures(world)
    x0, y0, x1, y1 = _CBD
    cbd = {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}
    plans = [
        ("Harbour bridge survey", captures[0:2], "fulfilled"),
        ("CBD rooftops refresh", captures[2:4], "processing"),
        ("Barangaroo change check", captures[4:6] or captures[0:1], "cancelled"),
    ]
    for name, chosen, fate in plans:
        order = archive_order_place(
            org=org,
            actor=user,
            captures=[{"id": c.scene_id, "geometry": cbd} for c in chosen],
            display_name=name,
            tags=[DEMO_TAG, "sydney"],
        )
        if fate == "fulfilled":
            # The simulated provider delivers after its delay; the demo wants one delivered now.
            now = SimulatedProvider(overrides={"ARCHIVE_DELAY_SECONDS": 0, "ARCHIVE_FAILURE_RATE": 0.0})
            archive_order_sync(order_id=order.pk, provider=now)
        elif fate == "cancelled":
            order_cancel(org=org, actor=user, order_id=order.pk)
        world.log(f"archive-orders: {name} ({fate})")


DEMO_APPROVAL_TAG = "demo-approval"
DEMO_APPROVAL_THRESHOLD = 50_000  # A$500: operators' orders above it wait for an admin


def seed_approvals(world: DemoWorld) -> None:
    """Acme's spend policy (an approval threshold) and one operator's archive order above it,
    waiting in the unified inbox with the operator's note. Idempotent."""
    from .approvals.models import SpendPolicy
    from .approvals.services import spend_policy_update
    from .cart.pricing import archive_quote
    from .cart.services import archive_order_place
    from .models import Order

    org, admin, operator = world.orgs["acme"], world.users["acme_admin"], world.users["acme_operator"]
    if Order.objects.filter(org=org, tags__contains=[DEMO_APPROVAL_TAG]).exists():
        world.log("approvals: demo approval already there")
        return
    found = _sydney_captures(world)
    # One order is fulfilled by one provider: captures of the first one's host only.
    captures = [{"id": c.scene_id} for c in found if c.data_product.host == found[0].data_product.host][:3]
    price = archive_quote(captures=captures).total_credits
    org_row = SpendPolicy.objects.filter(org=org, workspace__isnull=True).first()
    threshold = org_row.approval_threshold_credits if org_row else None
    if threshold is None or threshold >= price:
        threshold = max(0, min(DEMO_APPROVAL_THRESHOLD, price - 1))
        spend_policy_update(org=org, actor=admin, approval_threshold_credits=threshold)
    order = archive_order_place(
        org=org,
        actor=operator,
        captures=captures,
        display_name="Sydney harbour full strips",
        tags=[DEMO_APPROVAL_TAG, "sydney"],
        approval_note="Full strips for the harbour foreshore baseline; the client pays the difference.",
    )
    world.log(f"approvals: threshold {threshold:,} credits; {order.display_name} waits for an admin")


DEMO_WATCH_SCENE = "DEMO-WATCH-DALBY-01"


def demo_quicklook_urls(scene_id: str) -> dict[str, str]:
    """Site-relative quicklook and thumbnail of a scene (the app's own SVG), so a seeded demo works
    on any host and port; the STAC API makes them absolute from the request."""
    from django.urls import reverse

    quicklook = reverse("orders:quicklook", kwargs={"scene_id": scene_id})
    return {"quicklook_url": quicklook, "thumbnail_url": f"{quicklook}?size=thumb"}


def seed_watches(world: DemoWorld) -> None:
    """An operator watches the remainder of the Darling Downs order (partially fulfilled) and the
    Acme admin watches it too (a second watcher); a new archive capture over it is imported through
    `catalog_import`, and the watch's match is run at once (a worker would run it after commit):
    both are told, the coverage page shows what the archive could now cover and at what price, the
    Watches page the alert and its watchers. Idempotent."""
    import json

    from .catalog.services import catalog_import
    from .models import Capture, DataProduct, Order, OrderType, Watch
    from .watches.services import watch_create, watch_watcher_set, watches_match

    org, operator = world.orgs["acme"], world.users["acme_operator"]
    order = Order.objects.filter(org=org, metadata__demo="coverage-downs").first()
    if order is None:
        world.log("watches: no Darling Downs demo order, skipped")
        return
    if Watch.objects.filter(org=org, order=order).exists():
        world.log("watches: demo watch already there")
        return
    watch = watch_create(
        org=org,
        user=operator,
        name="Darling Downs cotton: the rest",
        order_id=order.pk,
        min_new_coverage_percent=25,
    )
    if admin := world.users.get("acme_admin"):
        watch_watcher_set(org=org, user=admin, watch_id=watch.pk, watching=True)
    product = (
        DataProduct.objects.filter(order_type=OrderType.ARCHIVE, is_active=True)
        .order_by("credits_per_km2")
        .first()
    )
    if product is None:
        world.log("watches: no archive product, no match")
        return
    x0, y0, x1, y1 = watch.aoi.extent
    pad = 0.01
    started = timezone.now()
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": DEMO_WATCH_SCENE,
        "collection": product.collection,
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [
                    [x0 - pad, y0 - pad],
                    [x1 + pad, y0 - pad],
                    [x1 + pad, y1 + pad],
                    [x0 - pad, y1 + pad],
                    [x0 - pad, y0 - pad],
                ]
            ],
        },
        "properties": {
            "datetime": _iso(started - timedelta(hours=20)),
            "eo:cloud_cover": 3.0,
            "gsd": 0.5,
            "view:off_nadir": 9.0,
            "platform": "demo-sat-2",
        },
    }
    catalog_import(text=json.dumps({"type": "FeatureCollection", "features": [item]}))
    # The synthetic quicklook every simulated scene has, site-relative like theirs (an import keeps
    # absolute hrefs only, and an absolute one would name the host the demo was seeded for).
    Capture.objects.filter(scene_id=DEMO_WATCH_SCENE).update(**demo_quicklook_urls(DEMO_WATCH_SCENE))
    alerts = watches_match(since=started)
    world.log(f"watches: {watch.name} ({len(alerts)} alert(s))")


def seed_order_watchers(world: DemoWorld) -> None:
    """The Acme admin and viewer watch the operator's "Harbour bridge survey" (so its deliveries
    and status changes reach them too). Idempotent."""
    from .models import Order
    from .services import order_watch_set

    org = world.orgs["acme"]
    order = Order.objects.filter(
        org=org, tags__contains=[DEMO_TAG], display_name="Harbour bridge survey"
    ).first()
    if order is None:
        return
    for key in ("acme_admin", "acme_viewer"):
        order_watch_set(org=org, user=world.users[key], order_id=order.pk, watching=True)
    world.log(f"watchers: the Acme admin and viewer watch {order}")
