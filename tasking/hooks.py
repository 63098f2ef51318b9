"""What the tasking app contributes to the platform: navigation badges, dashboard panels, demo data."""

from __future__ import annotations

from typing import Any

from geopera_web.demo import DemoWorld, register_seeder

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


register_seeder(order=30, name="tasking-config", seeder=seed_tasking_config)
