"""Archive data products (one per catalog collection) and the synthetic scene generator.

The generator is pure Python and deterministic for a seed: the same `(seed, end_date, count)` gives
the same rows, byte for byte. Footprints are strips along sun-synchronous ground tracks: the
along-track heading comes from the orbit inclination at the scene's latitude (descending passes head
roughly SSW, ascending NNW, tilted by the Earth's rotation), the strip width is the sensor's swath and
the length a typical acquisition. Local solar time of the node gives the UTC acquisition time, and
the sun elevation follows from latitude, season and hour angle.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

ARCHIVE_HOST = "geopera-sim"
EARTH_KM_PER_DEG = 111.32
EARTH_ROTATION_KMS = 0.4651  # equatorial surface speed, km/s


@dataclass(frozen=True)
class Sensor:
    product_id: str
    collection: str
    name: str
    platforms: tuple[str, ...]
    constellation: str
    gsd: float  # nadir GSD, metres
    swath_km: float
    length_km: tuple[float, float]
    max_off_nadir: float
    inclination: float  # degrees
    node_local_time: float  # local solar time at the descending node, hours
    credits_per_km2: int
    min_area_km2: float
    weight: float  # share of generated scenes
    description: str


# Rates are list prices in credits (100 credits = A$1) per km²; minimums are what the providers bill
# for the smallest archive order.
SENSORS: tuple[Sensor, ...] = (
    Sensor(
        "archive-pleiades-neo",
        "pleiades-neo",
        "Pléiades Neo 30 cm",
        ("PNEO3", "PNEO4"),
        "pleiades-neo",
        0.3,
        14.0,
        (25.0, 90.0),
        30.0,
        97.9,
        10.5,
        2000,
        25.0,
        0.18,
        "Very-high-resolution 30 cm panchromatic / 1.2 m multispectral archive.",
    ),
    Sensor(
        "archive-pleiades",
        "pleiades",
        "Pléiades 50 cm",
        ("PHR1A", "PHR1B"),
        "pleiades",
        0.5,
        20.0,
        (35.0, 120.0),
        30.0,
        98.2,
        10.5,
        1000,
        25.0,
        0.2,
        "50 cm panchromatic / 2 m multispectral archive.",
    ),
    Sensor(
        "archive-spot",
        "spot",
        "SPOT 6/7 1.5 m",
        ("SPOT6", "SPOT7"),
        "spot",
        1.5,
        60.0,
        (100.0, 240.0),
        30.0,
        98.2,
        10.0,
        300,
        100.0,
        0.17,
        "1.5 m panchromatic / 6 m multispectral wide-area archive.",
    ),
    Sensor(
        "archive-worldview-legion",
        "worldview-legion",
        "WorldView Legion 30 cm",
        ("LG01", "LG02", "LG03", "LG04", "LG05", "LG06"),
        "worldview-legion",
        0.3,
        9.3,
        (20.0, 60.0),
        35.0,
        97.4,
        10.5,
        2200,
        25.0,
        0.15,
        "30 cm class imagery from the WorldView Legion constellation.",
    ),
    Sensor(
        "archive-skysat",
        "skysat",
        "SkySat 50 cm",
        ("SKYSAT-C14", "SKYSAT-C16", "SKYSAT-C19"),
        "skysat",
        0.5,
        5.5,
        (15.0, 40.0),
        30.0,
        97.4,
        10.5,
        800,
        25.0,
        0.15,
        "50 cm orthorectified SkySat collects.",
    ),
    Sensor(
        "archive-sentinel-2",
        "sentinel-2-l2a",
        "Sentinel-2-like 10 m",
        ("sentinel-2a", "sentinel-2b"),
        "sentinel-2",
        10.0,
        110.0,
        (110.0, 110.0),
        10.0,
        98.6,
        10.5,
        5,
        100.0,
        0.15,
        "10 m multispectral tiles (110 × 110 km granules).",
    ),
)
SENSOR_BY_COLLECTION = {s.collection: s for s in SENSORS}


# Places people know, with a spread (degrees) for scenes around them.
CITIES: tuple[tuple[str, float, float, float], ...] = (
    ("Sydney", -33.87, 151.21, 0.6),
    ("Melbourne", -37.81, 144.96, 0.6),
    ("Brisbane", -27.47, 153.03, 0.6),
    ("Perth", -31.95, 115.86, 0.6),
    ("Adelaide", -34.93, 138.60, 0.5),
    ("Canberra", -35.28, 149.13, 0.4),
    ("Hobart", -42.88, 147.33, 0.4),
    ("Darwin", -12.46, 130.84, 0.4),
    ("Auckland", -36.85, 174.76, 0.5),
    ("Wellington", -41.29, 174.78, 0.4),
    ("Singapore", 1.35, 103.82, 0.3),
    ("Jakarta", -6.21, 106.85, 0.5),
    ("Kuala Lumpur", 3.14, 101.69, 0.4),
    ("Bangkok", 13.76, 100.50, 0.5),
    ("Manila", 14.60, 120.98, 0.4),
    ("Hong Kong", 22.32, 114.17, 0.3),
    ("Tokyo", 35.68, 139.69, 0.6),
    ("Seoul", 37.57, 126.98, 0.5),
    ("Shanghai", 31.23, 121.47, 0.5),
    ("Delhi", 28.61, 77.21, 0.5),
    ("Mumbai", 19.08, 72.88, 0.4),
    ("Dubai", 25.20, 55.27, 0.4),
    ("Nairobi", -1.29, 36.82, 0.5),
    ("Lagos", 6.52, 3.38, 0.4),
    ("Cairo", 30.04, 31.24, 0.5),
    ("Cape Town", -33.92, 18.42, 0.4),
    ("Paris", 48.86, 2.35, 0.5),
    ("London", 51.51, -0.13, 0.5),
    ("Berlin", 52.52, 13.40, 0.4),
    ("Madrid", 40.42, -3.70, 0.4),
    ("Rome", 41.90, 12.50, 0.4),
    ("Los Angeles", 34.05, -118.24, 0.6),
    ("San Francisco", 37.77, -122.42, 0.4),
    ("New York", 40.71, -74.01, 0.5),
    ("Houston", 29.76, -95.37, 0.5),
    ("Mexico City", 19.43, -99.13, 0.4),
    ("Vancouver", 49.28, -123.12, 0.4),
    ("São Paulo", -23.55, -46.63, 0.6),
    ("Rio de Janeiro", -22.91, -43.17, 0.4),
    ("Buenos Aires", -34.60, -58.38, 0.5),
    ("Santiago", -33.45, -70.67, 0.4),
    ("Lima", -12.05, -77.04, 0.4),
)
# Broad regions for the remaining scenes (lat_min, lat_max, lon_min, lon_max): mostly land.
REGIONS: tuple[tuple[str, float, float, float, float], ...] = (
    ("Eastern Australia", -38.0, -16.0, 140.0, 153.0),
    ("Western Australia", -34.0, -18.0, 114.0, 126.0),
    ("New Zealand", -46.0, -35.0, 167.0, 178.0),
    ("Maritime Southeast Asia", -8.0, 6.0, 100.0, 120.0),
    ("Japan", 31.0, 43.0, 130.0, 142.0),
    ("Western Europe", 43.0, 53.0, -2.0, 12.0),
    ("California", 33.0, 40.0, -122.0, -116.0),
    ("East Africa", -4.0, 4.0, 33.0, 40.0),
    ("Southeast Brazil", -25.0, -19.0, -50.0, -42.0),
)


@dataclass(frozen=True)
class SceneRow:
    id: uuid.UUID
    scene_id: str
    collection: str
    product_id: str
    footprint_wkt: str
    ring: list[tuple[float, float]]
    acquired_at: datetime
    cloud_cover: float
    off_nadir: float
    gsd: float
    sun_elevation: float
    platform: str
    properties: dict


def ground_track_heading(*, lat: float, inclination: float, descending: bool) -> float:
    """Heading (degrees clockwise from north) of a sun-synchronous ground track at `lat`.

    Inertial heading from spherical trigonometry (sin az = cos i / cos lat), then the Earth's
    rotation under the satellite (≈7.5 km/s ground speed) tilts it further west.
    """
    c = math.cos(math.radians(inclination)) / max(math.cos(math.radians(lat)), 1e-6)
    az = math.asin(max(-1.0, min(1.0, c)))  # ascending: slightly west of north
    if descending:
        az = math.pi - az  # slightly west of south
    v = 7.5
    north = v * math.cos(az)
    east = v * math.sin(az) - EARTH_ROTATION_KMS * math.cos(math.radians(lat))
    return math.degrees(math.atan2(east, north)) % 360.0


def strip_ring(
    *, lat: float, lon: float, heading: float, length_km: float, width_km: float, skew: float = 0.0
) -> list[tuple[float, float]]:
    """A closed (lon, lat) ring: a strip centred on (lat, lon), long side along `heading`."""
    h = math.radians(heading)
    along = (math.sin(h), math.cos(h))  # (east, north) unit vector
    across = (math.cos(h), -math.sin(h))
    hl, hw = length_km / 2, width_km / 2
    corners_km = [
        (-hl, -hw * (1 - skew)),
        (hl, -hw * (1 + skew)),
        (hl, hw * (1 + skew)),
        (-hl, hw * (1 - skew)),
    ]
    kx = EARTH_KM_PER_DEG * math.cos(math.radians(lat))
    ring = []
    for a, c in corners_km:
        east = a * along[0] + c * across[0]
        north = a * along[1] + c * across[1]
        ring.append((lon + east / kx, lat + north / EARTH_KM_PER_DEG))
    ring.append(ring[0])
    return ring


def sun_elevation(*, lat: float, when: datetime, lon: float) -> tuple[float, float]:
    """(elevation, azimuth) of the sun in degrees — a textbook approximation, good to a degree or so."""
    doy = when.timetuple().tm_yday
    decl = math.radians(-23.44 * math.cos(math.radians(360 / 365 * (doy + 10))))
    solar_hours = when.hour + when.minute / 60 + lon / 15
    hour_angle = math.radians(15 * (solar_hours - 12))
    la = math.radians(lat)
    sin_el = math.sin(la) * math.sin(decl) + math.cos(la) * math.cos(decl) * math.cos(hour_angle)
    el = math.asin(max(-1.0, min(1.0, sin_el)))
    cos_az = (math.sin(decl) - math.sin(el) * math.sin(la)) / max(math.cos(el) * math.cos(la), 1e-9)
    az = math.degrees(math.acos(max(-1.0, min(1.0, cos_az))))
    if hour_angle > 0:
        az = 360 - az
    return round(math.degrees(el), 2), round(az, 2)


def generate_scenes(*, count: int, seed: int, end_date: date) -> Iterator[SceneRow]:
    """`count` deterministic scenes acquired in the ~3 years before `end_date`."""
    rng = random.Random(seed)
    cum_weights = list(itertools.accumulate(s.weight for s in SENSORS))
    days = 3 * 365
    end = datetime(end_date.year, end_date.month, end_date.day, tzinfo=UTC)
    for index in range(count):
        sensor = rng.choices(SENSORS, cum_weights=cum_weights)[0]
        if rng.random() < 0.8:
            _, clat, clon, spread = rng.choice(CITIES)
            lat = clat + rng.gauss(0, spread)
            lon = clon + rng.gauss(0, spread / max(math.cos(math.radians(clat)), 0.3))
        else:
            _, la0, la1, lo0, lo1 = rng.choice(REGIONS)
            lat, lon = rng.uniform(la0, la1), rng.uniform(lo0, lo1)
        lat = max(-80.0, min(80.0, lat))
        lon = ((lon + 180) % 360) - 180
        # Optical imagery is collected on the sunlit, descending pass; a few ascending extras.
        descending = rng.random() < 0.92
        day = end - timedelta(days=rng.randrange(days) + 1)
        # Ascending extras come from afternoon-node satellites (13:30 local), never the night pass.
        local_time = sensor.node_local_time if descending else 13.5
        local_time = (local_time + rng.uniform(-0.4, 0.4)) % 24
        utc_hours = (local_time - lon / 15) % 24
        acquired = day + timedelta(seconds=int(utc_hours * 3600) + rng.randrange(60))
        heading = ground_track_heading(lat=lat, inclination=sensor.inclination, descending=descending)
        off_nadir = round(min(sensor.max_off_nadir, abs(rng.gauss(0, sensor.max_off_nadir / 2.2))), 2)
        stretch = 1 / math.cos(math.radians(off_nadir))
        gsd = round(sensor.gsd * stretch**1.5, 2)
        lo, hi = sensor.length_km
        length = rng.uniform(lo, hi)
        width = sensor.swath_km * stretch * rng.uniform(0.9, 1.0)
        skew = rng.uniform(-0.03, 0.03)
        ring = strip_ring(lat=lat, lon=lon, heading=heading, length_km=length, width_km=width, skew=skew)
        # Mostly clear with a long cloudy tail (archive operators also keep cloudy scenes).
        cloud = round(min(100.0, 100 * rng.betavariate(0.55, 3.2)), 2)
        elevation, azimuth = sun_elevation(lat=lat, lon=lon, when=acquired)
        platform = rng.choice(sensor.platforms)
        uid = uuid.UUID(int=rng.getrandbits(128), version=4)
        scene_id = f"{platform}_{acquired:%Y%m%dT%H%M%S}_{seed:x}-{index:07d}"
        # 6 decimals ≈ 0.1 m: plenty for footprints, and much faster to format than repr().
        coords = ", ".join([f"{x:.6f} {y:.6f}" for x, y in ring])
        yield SceneRow(
            id=uid,
            scene_id=scene_id,
            collection=sensor.collection,
            product_id=sensor.product_id,
            footprint_wkt=f"SRID=4326;MULTIPOLYGON((({coords})))",
            ring=ring,
            acquired_at=acquired,
            cloud_cover=cloud,
            off_nadir=off_nadir,
            gsd=gsd,
            sun_elevation=elevation,
            platform=platform,
            properties={
                "view:sun_azimuth": azimuth,
                "sat:orbit_state": "descending" if descending else "ascending",
                "constellation": sensor.constellation,
                "instruments": ["optical"],
            },
        )


def properties_json(row: SceneRow) -> str:
    return json.dumps(row.properties, separators=(",", ":"), ensure_ascii=False)


def quicklook_shapes(*, scene_id: str, cloud_cover: float) -> dict:
    """Deterministic drawing instructions for a synthetic quicklook (see orders/quicklook.svg)."""
    rng = random.Random(scene_id)
    palettes = (
        ("#6b8f5e", "#a8a17a", "#4f7a8c"),
        ("#8a9a5b", "#c2b280", "#3d6b7d"),
        ("#5d7f4f", "#9c8f6b", "#2f5f73"),
        ("#a39171", "#d1c39a", "#56808f"),
    )
    land, light, water = rng.choice(palettes)
    fields = [
        {
            "x": rng.randint(0, 100),
            "y": rng.randint(0, 70),
            "w": rng.randint(10, 35),
            "h": rng.randint(8, 25),
            "color": rng.choice((land, light, "#7d8f62", "#b5a77f")),
        }
        for _ in range(9)
    ]
    roads = [(rng.randint(0, 120), 0, rng.randint(0, 120), 90) for _ in range(2)] + [
        (0, rng.randint(0, 90), 120, rng.randint(0, 90))
    ]
    n_clouds = round(cloud_cover / 8)
    clouds = [
        {
            "cx": rng.randint(0, 120),
            "cy": rng.randint(0, 90),
            "rx": rng.randint(8, 26),
            "ry": rng.randint(5, 14),
        }
        for _ in range(n_clouds)
    ]
    coast = rng.randint(45, 75)
    return {
        "land": land,
        "water": water,
        "fields": fields,
        "roads": roads,
        "clouds": clouds,
        "coast": coast,
        "haze": round(min(0.5, cloud_cover / 200), 2),
    }
