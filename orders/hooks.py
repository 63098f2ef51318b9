"""What the orders app contributes to the platform: dashboard panels, demo data."""

from __future__ import annotations

from geopera_web.demo import DemoWorld, register_seeder

DEMO_CATALOG_SEED = 2024
DEMO_CATALOG_COUNT = 4000


def seed_catalog_demo(world: DemoWorld) -> None:
    """Archive products and a few thousand captures over well-known cities (idempotent)."""
    from django.utils import timezone

    from .catalog_data import generate_scenes
    from .catalog_services import archive_products_ensure, captures_bulk_load
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


register_seeder(order=20, name="catalog", seeder=seed_catalog_demo)
