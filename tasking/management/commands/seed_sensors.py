"""`manage.py seed_sensors [--update]`: create the tasking sensor catalog (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from tasking.services import sensor_catalog_seed


class Command(BaseCommand):
    help = "Create the tasking sensors and products of tasking/catalog.py that are missing."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--update", action="store_true", help="Also overwrite existing rows (discards admin edits)."
        )

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        counts = sensor_catalog_seed(update=options["update"])
        self.stdout.write(f"Sensor catalog: {counts['created']} created, {counts['updated']} updated.")
