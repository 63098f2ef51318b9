"""`manage.py rebuild_tile_density`: recount the map's density summary from the captures, after it
drifted (writes with its triggers disabled, `pg_restore --disable-triggers`)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from orders.catalog.density_sql import density_rebuild


class Command(BaseCommand):
    help = "Rebuild orders_capturedensity from orders_capture in one transaction (writes to captures wait)."

    def handle(self, *args, **opts) -> None:
        cells = density_rebuild()
        self.stdout.write(f"density summary rebuilt: {cells} cells")
