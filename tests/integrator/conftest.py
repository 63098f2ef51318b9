from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _sensors(db):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()
