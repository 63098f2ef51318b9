"""Benchmark the archive estimate (orders.cart.pricing.archive_quote): time and queries per cart size.

    .venv/bin/python scripts/bench_archive_estimate.py [--sizes 10,100,500] [--repeat 5]

Works on the configured database inside a transaction that is rolled back (it creates its own
product and overlapping strip-shaped captures near Sydney, then removes them). Prints figures; asserts
nothing (performance is reported, not tested).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geopera_web.settings")

import django  # noqa: E402

django.setup()

from django.contrib.gis.geos import MultiPolygon, Polygon  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from orders.cart.pricing import archive_quote  # noqa: E402
from orders.models import Capture, DataProduct  # noqa: E402


class _Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,500")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    try:
        with transaction.atomic():
            product = DataProduct.objects.create(
                id="bench-product",
                name="Bench",
                order_type="archive",
                collection="bench",
                credits_per_km2=100,
            )
            captures = []
            for i in range(max(sizes)):
                x = 150.5 + (i % 50) * 0.01
                y = -34.2 + (i // 50) * 0.02
                poly = Polygon(
                    ((x, y), (x + 0.1, y + 0.01), (x + 0.12, y + 0.6), (x + 0.02, y + 0.59), (x, y))
                )
                captures.append(
                    Capture(
                        scene_id=f"BENCH-{i:05d}",
                        collection="bench",
                        data_product=product,
                        footprint=MultiPolygon(poly, srid=4326),
                        acquired_at=dt.datetime(2026, 1, 1 + i % 28, tzinfo=dt.UTC),
                        cloud_cover=0,
                        off_nadir=0,
                        gsd=0.5,
                        platform="bench",
                    )
                )
            Capture.objects.bulk_create(captures)
            clip = {
                "type": "Polygon",
                "coordinates": [
                    [[150.6, -34.1], [151.0, -34.1], [151.0, -33.7], [150.6, -33.7], [150.6, -34.1]]
                ],
            }
            print(f"{'captures':>8} {'clip':>5} {'split':>5} {'queries':>7} {'median ms':>10} {'groups':>6}")
            for n in sizes:
                for clipped in (False, True):
                    for split in (False, True):
                        cart = [
                            {"id": c.scene_id, **({"geometry": clip} if clipped else {})}
                            for c in captures[:n]
                        ]
                        times = []
                        for _ in range(args.repeat):
                            with CaptureQueriesContext(connection) as q:
                                start = time.perf_counter()
                                quote = archive_quote(captures=cart, split_by_date=split)
                                times.append((time.perf_counter() - start) * 1000)
                        print(
                            f"{n:>8} {clipped!s:>5} {split!s:>5} {len(q.captured_queries):>7} "
                            f"{statistics.median(times):>10.1f} {len(quote.groups):>6}"
                        )
            raise _Rollback
    except _Rollback:
        pass


if __name__ == "__main__":
    main()
