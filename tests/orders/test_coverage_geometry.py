"""Coverage figures from PostGIS against an independent computation (tests/coverage_reference.py:
shapely for the geometry, pyproj.Geod for geodesic area on WGS84) on tricky AOIs."""

from __future__ import annotations

import pytest
from shapely import wkt as shapely_wkt

from orders.coverage.services import coverage_recompute
from orders.models import CoverageSnapshot
from tests.coverage_reference import independent
from tests.factories import deliver

pytestmark = pytest.mark.django_db


def snapshot_for(order, position=0) -> CoverageSnapshot:
    group = order.groups.get(position=position)
    return CoverageSnapshot.objects.filter(group=group).latest()


def check(order, aoi_wkt, footprints, position=0):
    snap = snapshot_for(order, position)
    req, cov, rem = independent(aoi_wkt, footprints)
    assert snap.requested_km2 == pytest.approx(req, rel=1e-6)
    assert snap.covered_km2 == pytest.approx(cov, rel=1e-6, abs=req * 1e-9)
    assert snap.remainder_km2 == pytest.approx(rem, rel=1e-6, abs=req * 1e-9)
    # The partition is consistent: covered + remainder is the AOI, to 1e-6 relative.
    assert abs(snap.covered_km2 + snap.remainder_km2 - snap.requested_km2) <= 1e-6 * snap.requested_km2
    assert snap.percent == pytest.approx(100 * cov / req, abs=1e-4)
    return snap


HOLED = (
    "POLYGON((150 -33, 150.3 -33, 150.3 -32.7, 150 -32.7, 150 -33),"
    "(150.1 -32.9, 150.2 -32.9, 150.2 -32.8, 150.1 -32.8, 150.1 -32.9))"
)


def test_aoi_with_a_hole_counts_only_the_ring_and_clips_a_footprint_sticking_out(make_order):
    fps = [(149.9, -33.1, 150.15, -32.6)]  # covers the west part and pokes into the hole
    order = make_order([HOLED])
    deliver(order, order.groups.get(), fps, ref="b1")
    coverage_recompute(order_id=order.pk)
    snap = check(order, HOLED, fps)
    # The hole is never covered nor remaining: neither geometry reaches inside it.
    hole = shapely_wkt.loads(
        "POLYGON((150.11 -32.89, 150.19 -32.89, 150.19 -32.81, 150.11 -32.81, 150.11 -32.89))"
    )
    assert not shapely_wkt.loads(snap.covered.wkt).intersection(hole).area > 1e-12
    assert not shapely_wkt.loads(snap.remainder.wkt).intersection(hole).area > 1e-12
    assert 30 < snap.percent < 60


MULTI = "MULTIPOLYGON(((151 -32, 151.1 -32, 151.1 -31.9, 151 -31.9, 151 -32)),((151.3 -32, 151.5 -32, 151.5 -31.8, 151.3 -31.8, 151.3 -32)))"


def test_multipolygon_aoi_with_one_part_fully_and_one_partly_covered(make_order):
    fps = [(150.95, -32.05, 151.15, -31.85), (151.3, -32.1, 151.4, -31.7)]
    order = make_order([MULTI])
    deliver(order, order.groups.get(), fps, ref="b1")
    coverage_recompute(order_id=order.pk)
    snap = check(order, MULTI, fps)
    assert snap.covered.num_geom == 2 and snap.remainder.num_geom == 1


def test_overlapping_footprints_are_not_counted_twice(make_order):
    aoi = "POLYGON((146 -35, 146.4 -35, 146.4 -34.7, 146 -34.7, 146 -35))"
    fps = [(145.9, -35.1, 146.2, -34.6), (146.1, -35.1, 146.3, -34.6), (146.15, -34.9, 146.5, -34.8)]
    order = make_order([aoi])
    deliver(order, order.groups.get(), fps, ref="b1")
    coverage_recompute(order_id=order.pk)
    snap = check(order, aoi, fps)
    assert snap.captures_delivered == 3


def test_slivers_and_edge_touching_footprints(make_order):
    aoi = "POLYGON((147 -30, 147.2 -30, 147.2 -29.8, 147 -29.8, 147 -30))"
    fps = [
        (147.2, -30.1, 147.5, -29.7),  # shares only the east edge: no area
        (146.8, -30.1, 147.0000005, -29.7),  # a sliver 0.0000005° wide on the west edge
        (147.05, -29.95, 147.1, -29.85),  # an island inside
    ]
    order = make_order([aoi])
    deliver(order, order.groups.get(), fps, ref="b1")
    coverage_recompute(order_id=order.pk)
    snap = check(order, aoi, fps)
    assert snap.covered.geom_type == "MultiPolygon"


def test_large_aoi_of_several_degrees_is_subdivided_and_stays_consistent(make_order):
    aoi = "POLYGON((140 -31, 145.5 -31, 145.5 -26, 142 -25.2, 140 -26, 140 -31))"
    fps = [
        "POLYGON((139.5 -31.5, 141.2 -31.5, 141.9 -24.5, 140.2 -24.5, 139.5 -31.5))",
        "POLYGON((141 -31.5, 142.7 -31.5, 143.4 -24.5, 141.7 -24.5, 141 -31.5))",
        (144, -29, 146, -27),
    ]
    order = make_order([aoi])
    deliver(order, order.groups.get(), fps, ref="b1")
    coverage_recompute(order_id=order.pk)
    snap = check(order, aoi, fps)
    assert snap.requested_km2 > 250_000
    # The strips cross several pieces of the subdivided AOI: each is still one capture.
    assert snap.captures_delivered == 3


def test_no_delivery_leaves_the_whole_aoi_as_remainder_and_full_cover_leaves_none(make_order):
    aoi = "POLYGON((148 -36, 148.1 -36, 148.1 -35.9, 148 -35.9, 148 -36))"
    order = make_order([aoi, aoi.replace("148 ", "148.5 ").replace("148.1 ", "148.6 ")])
    coverage_recompute(order_id=order.pk)
    snap = check(order, aoi, [])
    assert snap.covered is None and snap.percent == 0 and snap.remainder is not None
    deliver(order, order.groups.get(position=0), [(147.9, -36.1, 148.2, -35.8)], ref="b1")
    coverage_recompute(order_id=order.pk)
    snap = check(order, aoi, [(147.9, -36.1, 148.2, -35.8)])
    assert snap.remainder is None and snap.percent == pytest.approx(100)


def test_failed_captures_do_not_cover(make_order):
    aoi = "POLYGON((149 -34, 149.1 -34, 149.1 -33.9, 149 -33.9, 149 -34))"
    order = make_order([aoi])
    deliver(order, order.groups.get(), [(148.9, -34.1, 149.2, -33.8)], ref="b1", status="failed")
    coverage_recompute(order_id=order.pk)
    assert snapshot_for(order).percent == 0
