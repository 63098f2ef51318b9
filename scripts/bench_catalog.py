#!/usr/bin/env python
"""Benchmark the archive catalog: COPY-seed N scenes, then time catalog searches.

    .venv/bin/python scripts/bench_catalog.py --count 1000000 --db geopera_catalog_bench
    .venv/bin/python scripts/bench_catalog.py --count 100000            # into the dev database

With --db, a throwaway database of that name is created (PostGIS, migrated) and dropped at the end
unless --keep. Prints rows/s, search latency percentiles and the EXPLAIN of a bbox search (to see
the GiST index used). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geopera_web.settings")


def _admin_conn():
    import psycopg

    return psycopg.connect("host=127.0.0.1 dbname=postgres user=geopera password=geopera", autocommit=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=77)
    ap.add_argument("--db", help="throwaway database to create (default: use the configured database)")
    ap.add_argument("--keep", action="store_true", help="keep the throwaway database")
    ap.add_argument("--searches", type=int, default=200)
    args = ap.parse_args()

    if args.db:
        with _admin_conn() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.db}"')
            conn.execute(f'CREATE DATABASE "{args.db}"')
        os.environ["DATABASE_URL"] = f"postgis://geopera:geopera@127.0.0.1:5432/{args.db}"
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 dbname={args.db} user=geopera password=geopera", autocommit=True
        ) as c:
            c.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    try:
        if args.db:
            call_command("migrate", verbosity=0)
        run(args, connection)
    finally:
        connections.close_all()
        if args.db and not args.keep:
            with _admin_conn() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.db}"')


def run(args, connection) -> None:
    from orders.catalog.data import CITIES, generate_scenes
    from orders.catalog.selectors import SearchParams, capture_feature, catalog_queryset, catalog_search
    from orders.catalog.services import archive_products_ensure, captures_bulk_load
    from orders.models import Capture

    archive_products_ensure()
    print(f"database: {connection.settings_dict['NAME']}; rows before: {Capture.objects.count():,}")
    t0 = time.perf_counter()
    inserted = captures_bulk_load(
        rows=generate_scenes(count=args.count, seed=args.seed, end_date=date(2026, 6, 30))
    )
    dt = time.perf_counter() - t0
    print(f"seeded {inserted:,} rows in {dt:.1f}s = {inserted / dt:,.0f} rows/s (generation + COPY + insert)")
    with connection.cursor() as cur:
        cur.execute("ANALYZE orders_capture")
    total = Capture.objects.count()
    print(f"rows now: {total:,}")

    rng = random.Random(1)
    timings: dict[str, list[float]] = {
        "bbox": [],
        "bbox+cloud+date": [],
        "bbox page 2": [],
        "serialize 100": [],
    }
    for _ in range(args.searches):
        _, lat, lon, _ = rng.choice(CITIES)
        half = rng.uniform(0.1, 0.6)
        bbox = [lon - half, lat - half, lon + half, lat + half]
        t = time.perf_counter()
        page = catalog_search(params=SearchParams(bbox=bbox, limit=100))
        timings["bbox"].append(time.perf_counter() - t)
        t = time.perf_counter()
        [capture_feature(c) for c in page.captures]
        timings["serialize 100"].append(time.perf_counter() - t)
        if page.next_token:
            from orders.catalog.selectors import decode_token

            t = time.perf_counter()
            catalog_search(params=SearchParams(bbox=bbox, limit=100, after=decode_token(page.next_token)))
            timings["bbox page 2"].append(time.perf_counter() - t)
        from datetime import datetime

        t = time.perf_counter()
        catalog_search(
            params=SearchParams(
                bbox=bbox,
                limit=100,
                query={"eo:cloud_cover": {"lte": 20}},
                start=datetime(2025, 1, 1, tzinfo=UTC),
                end=datetime(2025, 12, 31, tzinfo=UTC),
            )
        )
        timings["bbox+cloud+date"].append(time.perf_counter() - t)

    print(f"\ncatalog.search latency over {args.searches} random city bboxes (ms):")
    for name, values in timings.items():
        if not values:
            continue
        ms = sorted(v * 1000 for v in values)
        q = statistics.quantiles(ms, n=100) if len(ms) > 1 else ms * 99
        print(f"  {name:18s} p50 {q[49]:7.1f}  p95 {q[94]:7.1f}  p99 {q[98]:7.1f}  max {ms[-1]:7.1f}")

    _, lat, lon, _ = CITIES[0]
    qs = catalog_queryset(SearchParams(bbox=[lon - 0.3, lat - 0.3, lon + 0.3, lat + 0.3], limit=100))[:101]
    print("\nEXPLAIN ANALYZE of a Sydney bbox search (limit 100):")
    print(qs.explain(analyze=True, buffers=True))


if __name__ == "__main__":
    main()
