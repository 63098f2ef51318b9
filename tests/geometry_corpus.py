"""The malformed-geometry corpus: one list of hostile or awkward geometries that every operation,
page and upload taking geometry is run through (tests/platform/test_geometry_corpus.py).

Each case is JSON *text* (so the JSON `NaN` / `Infinity` literals, which no Python dict can be
written as on the wire, are part of it) plus what the shared validator must do with it:

- `REFUSE`: a 4xx with an actionable message, nothing stored;
- `ACCEPT`: a usable shape, measured as what it is (wrong winding; 3-D positions, forced to 2-D;
  a box over the antimeridian split at ±180 as RFC 7946 asks). `AREA_KM2` is what it measures.

Everything is near Sydney unless the case is about somewhere else, so an accepted case also
finds the catalog captures and prices the cart the tests build there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.geometry import bowtie, ring, square

REFUSE = "refuse"
ACCEPT = "accept"


@dataclass(frozen=True)
class Case:
    name: str
    text: str  # the GeoJSON geometry as JSON text
    expect: str  # REFUSE or ACCEPT
    # Words of which the refusal must contain one (case-insensitive), so the message says what to
    # fix: a polygon input may name the type it needs where a filter names the bad coordinate.
    says: tuple[str, ...] = ()
    # True when a *polygon* input must refuse it but a filter (search `intersects`) may take it.
    polygonal_only: bool = False
    # Self-intersecting: inputs that repair (search, cart) take the made-valid shape; inputs that do
    # not (tasking AOIs) refuse it and offer that shape.
    self_intersecting: bool = False

    def outcome(self, *, polygonal: bool = True, repair: bool = True) -> str:
        """What an input of this kind must do with the case: REFUSE or ACCEPT."""
        if self.self_intersecting:
            return ACCEPT if repair else REFUSE
        if self.polygonal_only:
            return REFUSE if polygonal else ACCEPT
        return self.expect

    def said_in(self, text: str) -> bool:
        return any(word.lower() in text.lower() for word in self.says)

    @property
    def geometry(self) -> Any:
        """The decoded geometry (NaN/Infinity become floats, as Python's json module reads them)."""
        return json.loads(self.text)

    def feature_collection_text(self) -> str:
        return (
            '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"A"},'
            f'"geometry":{self.text}}}]}}'
        )


def _dump(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _sq(**kw: Any) -> list[list[float]]:
    return square(**kw)["coordinates"][0]


_R = _sq()
_UNCLOSED = _R[:-1] + [[_R[0][0] + 0.01, _R[0][1]]]
_NAN_TEXT = _dump({"type": "Polygon", "coordinates": [_R]}).replace(str(_R[1][0]), "NaN", 1)
_INF_TEXT = _dump({"type": "Polygon", "coordinates": [_R]}).replace(str(_R[2][1]), "-Infinity", 1)
# 200,000 vertices: a circle-ish ring (the vertex limit must refuse it before GEOS builds it).
_HUGE_N = 200_000


def _huge_ring_text() -> str:
    import math

    pts = [
        f"[{151.0 + 0.1 * math.cos(2 * math.pi * i / _HUGE_N):.4f},{-33.5 + 0.1 * math.sin(2 * math.pi * i / _HUGE_N):.4f}]"
        for i in range(_HUGE_N)
    ]
    pts.append(pts[0])
    return '{"type":"Polygon","coordinates":[[' + ",".join(pts) + "]]}"


CASES: list[Case] = [
    Case(
        "unclosed_ring",
        _dump({"type": "Polygon", "coordinates": [_UNCLOSED]}),
        REFUSE,
        says=("closed", "unclosed"),
    ),
    Case("bowtie", _dump(bowtie()), REFUSE, says=("self-intersect",), self_intersecting=True),
    Case("nan_literal", _NAN_TEXT, REFUSE, says=("number",)),
    Case("infinity_literal", _INF_TEXT, REFUSE, says=("number",)),
    Case(
        "nan_string",
        _dump({"type": "Polygon", "coordinates": [[["NaN", 1], *_R[1:]]]}),
        REFUSE,
        says=("number",),
    ),
    Case(
        "latitude_out_of_range",
        _dump({"type": "Polygon", "coordinates": [ring(151.0, 89.0, 151.2, 95.0)]}),
        REFUSE,
        says=("latitude",),
    ),
    Case(
        "longitude_out_of_range",
        _dump({"type": "Polygon", "coordinates": [ring(179.0, -33.6, 181.5, -33.4)]}),
        REFUSE,
        says=("longitude",),
    ),
    Case(
        "lat_lon_swapped",
        _dump({"type": "Polygon", "coordinates": [[[p[1] * 3, p[0]] for p in _R]]}),
        REFUSE,
        says=("longitude",),
    ),
    Case(
        "empty_polygon", _dump({"type": "Polygon", "coordinates": []}), REFUSE, says=("coordinates", "ring")
    ),
    Case("empty_ring", _dump({"type": "Polygon", "coordinates": [[]]}), REFUSE, says=("ring",)),
    Case(
        "empty_multipolygon",
        _dump({"type": "MultiPolygon", "coordinates": [[]]}),
        REFUSE,
        says=("polygon", "ring"),
    ),
    Case(
        "geometry_collection",
        _dump({"type": "GeometryCollection", "geometries": [square()]}),
        REFUSE,
        says=("Polygon",),
        polygonal_only=True,
    ),
    Case(
        "nested_geometry_collection",
        _dump(
            {"type": "GeometryCollection", "geometries": [{"type": "GeometryCollection", "geometries": []}]}
        ),
        REFUSE,
        says=("geometrycollection", "polygon"),
    ),
    Case(
        "point",
        _dump({"type": "Point", "coordinates": [151.0, -33.5]}),
        REFUSE,
        says=("Polygon",),
        polygonal_only=True,
    ),
    Case(
        "linestring",
        _dump({"type": "LineString", "coordinates": [[151.0, -33.5], [151.1, -33.4]]}),
        REFUSE,
        says=("Polygon",),
        polygonal_only=True,
    ),
    Case("point_nan", '{"type":"Point","coordinates":[NaN,-33.5]}', REFUSE, says=("number", "polygon")),
    Case(
        "point_out_of_range",
        _dump({"type": "Point", "coordinates": [151.0, -95.0]}),
        REFUSE,
        says=("latitude", "polygon"),
    ),
    Case(
        "not_a_geometry",
        _dump({"type": "Circle", "coordinates": [151.0, -33.5], "radius": 5}),
        REFUSE,
        says=("type", "circle"),
    ),
    Case(
        "coordinates_not_arrays",
        _dump({"type": "Polygon", "coordinates": "151,-33"}),
        REFUSE,
        says=("coordinates", "ring"),
    ),
    Case("huge_vertex_count", _huge_ring_text(), REFUSE, says=("vertices",)),
    # Accepted, and measured as what they are.
    Case("wrong_winding", _dump({"type": "Polygon", "coordinates": [list(reversed(_R))]}), ACCEPT),
    Case("three_d", _dump({"type": "Polygon", "coordinates": [[[*p, 35.5] for p in _R]]}), ACCEPT),
    Case(
        # A 0.4° × 0.2° box over the antimeridian written with longitudes past ±180 by a client
        # that does not split it: refused with the way to write it (never a 340°-wide polygon).
        "antimeridian_unsplit",
        _dump({"type": "Polygon", "coordinates": [ring(179.8, -17.1, 180.2, -16.9)]}),
        REFUSE,
        says=("antimeridian",),
    ),
    Case(
        # The same box written west→east across ±180 as one ring (179.8 … -179.8): as drawn it is
        # 359.6° wide; the validator must not take it as that.
        "antimeridian_wraparound",
        _dump({"type": "Polygon", "coordinates": [ring(179.8, -17.1, -179.8, -16.9)]}),
        REFUSE,
        says=("antimeridian",),
    ),
    Case(
        # The GeoJSON way (RFC 7946 §3.1.9): split at ±180 into a MultiPolygon. Accepted, ≈ 0.4° wide.
        "antimeridian_split",
        _dump(
            {
                "type": "MultiPolygon",
                "coordinates": [[ring(179.8, -17.1, 180.0, -16.9)], [ring(-180.0, -17.1, -179.8, -16.9)]],
            }
        ),
        ACCEPT,
    ),
]

BY_NAME = {c.name: c for c in CASES}
REFUSED = [c for c in CASES if c.expect == REFUSE]
ACCEPTED = [c for c in CASES if c.expect == ACCEPT]


def case_ids(cases: list[Case]) -> list[str]:
    return [c.name for c in cases]


# Geodesic km² of each accepted shape (the Sydney square is ≈12 km × 12 km; the Fiji box over the
# antimeridian is 0.4° × 0.2°). A 340°-wide reading would be millions of km².
SQUARE_KM2 = 143.6
AREA_KM2 = {"wrong_winding": SQUARE_KM2, "three_d": SQUARE_KM2, "antimeridian_split": 942.8, "bowtie": 206.1}
