"""`manage.py seed_catalog --count N [--seed S]`: realistic synthetic scenes, loaded with COPY."""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from orders.catalog.data import generate_scenes
from orders.catalog.services import archive_products_ensure, captures_bulk_load


class Command(BaseCommand):
    help = "Generate N deterministic archive scenes (strips along sun-synchronous tracks) and COPY them in."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--end-date",
            type=date.fromisoformat,
            default=None,
            help="Last acquisition day (YYYY-MM-DD); scenes span the 3 years before. Default: today.",
        )
        parser.add_argument("--batch-size", type=int, default=200_000)

    def handle(self, *args, **opts):
        count = opts["count"]
        if count < 0:
            raise CommandError("--count must be >= 0")
        end = opts["end_date"] or timezone.now().date()
        archive_products_ensure()
        started = time.perf_counter()
        inserted = captures_bulk_load(
            rows=generate_scenes(count=count, seed=opts["seed"], end_date=end),
            batch_size=max(1, opts["batch_size"]),
        )
        elapsed = time.perf_counter() - started
        rate = inserted / elapsed if elapsed else 0
        self.stdout.write(
            f"Seeded {inserted} of {count} scene(s) (seed {opts['seed']}, until {end}) "
            f"in {elapsed:.1f}s ({rate:,.0f} rows/s); {count - inserted} already present."
        )
