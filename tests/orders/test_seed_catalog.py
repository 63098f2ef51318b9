"""seed_catalog: deterministic, valid strip footprints along sun-synchronous tracks, COPY-loaded."""

from __future__ import annotations

import math
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from orders.catalog.data import SENSOR_BY_COLLECTION, generate_scenes, ground_track_heading
from orders.models import Capture

END = date(2026, 6, 30)


def _km(a, b, lat):
    dx = (b[0] - a[0]) * 111.32 * math.cos(math.radians(lat))
    dy = (b[1] - a[1]) * 111.32
    return math.hypot(dx, dy)


def test_generation_is_deterministic_for_a_seed():
    first = list(generate_scenes(count=200, seed=11, end_date=END))
    again = list(generate_scenes(count=200, seed=11, end_date=END))
    other = list(generate_scenes(count=200, seed=12, end_date=END))
    assert first == again
    assert [s.scene_id for s in first] != [s.scene_id for s in other]
    assert len({s.scene_id for s in first + other}) == 400  # globally unique across seeds


def test_scenes_are_realistic_strips():
    scenes = list(generate_scenes(count=2000, seed=5, end_date=END))
    assert {s.collection for s in scenes} == set(SENSOR_BY_COLLECTION)
    for s in scenes:
        lat = s.ring[0][1]
        along = _km(s.ring[0], s.ring[1], lat)
        across = _km(s.ring[1], s.ring[2], lat)
        if s.collection != "sentinel-2-l2a":
            assert along / across >= 1.4, s.scene_id  # strip-shaped, long side along track
        sensor = SENSOR_BY_COLLECTION[s.collection]
        assert 0 <= s.off_nadir <= sensor.max_off_nadir
        assert s.gsd >= sensor.gsd
        assert 0 <= s.cloud_cover <= 100
        assert date(2023, 6, 1) <= s.acquired_at.date() <= END
        assert s.sun_elevation > 0, "optical scenes are acquired in daylight"
        # Heading of the long side: SSW on descending passes, NNW on ascending ones.
        heading = (
            math.degrees(
                math.atan2(
                    (s.ring[1][0] - s.ring[0][0]) * math.cos(math.radians(lat)), s.ring[1][1] - s.ring[0][1]
                )
            )
            % 360
        )
        if s.properties["sat:orbit_state"] == "descending":
            assert 180 < heading < 215, heading
        else:
            assert 325 < heading < 360, heading
    clouds = sorted(s.cloud_cover for s in scenes)
    assert clouds[len(clouds) // 2] < 15, "cloud cover is skewed low"
    assert clouds[-len(clouds) // 20] > 40, "with a cloudy tail"


def test_ground_track_heading_follows_the_inclination():
    assert 190 < ground_track_heading(lat=0, inclination=97.8, descending=True) < 200
    assert 340 < ground_track_heading(lat=0, inclination=97.8, descending=False) < 350
    # Tracks tilt more at high latitude.
    assert ground_track_heading(lat=60, inclination=97.8, descending=True) > ground_track_heading(
        lat=0, inclination=97.8, descending=True
    )


@pytest.mark.django_db
def test_seed_command_copies_valid_multipolygons_and_is_rerunnable(products):
    out = StringIO()
    call_command("seed_catalog", count=500, seed=9, end_date=END, stdout=out)
    assert "Seeded 500 of 500" in out.getvalue()
    assert Capture.objects.count() == 500
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE NOT ST_IsValid(footprint)), "
            "count(*) FILTER (WHERE GeometryType(footprint) <> 'MULTIPOLYGON'), "
            "min(ST_Area(footprint::geography)) / 1e6 FROM orders_capture"
        )
        invalid, not_multi, min_km2 = cursor.fetchone()
    assert invalid == 0 and not_multi == 0 and min_km2 > 25
    out2 = StringIO()
    call_command("seed_catalog", count=500, seed=9, end_date=END, stdout=out2)
    assert "Seeded 0 of 500" in out2.getvalue() and Capture.objects.count() == 500
    sample = Capture.objects.get(scene_id=next(generate_scenes(count=1, seed=9, end_date=END)).scene_id)
    assert sample.data_product.collection == sample.collection
