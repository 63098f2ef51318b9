"""Demo data of the tasking app for `manage.py seed_demo` (registered in `tasking/hooks.py`): the sensor
catalog and each demo org's template library, then tasking orders of Acme and Blue Harbour at every
stage, so the inbox, the support desk and the tasking list are populated. Idempotent: templates are
found again by name, each demo order by Order.metadata["demo"], and left alone once they exist."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.utils import timezone

from geopera_web.demo import DemoWorld
from geopera_web.errors import ApplicationError


def _square(lon: float, lat: float, km: float) -> dict[str, Any]:
    dlat = km / 111.32 / 2
    dlon = km / (111.32 * math.cos(math.radians(lat))) / 2
    ring = [
        [lon - dlon, lat - dlat],
        [lon + dlon, lat - dlat],
        [lon + dlon, lat + dlat],
        [lon - dlon, lat + dlat],
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _fc(*areas: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": g, "properties": {"name": n}} for n, g in areas],
    }


def _iso(dt: Any) -> str:
    return dt.replace(microsecond=0).isoformat().replace("+00:00", "Z")


# (key, org, product, display name, stage, areas, params overrides)
DEMO_ORDERS: list[tuple[str, str, str, str, str, list[tuple[str, dict]], dict[str, Any]]] = [
    (
        "acme-kalgoorlie",
        "acme",
        "worldview-legion-tasking",
        "Kalgoorlie Super Pit — quarterly volumetrics",
        "waiting_study",
        [("Super Pit", _square(121.50, -30.78, 11)), ("Tailings dam", _square(121.43, -30.72, 10))],
        {"cloudCoverage": 10, "incidenceAngle": 20},
    ),
    (
        "acme-merredin",
        "acme",
        "worldview-legion-tasking",
        "Merredin paddocks — pre-harvest",
        "study_pending",
        [("North paddocks", _square(118.28, -31.42, 12)), ("South paddocks", _square(118.31, -31.55, 11))],
        {"cloudCoverage": 15, "incidenceAngle": 25},
    ),
    (
        "acme-pilbara",
        "acme",
        "terrasar-x-tasking",
        "Pilbara haul roads — wet season radar",
        "quotation_pending",
        [("Haul road corridor", _square(118.70, -22.70, 12))],
        {"incidenceAngle": 40},
    ),
    (
        "acme-wagga",
        "acme",
        "worldview-legion-tasking",
        "Wagga Wagga trial plots",
        "active",
        [("Trial plots", _square(147.37, -35.11, 10))],
        {"cloudCoverage": 20, "incidenceAngle": 25},
    ),
    (
        "acme-broken-hill",
        "acme",
        "worldview-legion-tasking",
        "Broken Hill tailings — annual survey",
        "waiting_quote",
        [("Tailings storage", _square(141.46, -31.96, 10))],
        {"cloudCoverage": 15, "incidenceAngle": 25},
    ),
    (
        "acme-draft",
        "acme",
        "worldview-legion-tasking",
        "Esperance coast (draft)",
        "draft",
        [("Esperance", _square(121.89, -33.86, 12))],
        {},
    ),
    (
        "blue-gladstone",
        "blue",
        "worldview-legion-tasking",
        "Gladstone harbour — berth survey",
        "waiting_study",
        [
            ("Fisherman's Landing", _square(151.17, -23.80, 10)),
            ("RG Tanna terminal", _square(151.29, -23.84, 10)),
        ],
        {"cloudCoverage": 15, "incidenceAngle": 25},
    ),
    (
        "blue-brisbane",
        "blue",
        "terrasar-x-tasking",
        "Port of Brisbane — night radar pass",
        "study_pending",
        [("Port of Brisbane", _square(153.17, -27.38, 11))],
        {"incidenceAngle": 35},
    ),
    (
        "blue-moreton",
        "blue",
        "worldview-legion-tasking",
        "Moreton Bay dredging — after works",
        "quotation_pending",
        [("Channel", _square(153.25, -27.25, 10)), ("Spoil ground", _square(153.30, -27.15, 10))],
        {"cloudCoverage": 10, "incidenceAngle": 20},
    ),
    (
        "blue-townsville",
        "blue",
        "worldview-legion-tasking",
        "Townsville port expansion",
        "active",
        [("Port", _square(146.83, -19.25, 10))],
        {"cloudCoverage": 20, "incidenceAngle": 25},
    ),
]


def seed_tasking_flow(world: DemoWorld) -> None:
    from orders.models import Order

    from .services import (
        feasibility_decide,
        quotation_decide,
        quotation_upload,
        study_upload,
        tasking_draft_save,
        tasking_order_place,
    )

    staff = world.users.get("staff")
    now = timezone.now()
    for key, org_key, product, name, stage, areas, overrides in DEMO_ORDERS:
        org = world.orgs.get(org_key)
        if org is None or Order.objects.filter(org=org, metadata__demo=key).exists():
            continue
        operator = world.users.get(f"{org_key}_operator") or world.users.get(f"{org_key}_admin")
        admin = world.users.get(f"{org_key}_admin")
        params = {
            "displayName": name,
            "acquisitionStart": _iso(now + timedelta(days=2)),
            "acquisitionEnd": _iso(now + timedelta(days=40)),
            **overrides,
        }
        try:
            if stage == "draft":
                order = tasking_draft_save(
                    org=org,
                    actor=operator,
                    data_product_id=product,
                    params=params,
                    feature_collection=_fc(*areas),
                )
            else:
                order = tasking_order_place(
                    org=org,
                    actor=operator,
                    data_product_id=product,
                    params=params,
                    feature_collection=_fc(*areas),
                )
            Order.objects.filter(pk=order.pk).update(metadata={**order.metadata, "demo": key})
            if stage in ("study_pending", "waiting_quote", "quotation_pending", "active"):
                study = study_upload(
                    actor=staff,
                    order_id=order.id,
                    options=[
                        {
                            "description": "Standard: any pass in the window, provider's best effort",
                            "window_start": now + timedelta(days=2),
                            "window_end": now + timedelta(days=40),
                            "expected_captures": 1,
                            "expected_revisits": 9,
                            "max_off_nadir": float(overrides.get("incidenceAngle", 25)),
                            "price_credits": None,
                            "valid_until": now + timedelta(days=4),
                        },
                        {
                            "description": "Priority slot: guaranteed first attempt within 10 days",
                            "window_start": now + timedelta(days=2),
                            "window_end": now + timedelta(days=12),
                            "expected_captures": 2,
                            "expected_revisits": 4,
                            "max_off_nadir": 15.0,
                            "price_credits": int(order.total_credits * 1.35),
                            "valid_until": now + timedelta(days=4),
                        },
                    ],
                    deadline=now + timedelta(days=4, hours=6),
                    notes="Winter cloud climatology is favourable; the priority slot books the provider's "
                    "first available pass.",
                )
                if stage in ("waiting_quote", "quotation_pending", "active"):
                    standard = study.options.get(position=0)
                    feasibility_decide(org=org, actor=admin, study_id=study.id, option_id=standard.id)
                if stage in ("quotation_pending", "active"):
                    quotation = quotation_upload(
                        actor=staff,
                        order_id=order.id,
                        credits=int(order.total_credits * 0.95),
                        valid_until=now + timedelta(days=3, hours=4),
                        notes="Includes a 5% loyalty discount on the list price.",
                    )
                    if stage == "active":
                        quotation_decide(org=org, actor=admin, quotation_id=quotation.id, decision="ACCEPTED")
            world.log(f"  tasking order {name!r} ({stage}) for {org.name}")
        except ApplicationError as exc:  # e.g. a short demo wallet: say so, keep seeding the rest
            world.log(f"  skipped tasking order {name!r}: {exc.detail}")


# --- the template library -------------------------------------------------------------------

# Demo templates per org: (name, fields). Realistic settings people at Acme (agriculture and
# mining) and Blue Harbour (ports and coast) would reuse.
DEMO_TEMPLATES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "acme": [
        (
            "Weekly crop check — Pléiades Neo 30cm",
            {
                "description": "Wheat belt paddocks, weekly during the growing season; low cloud for NDVI.",
                "sensor": "pleiades-neo",
                "resolution": "30cm",
                "capture_frequency": "WEEKLY",
                "datum": "GDA2020",
                "file_format": "GeoTIFF",
                "max_cloud_coverage": 10,
                "max_nadir_angle": 25,
            },
        ),
        (
            "Mine site monthly survey — WorldView Legion",
            {
                "description": "Pit and tailings dam monitoring with ground control for volumetrics.",
                "sensor": "worldview-legion",
                "resolution": "30cm",
                "capture_frequency": "MONTHLY",
                "datum": "GDA2020",
                "file_format": "NITF",
                "has_control": True,
                "max_cloud_coverage": 15,
                "max_nadir_angle": 20,
            },
        ),
        (
            "Regional baseline — SPOT 1.5m",
            {
                "description": "One-off wide-area baseline before planting.",
                "sensor": "spot",
                "resolution": "1.5m",
                "capture_frequency": "ONCE",
                "datum": "WGS84",
                "file_format": "JPEG2000",
                "max_cloud_coverage": 20,
                "max_nadir_angle": 30,
            },
        ),
        (
            "Flood response — TerraSAR-X through cloud",
            {
                "description": "Radar sees through cloud and at night: standing water after storms.",
                "capture_asap": True,
                "sensor": "terrasar-x",
                "resolution": "3m",
                "capture_frequency": "ONCE",
                "datum": "WGS84",
                "file_format": "GeoTIFF",
                "max_cloud_coverage": 100,
                "max_nadir_angle": 45,
            },
        ),
    ],
    "blue": [
        (
            "Port of Brisbane daily — SkySat 50cm",
            {
                "description": "Berth occupancy and stockpiles, every day.",
                "sensor": "skysat",
                "resolution": "50cm",
                "capture_frequency": "DAILY",
                "datum": "WGS84",
                "file_format": "GeoTIFF",
                "max_cloud_coverage": 20,
                "max_nadir_angle": 25,
            },
        ),
        (
            "Coastal erosion quarterly — Pléiades 50cm stereo",
            {
                "description": "Dune and shoreline change; stereo for elevation.",
                "capture_asap": False,
                "sensor": "pleiades",
                "resolution": "50cm",
                "capture_frequency": "MONTHLY",
                "datum": "GDA2020",
                "file_format": "GeoTIFF",
                "max_cloud_coverage": 10,
                "max_nadir_angle": 20,
            },
        ),
        (
            "Seagrass & water quality — EnMAP hyperspectral",
            {
                "description": "Moreton Bay seagrass extent and turbidity.",
                "sensor": "enmap",
                "resolution": "30m",
                "capture_frequency": "MONTHLY",
                "datum": "WGS84",
                "file_format": "ENVI",
                "max_cloud_coverage": 10,
                "max_nadir_angle": 20,
            },
        ),
    ],
}


def seed_tasking_config(world: DemoWorld) -> None:
    """Sensor catalog plus each demo org's template library. Idempotent: existing templates (by
    name, among active ones) are left as they are."""
    from .models import TaskingTemplate
    from .services import sensor_catalog_seed, template_save

    counts = sensor_catalog_seed()
    world.log(f"  sensors: {counts['created']} created")
    creators = {"acme": world.users.get("acme_operator"), "blue": world.users.get("blue_admin")}
    for org_key, templates in DEMO_TEMPLATES.items():
        org = world.orgs.get(org_key)
        if org is None:
            continue
        for name, fields in templates:
            if TaskingTemplate.objects.filter(org=org, deleted_at__isnull=True, name__iexact=name).exists():
                continue
            template_save(org=org, actor=creators.get(org_key), data={"name": name, **fields})
            world.log(f"  template {name!r} for {org.name}")


# --- the support desk: a few dozen requests of more orgs, some claimed ---------------------------

# Customer orgs that only appear at the support desk (the Acme and Blue Harbour demos stay as they
# are): (key, name, where their requests are, lon, lat).
DESK_ORGS = [
    ("coral", "Coral Coast Surveys", "Fiji", 178.45, -17.80),
    ("outback", "Outback Minerals", "Pilbara", 119.20, -22.30),
    ("tasman", "Tasman Forestry", "Tasmania", 146.60, -41.90),
    ("riverina", "Riverina Water Authority", "Murrumbidgee", 146.40, -34.60),
]
DESK_PRODUCTS = [
    ("worldview-legion-tasking", 11, {"cloudCoverage": 15, "incidenceAngle": 25}),
    ("terrasar-x-tasking", 11, {"incidenceAngle": 35}),
    ("enmap-tasking", 31, {"cloudCoverage": 10}),
]
# stage of each desk request, in order; the org, product and place rotate.
DESK_STAGES = ["waiting_study"] * 16 + ["waiting_quote"] * 6 + ["study_pending"] * 6 + ["expiring"] * 3
DESK_EXTRA_STAFF = ("desk@geopera.test", "Dana", "Desk")


def _antimeridian_square() -> dict[str, Any]:
    """An AOI over the antimeridian east of Fiji, split at ±180 as RFC 7946 asks."""
    s, n = -17.15, -16.85
    return {
        "type": "MultiPolygon",
        "coordinates": [
            [[[179.75, s], [180.0, s], [180.0, n], [179.75, n], [179.75, s]]],
            [[[-180.0, s], [-179.75, s], [-179.75, n], [-180.0, n], [-180.0, s]]],
        ],
    }


def _desk_people(world: DemoWorld) -> dict[str, Any]:
    from geopera_web.accounts.models import Membership, Organization, Role, User
    from geopera_web.accounts.services import org_create, support_group_ensure
    from geopera_web.billing.services import wallet_create

    people: dict[str, Any] = {}
    for key, name, _, _, _ in DESK_ORGS:
        # Through the services: an org has its default workspace and its wallet from the start
        # (an org seeded before this had no wallet: wallet_create gives it one, idempotently).
        org = Organization.objects.filter(name=name).first() or org_create(
            name=name, billing_mode="enterprise"
        )
        wallet_create(org=org)
        email = f"admin@{key}.test"
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=None, first_name=name.split()[0], last_name="Admin"
            )
        Membership.objects.get_or_create(user=user, org=org, defaults={"role": Role.ADMIN})
        people[key] = (org, user)
    email, first, last = DESK_EXTRA_STAFF
    staff2 = User.objects.filter(email=email).first()
    if staff2 is None:
        staff2 = User.objects.create_user(
            email=email, password=None, first_name=first, last_name=last, is_staff=True
        )
        staff2.groups.add(support_group_ensure())
    people["staff2"] = staff2
    return people


def seed_support_desk(world: DemoWorld) -> None:
    """31 requests from four more orgs at the support desk: studies and quotes to write, customer
    decisions pending (three expiring within a day), one AOI over the antimeridian; Sam and Dana
    have claimed some. Idempotent (Order.metadata["demo"])."""
    from orders.models import Order

    from .desk import desk_claim
    from .services import feasibility_decide, study_upload, tasking_order_place

    staff = world.users.get("staff")
    if staff is None:
        return
    people = _desk_people(world)
    claimers = [staff, people["staff2"]]
    now = timezone.now()
    for i, stage in enumerate(DESK_STAGES):
        key = f"desk-{i:02d}"
        org_key, org_name, place, lon, lat = DESK_ORGS[i % len(DESK_ORGS)]
        org, admin = people[org_key]
        if Order.objects.filter(org=org, metadata__demo=key).exists():
            continue
        product, km, overrides = DESK_PRODUCTS[i % len(DESK_PRODUCTS)]
        if i == 0:  # the one over the antimeridian (a WorldView request, to fit its area limits)
            product, km, overrides = DESK_PRODUCTS[0]
            areas = [("Taveuni strait (antimeridian)", _antimeridian_square())]
            name = "Fiji reef survey over the antimeridian"
        else:
            d = (i // len(DESK_ORGS)) * 0.45
            west = lon > 170  # Fiji's sites spread west, away from the antimeridian
            areas = [(f"{place} site {i}", _square(lon - d if west else lon + d, lat - d / 2, km))]
            name = f"{place} {('baseline', 'change check', 'monitoring', 'survey')[i % 4]} #{i}"
        params = {
            "displayName": name,
            "acquisitionStart": _iso(now + timedelta(days=1 + i % 9)),
            "acquisitionEnd": _iso(now + timedelta(days=45 + i % 9)),
            **overrides,
        }
        try:
            order = tasking_order_place(
                org=org, actor=admin, data_product_id=product, params=params, feature_collection=_fc(*areas)
            )
            Order.objects.filter(pk=order.pk).update(metadata={**order.metadata, "demo": key})
            if stage != "waiting_study":
                deadline = now + (
                    timedelta(hours=6 + 5 * i % 30) if stage == "expiring" else timedelta(days=4)
                )
                study = study_upload(
                    actor=staff,
                    order_id=order.id,
                    options=[
                        {
                            "description": "Standard: any pass in the window",
                            "window_start": now + timedelta(days=2),
                            "window_end": now + timedelta(days=40),
                            "expected_captures": 1,
                            "expected_revisits": 8,
                            "max_off_nadir": 25.0,
                            "price_credits": None,
                            "valid_until": deadline,
                        }
                    ],
                    deadline=deadline,
                    notes="Seasonal cloud is the main risk.",
                )
                if stage == "waiting_quote":
                    feasibility_decide(
                        org=org, actor=admin, study_id=study.id, option_id=study.options.get().id
                    )
            # Spread the waits over the last days, so "longest waiting" and "newest" differ.
            Order.objects.filter(pk=order.pk).update(updated_at=now - timedelta(hours=3 + (i * 7) % 90))
            if i % 4 == 1:
                desk_claim(order_id=order.id, staff=claimers[(i // 4) % 2])
            world.log(f"  support desk: {name!r} ({stage}) for {org_name}")
        except ApplicationError as exc:
            world.log(f"  skipped desk request {name!r}: {exc.detail}")


# --- a running weekly series (recurring acquisitions) ---------------------------------------------


def _accepted_weekly_series(
    world: DemoWorld,
    *,
    product: str,
    first: Any,
    params: dict[str, Any],
    area: tuple[str, dict[str, Any]],
    demo_key: str,
    option: tuple[str, float],
    study_notes: str,
    credits: int,
    quote_notes: str,
) -> Any:
    """A weekly series placed by Acme's operator through the services, its one unpriced option
    accepted by the admin, quoted by support at `credits` and accepted: what both demo series share."""
    from orders.models import Order

    from .services import (
        feasibility_decide,
        quotation_decide,
        quotation_upload,
        study_upload,
        tasking_order_place,
    )

    org, admin, staff = world.orgs["acme"], world.users["acme_admin"], world.users["staff"]
    now = timezone.now().replace(microsecond=0)
    order = tasking_order_place(
        org=org,
        actor=world.users.get("acme_operator") or admin,
        data_product_id=product,
        params={
            **params,
            "acquisitionStart": _iso(first),
            "acquisitionEnd": _iso(first + timedelta(days=7)),
            "captureFrequency": "WEEKLY",
        },
        feature_collection=_fc(area),
    )
    Order.objects.filter(pk=order.pk).update(metadata={**order.metadata, "demo": demo_key})
    description, off_nadir = option
    study = study_upload(
        actor=staff,
        order_id=order.id,
        options=[
            {
                "description": description,
                "window_start": first,
                "window_end": first + timedelta(days=7),
                "expected_captures": 1,
                "expected_revisits": 3,
                "max_off_nadir": off_nadir,
                "price_credits": None,
                "valid_until": now + timedelta(days=1),
            }
        ],
        deadline=now + timedelta(days=1),
        notes=study_notes,
    )
    feasibility_decide(org=org, actor=admin, study_id=study.id, option_id=study.options.get().id)
    quotation = quotation_upload(
        actor=staff,
        order_id=order.id,
        credits=credits,
        valid_until=now + timedelta(days=1),
        notes=quote_notes,
    )
    quotation_decide(org=org, actor=admin, quotation_id=quotation.id, decision="ACCEPTED")
    return order


SERIES_DEMO_KEY = "series-pilbara-weekly"
SERIES_DEMO_WEEKS = 5
SERIES_DEMO_PRICE = 5 * 48_000
# Per ended occurrence: the share of the AOI the simulated provider covers (the second ends short).
SERIES_DEMO_COVERAGE = [1.0, 0.5]


def seed_tasking_series(world: DemoWorld) -> None:
    """Acme's weekly stockpile watch, five weeks: two occurrences ended (one covered in full, one
    short whose remainder rolled into the third), the third acquiring now, two still scheduled.
    Placed and accepted through the services with a first window in the future, then moved back
    two and a half weeks as demo history, and run by the same sweep beat runs."""
    from django.db import transaction

    from geopera_web.billing.selectors import wallet_get
    from geopera_web.billing.services import wallet_topup
    from orders.coverage.services import coverage_recompute, order_coverage_settle
    from orders.fulfilment.services import tasking_deliveries_sync
    from orders.models import Order, OrderEvent

    from .models import SeriesOccurrence, TaskingSeries
    from .series import occurrence_advance, series_advance

    org, admin = world.orgs.get("acme"), world.users.get("acme_admin")
    staff = world.users.get("staff")
    if org is None or admin is None or staff is None:
        return
    if TaskingSeries.objects.filter(org=org, parent__metadata__demo=SERIES_DEMO_KEY).exists():
        return
    now = timezone.now().replace(microsecond=0)
    if wallet_get(org=org).available_credits < SERIES_DEMO_PRICE:
        wallet_topup(
            org=org, credits=SERIES_DEMO_PRICE, memo="Demo top-up for the weekly series", actor=admin
        )
    first = now + timedelta(days=2)
    try:
        with transaction.atomic():
            order = _accepted_weekly_series(
                world,
                product="worldview-legion-tasking",
                first=first,
                params={
                    "displayName": "Pilbara stockpiles — weekly",
                    "occurrences": SERIES_DEMO_WEEKS,
                    "rollRemainder": True,
                    "cloudCoverage": 15,
                    "incidenceAngle": 25,
                },
                area=("Port Hedland stockyard", _square(118.58, -20.33, 40)),
                demo_key=SERIES_DEMO_KEY,
                option=("Weekly pass over the stockyard, provider's best effort", 25.0),
                study_notes="Dry season: low cloud risk every week.",
                credits=SERIES_DEMO_PRICE,
                quote_notes="Five weekly acquisitions; each is charged when it is ordered.",
            )
            # Demo history: the series started two and a half weeks ago.
            series = TaskingSeries.objects.get(parent=order)
            shift = timedelta(days=2 + 17)
            for occ in series.occurrences.all():
                SeriesOccurrence.objects.filter(pk=occ.pk).update(
                    window_start=occ.window_start - shift, window_end=occ.window_end - shift
                )
            params = {
                **order.params,
                "acquisitionStart": _iso(first - shift),
                "acquisitionEnd": _iso(first - shift + timedelta(days=7)),
            }
            Order.objects.filter(pk=order.pk).update(
                params=params, created_at=first - shift - timedelta(days=3)
            )
            OrderEvent.objects.filter(order=order).update(created_at=first - shift - timedelta(days=2))
    except ApplicationError as exc:
        world.log(f"  skipped the weekly series: {exc.detail}")
        return
    occurrences = list(series.occurrences.order_by("index"))
    for k, occ in enumerate(occurrences[:3]):
        occurrence_advance(occurrence_id=occ.pk, now=occ.window_start)
        occ.refresh_from_db()
        child = occ.order
        if child is None:
            continue
        deliveries = [occ.window_start + timedelta(days=d) for d in (2, 4)]
        ended = k < len(SERIES_DEMO_COVERAGE)
        schedule = deliveries if ended else [deliveries[0], now + timedelta(days=1), now + timedelta(days=2)]
        Order.objects.filter(pk=child.pk).update(
            created_at=occ.window_start,
            metadata={
                **child.metadata,
                "simulation": {
                    "seed": 11 + k,
                    "key": f"{SERIES_DEMO_KEY}-{k}",
                    "coverage": [SERIES_DEMO_COVERAGE[k] if ended else 1.0, 0.8],
                    "batches": len(schedule),
                    "schedule": [_iso(t) for t in schedule],
                },
            },
        )
        OrderEvent.objects.filter(order=child).update(created_at=occ.window_start)
        for when in deliveries[: 2 if ended else 1]:
            tasking_deliveries_sync(order_id=child.pk, now=when)
            coverage_recompute(order_id=child.pk, now=when + timedelta(minutes=2))
            OrderEvent.objects.filter(order=child, created_at__gt=when + timedelta(minutes=2)).update(
                created_at=when + timedelta(minutes=2)
            )
        if ended:
            order_coverage_settle(order_id=child.pk, now=now)
    series_advance(now=now)
    world.log(
        f"  weekly series {order.display_name!r}: {SERIES_DEMO_WEEKS} occurrences, 2 ended, 1 acquiring"
    )


PER_PASS_DEMO_KEY = "series-gladstone-radar-weekly"
PER_PASS_DEMO_PRODUCT = "terrasar-x-tasking"
PER_PASS_DEMO_WEEKS = 4


def seed_tasking_series_per_occurrence(world: DemoWorld) -> None:
    """Acme's weekly radar watch of Gladstone harbour, a product decided per occurrence (each
    radar pass is priced on its own): the schedule accepted through the services, and its first
    occurrence, due within `TASKING_SERIES_LEAD_HOURS`, waiting in the inbox with its own quotation."""
    from django.db import transaction

    from .models import SeriesPricing, TaskingProduct, TaskingSeries

    org, admin = world.orgs.get("acme"), world.users.get("acme_admin")
    staff = world.users.get("staff")
    if org is None or admin is None or staff is None:
        return
    if TaskingSeries.objects.filter(org=org, parent__metadata__demo=PER_PASS_DEMO_KEY).exists():
        return
    # Demo configuration: radar passes are priced one by one (the admin's series_pricing setting).
    TaskingProduct.objects.filter(pk=PER_PASS_DEMO_PRODUCT).update(series_pricing=SeriesPricing.OCCURRENCE)
    now = timezone.now().replace(microsecond=0)
    first = now + timedelta(hours=12)  # inside the lead: quoted as soon as the schedule is accepted
    try:
        with transaction.atomic():
            order = _accepted_weekly_series(
                world,
                product=PER_PASS_DEMO_PRODUCT,
                first=first,
                params={
                    "displayName": "Gladstone harbour radar — weekly",
                    "occurrences": PER_PASS_DEMO_WEEKS,
                    "incidenceAngle": 35,
                },
                area=("Gladstone harbour", _square(151.27, -23.84, 12)),
                demo_key=PER_PASS_DEMO_KEY,
                option=("One stripmap pass a week over the harbour", 35.0),
                study_notes="Radar sees through cloud; each pass is priced on its own.",
                credits=0,
                quote_notes="The schedule of four weekly passes; each pass is quoted when it is due.",
            )
    except ApplicationError as exc:
        world.log(f"  skipped the per-occurrence series: {exc.detail}")
        return
    world.log(
        f"  weekly series {order.display_name!r}: {PER_PASS_DEMO_WEEKS} occurrences decided one by one, "
        "the first waiting in the inbox"
    )
