"""Every limit in the README's Limits table is a setting with the stated default, and the modules
that enforce the geometry and catalog limits read those settings."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

README = Path(__file__).resolve().parents[2] / "README.md"


def limits_table() -> list[tuple[str, str]]:
    text = README.read_text()
    section = text.split("- **Limits.**", 1)[1].split("\n- **", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows.append((cells[0], cells[1]))
    return rows


def test_every_documented_limit_is_a_setting_with_its_default():
    rows = limits_table()
    assert len(rows) >= 15
    for names, default in rows:
        for name in re.findall(r"`([A-Z_]+)`", names):
            # Two environment variables feed library settings of another name.
            if name == "LOGIN_FAILURE_LIMIT":
                value = settings.AXES_FAILURE_LIMIT
            elif name == "API_RATE_LIMIT":
                value = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["principal"]
            else:
                value = getattr(settings, name)
            if isinstance(value, int):
                numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", default)]
                assert value in numbers, (name, value, default)
            else:
                assert str(value) in default, (name, value, default)


def test_enforcing_modules_read_the_settings():
    from orders import geometry
    from orders.cart import pricing
    from orders.catalog import selectors, services
    from orders.fulfilment import uploads

    assert geometry.MAX_VERTICES == settings.GEOMETRY_MAX_VERTICES == pricing.MAX_CLIP_VERTICES
    assert geometry.MAX_FEATURES == settings.GEOMETRY_MAX_FEATURES
    assert services.MAX_IMPORT_VERTICES == settings.CATALOG_IMPORT_MAX_VERTICES
    assert uploads.MAX_VERTICES == settings.DELIVERY_FOOTPRINT_MAX_VERTICES
    assert selectors.MAX_LIMIT == settings.CATALOG_SEARCH_MAX_LIMIT
