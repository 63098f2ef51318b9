"""`manage.py import_catalog FILE`: load a STAC ItemCollection (JSON) or NDJSON of STAC Items."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from orders.catalog.services import archive_products_ensure, catalog_import


class Command(BaseCommand):
    help = "Import STAC Items (ItemCollection JSON or NDJSON) into the archive catalog, reporting rejects."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the .json / .geojson / .ndjson file ('-' for stdin).")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLLECTION=PRODUCT",
            help="Map a foreign collection name to an archive product id or collection (repeatable).",
        )

    def handle(self, *args, **opts):
        mapping: dict[str, str] = {}
        for pair in opts["map"]:
            if "=" not in pair:
                raise CommandError(f"--map {pair!r}: expected COLLECTION=PRODUCT")
            src, dst = pair.split("=", 1)
            mapping[src.strip()] = dst.strip()
        if opts["file"] == "-":
            import sys

            text = sys.stdin.read()
        else:
            path = Path(opts["file"])
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise CommandError(f"{path}: not UTF-8 text ({exc})") from exc
        archive_products_ensure()
        report = catalog_import(text=text, collection_map=mapping)
        self.stdout.write(
            f"Imported {report.accepted} item(s): {report.created} created, {report.updated} updated; "
            f"{len(report.rejected)} rejected."
        )
        if report.rejected:
            self.stdout.write("Rejected items:")
            for where, item_id, why in report.rejected:
                self.stdout.write(f"  {where} (id {item_id}): {why}")
