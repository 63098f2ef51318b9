"""Print TLEs synthesised from published orbital elements, for satellites whose real element sets
we could not obtain offline (see tasking/data/tles.json, "source").

    .venv/bin/python scripts/synthesise_tles.py

A synthesised TLE puts the satellite in the right orbit (altitude, inclination, plane from the
local time of its node) but its position along that orbit (mean anomaly) is invented: predicted
pass *times* are illustrative until ``refresh_tles`` replaces it with a real element set. The
international designator is left blank rather than guessed.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

MU_KM3_S2 = 398600.4418
R_EQ_KM = 6378.137
J2 = 1.08262668e-3
SIDEREAL_YEAR_RATE = 2 * math.pi / (365.2421897 * 86400)  # rad/s, the Sun's mean motion


def checksum(line: str) -> int:
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10


def sso_inclination_deg(altitude_km: float) -> float:
    """Inclination that makes J2 precess the node at the Sun's mean rate (circular orbit)."""
    a = R_EQ_KM + altitude_km
    n = math.sqrt(MU_KM3_S2 / a**3)
    cos_i = -SIDEREAL_YEAR_RATE / (1.5 * J2 * n * (R_EQ_KM / a) ** 2)
    return math.degrees(math.acos(cos_i))


def gmst_deg(when: datetime) -> float:
    jd = when.timestamp() / 86400.0 + 2440587.5
    return (280.46061837 + 360.98564736629 * (jd - 2451545.0)) % 360.0


def raan_for_ltan_deg(epoch: datetime, ltan_hours: float) -> float:
    """RAAN placing the ascending node at the given local mean solar time at the epoch."""
    ut_hours = epoch.hour + epoch.minute / 60 + epoch.second / 3600
    return (gmst_deg(epoch) + 15.0 * (ltan_hours - ut_hours)) % 360.0


def _exp_field(value: float) -> str:
    """TLE 'assumed decimal point' field, e.g. 5.0e-5 -> ' 50000-4'."""
    if value == 0:
        return " 00000-0"
    sign = "-" if value < 0 else " "
    exponent = math.floor(math.log10(abs(value))) + 1
    mantissa = round(abs(value) / 10**exponent * 1e5)
    if mantissa == 100000:
        mantissa, exponent = 10000, exponent + 1
    return f"{sign}{mantissa:05d}{'-' if exponent < 0 else '+'}{abs(exponent)}"


def make_tle(
    *,
    norad_id: int,
    epoch: datetime,
    altitude_km: float,
    inclination_deg: float,
    raan_deg: float,
    mean_anomaly_deg: float,
    bstar: float,
    eccentricity: float = 0.0001,
    arg_perigee_deg: float = 90.0,
) -> tuple[str, str]:
    a = R_EQ_KM + altitude_km
    revs_per_day = math.sqrt(MU_KM3_S2 / a**3) * 86400 / (2 * math.pi)
    start_of_year = datetime(epoch.year, 1, 1, tzinfo=UTC)
    day = (epoch - start_of_year).total_seconds() / 86400 + 1
    epoch_field = f"{epoch.year % 100:02d}{day:012.8f}"
    line1 = f"1 {norad_id:05d}U {'':8} {epoch_field} {' .00000000'} {' 00000-0'} {_exp_field(bstar)} 0  999"
    ecc_field = f"{eccentricity:.7f}"[2:]
    line2 = (
        f"2 {norad_id:05d} {inclination_deg:8.4f} {raan_deg:8.4f} {ecc_field} "
        f"{arg_perigee_deg:8.4f} {mean_anomaly_deg:8.4f} {revs_per_day:11.8f}{1:5d}"
    )
    assert len(line1) == 68 and len(line2) == 68, (line1, line2)
    return line1 + str(checksum(line1)), line2 + str(checksum(line2))


EPOCH = datetime(2026, 11, 1, tzinfo=UTC)

# name, NORAD id, altitude km, inclination (None = sun-synchronous), LTAN h (None = RAAN given),
# RAAN deg (when not sun-synchronous), mean anomaly deg (invented), B*
SATELLITES = [
    ("ENMAP", 52159, 653.0, None, 23.0, None, 40.0, 2.0e-5),  # LTDN 11:00
    ("PRISMA", 44072, 615.0, None, 22.5, None, 200.0, 2.5e-5),  # LTDN 10:30
    ("WORLDVIEW LEGION 1", 59625, 518.0, None, 22.5, None, 0.0, 6.0e-5),
    ("WORLDVIEW LEGION 2", 59626, 518.0, None, 22.5, None, 180.0, 6.0e-5),
    ("WORLDVIEW LEGION 3", 60452, 518.0, 45.0, None, 30.0, 0.0, 6.0e-5),
    ("WORLDVIEW LEGION 4", 60453, 518.0, 45.0, None, 30.0, 180.0, 6.0e-5),
    ("WORLDVIEW LEGION 5", 62900, 518.0, 45.0, None, 210.0, 90.0, 6.0e-5),
    ("WORLDVIEW LEGION 6", 62901, 518.0, 45.0, None, 210.0, 270.0, 6.0e-5),
]


def main() -> None:
    for name, norad_id, alt, inc, ltan, raan, mean_anomaly, bstar in SATELLITES:
        line1, line2 = make_tle(
            norad_id=norad_id,
            epoch=EPOCH,
            altitude_km=alt,
            inclination_deg=inc if inc is not None else sso_inclination_deg(alt),
            raan_deg=raan if raan is not None else raan_for_ltan_deg(EPOCH, ltan),
            mean_anomaly_deg=mean_anomaly,
            bstar=bstar,
        )
        print(name, line1, line2, sep="\n")


if __name__ == "__main__":
    main()
