"""The one place of test factories, per app: real rows, made through the same services the product
uses wherever one exists.

- accounts: `make_org`, `make_user` (and `UserFactory`)
- catalog: `make_product` (a data product), `make_priced_capture`, `make_capture` (on a seeded
  archive product)
- archive orders: `place_body` (an orders.archive.place body), `make_archive_order` (through
  `archive_order_place`)
- tasking orders: `make_tasking_request` (through `tasking_order_place`), `make_tasking_order` (an
  ACTIVE order built directly, as acceptance leaves it), `deliver` (a provider batch)
- decisions: `make_study`, `make_quotation` (through the support desk's services), `study_option`,
  `tasking_params`

Shapes come from `tests.geometry`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from datetime import timedelta
from typing import Any

import factory
from django.contrib.gis.geos import MultiPolygon
from django.utils import timezone

from geopera_web.accounts.models import Membership, Organization, User, Workspace
from geopera_web.billing.services import charge_authorize
from orders.catalog.data import ARCHIVE_HOST
from orders.fulfilment.adapters import BatchData, CaptureData
from orders.fulfilment.services import delivery_batch_record
from orders.models import Capture, DataProduct, Order, OrderGroup, OrderType
from orders.services import order_transition
from tests.geometry import box, fc, mpoly, square

_seq = itertools.count(1)
DEFAULT_PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    username = factory.SelfAttribute("email")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


def make_org(*, name: str | None = None, billing_mode: str = "credit", credits: int = 0) -> Organization:
    from geopera_web.accounts.services import org_create

    return org_create(name=name or f"Org {next(_seq)}", billing_mode=billing_mode, credits=credits)


def make_user(
    *, org: Organization | None, role: str | None = "operator", email: str | None = None, staff: bool = False
) -> User:
    user = UserFactory(email=email or f"person{next(_seq)}@example.test", is_staff=staff)
    if org is not None:
        Membership.objects.create(user=user, org=org, role=role or "operator")
    return user


# --- catalog ---------------------------------------------------------------------------------


def make_product(
    *,
    pid: str | None = None,
    rate: int = 100,
    min_area: float = 0.0,
    active: bool = True,
    order_type="archive",
) -> DataProduct:
    pid = pid or f"test-product-{next(_seq)}"
    return DataProduct.objects.create(
        id=pid,
        name=pid.replace("-", " ").title(),
        order_type=order_type,
        collection="test-collection",
        credits_per_km2=rate,
        min_area_km2=min_area,
        is_active=active,
    )


def make_priced_capture(
    *,
    product: DataProduct,
    bounds: tuple[float, float, float, float],
    scene_id: str | None = None,
    acquired_at: dt.datetime | None = None,
) -> Capture:
    x0, y0, x1, y1 = bounds
    return Capture.objects.create(
        scene_id=scene_id or f"scene-{next(_seq):05d}",
        collection=product.collection,
        data_product=product,
        footprint=box(x0, y0, x1, y1),
        acquired_at=acquired_at or dt.datetime(2026, 3, 1, 0, 30, tzinfo=dt.UTC),
        cloud_cover=5.0,
        off_nadir=10.0,
        gsd=0.5,
        platform="sim-1",
    )


def make_capture(
    scene_id: str,
    *,
    collection: str = "pleiades",
    footprint: MultiPolygon | None = None,
    acquired_at: dt.datetime | None = None,
    cloud: float = 5.0,
    off_nadir: float = 10.0,
    gsd: float = 0.5,
) -> Capture:
    product = DataProduct.objects.get(collection=collection, order_type="archive")
    return Capture.objects.create(
        scene_id=scene_id,
        collection=collection,
        host=ARCHIVE_HOST,
        data_product=product,
        footprint=footprint or box(151.0, -34.0, 151.2, -33.8),
        acquired_at=acquired_at or dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        cloud_cover=cloud,
        off_nadir=off_nadir,
        gsd=gsd,
        sun_elevation=50.0,
        platform="PHR1A",
        thumbnail_url="/static/img/quicklook.svg",
    )


# --- archive orders ----------------------------------------------------------------------------


def place_body(*ids: str, **extra) -> dict:
    return {"captures": [{"id": i} for i in ids], "licenseType": "standard", **extra}


def make_archive_order(*, org: Organization, actor: User, scene_ids: list[str], **kw: Any) -> Order:
    """A processing archive order placed (and paid) through `archive_order_place`."""
    from orders.cart.services import archive_order_place

    return archive_order_place(org=org, actor=actor, captures=[{"id": s} for s in scene_ids], **kw)


# --- tasking orders ----------------------------------------------------------------------------

MANUAL_PRODUCT = "worldview-legion-tasking"  # manual feasibility, 100–2000 km², 4200 cr/km²
AUTO_PRODUCT = "pleiades-tasking"  # automatic feasibility


def iso(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def tasking_params(**overrides: Any) -> dict[str, Any]:
    now = timezone.now().replace(microsecond=0)
    return {
        "displayName": "Port survey",
        "acquisitionStart": iso(now + timedelta(days=1)),
        "acquisitionEnd": iso(now + timedelta(days=31)),
        "cloudCoverage": 20,
        "incidenceAngle": 25,
        **overrides,
    }


def make_tasking_request(org, actor, *, product: str = MANUAL_PRODUCT, geometries=None, **kw):
    from tasking.services import tasking_order_place

    return tasking_order_place(
        org=org,
        actor=actor,
        data_product_id=product,
        params=tasking_params(),
        feature_collection=fc(*(geometries or [square()])),
        **kw,
    )


def tasking_product() -> DataProduct:
    product, _ = DataProduct.objects.get_or_create(
        id="sim-tasking-50cm",
        defaults={
            "name": "Simulated tasking 50 cm",
            "order_type": OrderType.TASKING,
            "collection": "sim-tasking",
            "credits_per_km2": 1000,
            "min_area_km2": 25,
        },
    )
    return product


def make_tasking_order(
    *,
    org,
    aois: list[Any],
    credits: list[int] | None = None,
    status: str = Order.Status.ACTIVE,
    params: dict | None = None,
    metadata: dict | None = None,
    names: list[str] | None = None,
    authorize: bool = True,
    charged: int | None = None,
) -> Order:
    """`charged` is what the org accepted to pay (a quotation), when it differs from the groups'
    list prices in `credits`."""
    product = tasking_product()
    workspace = Workspace.objects.filter(org=org).first() or Workspace.objects.create(
        org=org, name="Default workspace", is_default=True
    )
    credits = credits or [10_000] * len(aois)
    now = timezone.now()
    order = Order.objects.create(
        org=org,
        workspace=workspace,
        order_type=OrderType.TASKING,
        status=Order.Status.PENDING,
        display_name="Test tasking order",
        data_product=product,
        billing_mode=org.billing_mode,
        total_credits=sum(credits) if charged is None else charged,
        params={
            "acquisitionStart": (now - timedelta(days=1)).isoformat().replace("+00:00", "Z"),
            "acquisitionEnd": (now + timedelta(days=30)).isoformat().replace("+00:00", "Z"),
            **(params or {}),
        },
        metadata=metadata or {},
    )
    for i, aoi in enumerate(aois):
        geom = mpoly(aoi)
        OrderGroup.objects.create(
            order=order,
            position=i,
            name=(names[i] if names else f"AOI {i + 1}"),
            data_product=product,
            geometry=geom,
            area_km2=1.0,
            billed_area_km2=1.0,
            credits=credits[i],
        )
    if authorize:
        charge = charge_authorize(org=org, credits=order.total_credits, reference=f"order:{order.pk}")
        order.charge = charge
        order.save(update_fields=["charge"])
    if status == Order.Status.ACTIVE:
        order_transition(order=order, to=Order.Status.ACTIVE, message="Quotation accepted (test).")
    return order


def deliver(order: Order, group: OrderGroup, footprints: list[Any], *, ref: str, status: str = "delivered"):
    """Record one provider batch with the given footprints for `group`."""
    captures = tuple(
        CaptureData(
            group_id=group.pk,
            scene_id=f"{ref}-{i}",
            footprint=mpoly(fp),
            acquired_at=timezone.now() - timedelta(hours=1),
            cloud_cover=5.0,
            status=status,
            assets={"visual": {"href": f"https://example.test/{ref}-{i}.tif", "type": "image/tiff"}},
        )
        for i, fp in enumerate(footprints)
    )
    return delivery_batch_record(
        order=order, batch=BatchData(ref=ref, available_at=timezone.now(), captures=captures), provider="test"
    )


# --- decisions -----------------------------------------------------------------------------------


def study_option(price: int | None = None, **overrides: Any) -> dict[str, Any]:
    now = timezone.now()
    return {
        "description": "Option " + ("priced" if price is not None else "to quote"),
        "window_start": now + timedelta(days=2),
        "window_end": now + timedelta(days=20),
        "expected_captures": 2,
        "expected_revisits": 6,
        "max_off_nadir": 25.0,
        "price_credits": price,
        "valid_until": now + timedelta(days=3),
        **overrides,
    }


def make_study(order, staff, *, options=None, deadline=None):
    from tasking.services import study_upload

    return study_upload(
        actor=staff,
        order_id=order.id,
        options=options if options is not None else [study_option(None), study_option(50_000)],
        deadline=deadline or timezone.now() + timedelta(days=3),
        notes="Two ways to get it.",
    )


def make_quotation(order, staff, *, credits: int = 40_000, valid_until=None):
    from tasking.services import quotation_upload

    return quotation_upload(
        actor=staff,
        order_id=order.id,
        credits=credits,
        valid_until=valid_until or timezone.now() + timedelta(days=4),
    )
