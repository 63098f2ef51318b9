"""Time the coverage computation on AOIs of growing size (figures only; nothing is asserted).

    .venv/bin/python scripts/bench_coverage.py

Runs inside a transaction that is rolled back, against the database of `.env`.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geopera_web.settings")

import django  # noqa: E402

django.setup()

from django.contrib.gis.geos import MultiPolygon, Polygon  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from geopera_web.accounts.models import Organization, Workspace  # noqa: E402
from orders.coverage.services import coverage_recompute  # noqa: E402
from orders.fulfilment.delivery import SimulatedTaskingProvider  # noqa: E402
from orders.fulfilment.services import delivery_batch_record  # noqa: E402
from orders.models import DataProduct, Order, OrderGroup  # noqa: E402


class Rollback(Exception):
    pass


def run(size_deg: float) -> None:
    org = Organization.objects.create(name=f"bench {size_deg}", billing_mode="enterprise")
    ws = Workspace.objects.create(org=org, name="bench", is_default=True)
    product = DataProduct.objects.filter(order_type="tasking").first() or DataProduct.objects.create(
        id="bench-tasking", name="bench", order_type="tasking", collection="bench", credits_per_km2=1
    )
    order = Order.objects.create(
        org=org,
        workspace=ws,
        order_type="tasking",
        status="active",
        data_product=product,
        billing_mode="enterprise",
        metadata={"simulation": {"seed": 1, "coverage": [0.7], "batches": 1}},
    )
    aoi = MultiPolygon(Polygon.from_bbox((140, -30, 140 + size_deg, -30 + size_deg * 0.8)), srid=4326)
    OrderGroup.objects.create(order=order, geometry=aoi, area_km2=0, billed_area_km2=0)
    plan = SimulatedTaskingProvider().plan(order=order, start=timezone.now())
    for batch in plan:
        delivery_batch_record(order=order, batch=batch)
    t0 = time.perf_counter()
    (snap,) = coverage_recompute(order_id=order.pk)
    t1 = time.perf_counter()
    again = coverage_recompute(order_id=order.pk)
    t2 = time.perf_counter()
    captures = sum(len(b.captures) for b in plan)
    print(
        f"AOI {size_deg:>4}° ({snap.requested_km2:>10,.0f} km², {captures:>3} captures): "
        f"compute {1000 * (t1 - t0):7.1f} ms, unchanged re-run {1000 * (t2 - t1):6.1f} ms "
        f"({len(again)} written), covered {snap.percent:5.1f}%"
    )


if __name__ == "__main__":
    for size in (0.1, 0.5, 1.0, 3.0, 6.0):
        try:
            with transaction.atomic():
                run(size)
                raise Rollback
        except Rollback:
            pass
