"""Fixtures for the tasking configuration tests: the seeded sensor catalog and templates."""

from __future__ import annotations

from typing import Any

import pytest

from tasking.services import sensor_catalog_seed, template_save


@pytest.fixture(autouse=True)
def catalog(db):
    """Every tasking test runs with the seed sensor catalog (tasking/catalog.py)."""
    sensor_catalog_seed()


def template_data(**overrides: Any) -> dict[str, Any]:
    """A valid TemplateSaveInput body for Pléiades Neo."""
    return {
        "name": "Weekly crop check",
        "description": "Paddocks",
        "sensor": "pleiades-neo",
        "resolution": "30cm",
        "capture_frequency": "WEEKLY",
        "datum": "GDA2020",
        "file_format": "GeoTIFF",
        "max_cloud_coverage": 10,
        "max_nadir_angle": 25,
        **overrides,
    }


@pytest.fixture
def make_template(org, admin_user):
    def make(org_=None, actor=None, **overrides: Any):
        template, _ = template_save(
            org=org_ or org, actor=actor or admin_user, data=template_data(**overrides)
        )
        return template

    return make
