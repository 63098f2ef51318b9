"""Time pass prediction: one week, six satellites, one AOI (figures printed, never asserted).

.venv/bin/python scripts/bench_orbits.py
"""

from __future__ import annotations

import math
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geopera_web.settings")

import django  # noqa: E402

django.setup()

from django.contrib.gis.geos import Polygon  # noqa: E402

from tasking.orbits import predict_passes  # noqa: E402

SATELLITES = [38012, 39019, 48268, 49070, 38755, 40053]  # Pléiades 1A/1B, Neo 3/4, SPOT 6/7
AOIS = {
    "Sydney 20 km square": Polygon.from_bbox((151.1, -33.97, 151.3, -33.77)),
    # 6° x 4° ellipse, 160 vertices (densified to ~800 boundary points).
    "Victoria-sized 160-vertex ellipse": Polygon(
        [(144.5 + 3 * math.cos(k / 80 * math.pi), -37 + 2 * math.sin(k / 80 * math.pi)) for k in range(160)]
        + [(147.5, -37.0)]
    ),
}


def main() -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    end = start + timedelta(days=7)
    for label, aoi in AOIS.items():
        aoi.srid = 4326
        for limit in (15, 30, 45):
            timings = []
            for _ in range(3):
                t0 = time.perf_counter()
                passes = predict_passes(
                    norad_ids=SATELLITES, aoi=aoi, start=start, end=end, max_off_nadir_deg=limit
                )
                timings.append(time.perf_counter() - t0)
            print(
                f"{label:34s} ±{limit:2d}°  {len(passes):3d} passes  "
                f"best {min(timings) * 1000:6.1f} ms  worst {max(timings) * 1000:6.1f} ms"
            )


if __name__ == "__main__":
    main()
