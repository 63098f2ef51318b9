"""Two-line element sets (TLEs) for the satellites the tasking catalog names.

Where TLEs come from, in order of preference for each NORAD id (the newest epoch wins):

1. The Django cache key ``tasking:tles:v1`` — written by the ``tasking.tasks.refresh_tles`` beat
   task from ``settings.TLE_SOURCE_URL``. The cache (Redis) is shared by every web and worker
   process, which a file under var/ would not be on a multi-host deployment, and it needs no
   migration. It is stored without expiry; if it is ever evicted we fall back to (2) until the next
   refresh, which only costs prediction accuracy, never availability.
2. The shipped data: ``tasking/data/tles.txt`` (3-line format) plus ``tasking/data/tles.json``
   recording, per NORAD id, where those lines came from and when they were taken.

Every TLE handed out has passed the mod-10 checksum of both lines and agrees on its catalog number.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from geopera_web.errors import NotFound
from geopera_web.ops.degrade import cache_or_default

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
SHIPPED_TLE_FILE = DATA_DIR / "tles.txt"
SHIPPED_META_FILE = DATA_DIR / "tles.json"
CACHE_KEY = "tasking:tles:v1"


class TleError(ValueError):
    """A TLE that fails validation (format, checksum, catalog number)."""


@dataclass(frozen=True)
class TLE:
    norad_id: int
    name: str
    line1: str
    line2: str
    epoch: datetime  # UTC, from line 1
    source: str  # where the lines came from (URL, file, or how they were synthesised)
    fetched_at: datetime  # UTC, when we took them from that source

    def to_json(self) -> dict:
        data = asdict(self)
        data["epoch"] = self.epoch.isoformat()
        data["fetched_at"] = self.fetched_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict) -> TLE:
        return cls(
            norad_id=int(data["norad_id"]),
            name=str(data["name"]),
            line1=str(data["line1"]),
            line2=str(data["line2"]),
            epoch=datetime.fromisoformat(data["epoch"]),
            source=str(data["source"]),
            fetched_at=datetime.fromisoformat(data["fetched_at"]),
        )


# --- validation ----------------------------------------------------------------------------------


def tle_checksum(line: str) -> int:
    """Mod-10 checksum of the first 68 columns: digits count their value, '-' counts 1."""
    total = 0
    for char in line[:68]:
        if char.isdigit():
            total += int(char)
        elif char == "-":
            total += 1
    return total % 10


def tle_epoch(line1: str) -> datetime:
    """UTC epoch of a TLE from line 1 columns 19-32 (YYDDD.DDDDDDDD; 57-99 → 19xx)."""
    yy = int(line1[18:20])
    year = 1900 + yy if yy >= 57 else 2000 + yy
    day_of_year = float(line1[20:32])
    return datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=day_of_year - 1)


def validate_tle_lines(line1: str, line2: str) -> int:
    """Check the two lines of a TLE and return its NORAD catalog number.

    Raises TleError on a wrong length, line number, checksum, or mismatched catalog numbers.
    """
    line1, line2 = line1.rstrip(), line2.rstrip()
    for number, line in ((1, line1), (2, line2)):
        if len(line) != 69:
            raise TleError(f"line {number} has {len(line)} characters, expected 69")
        if line[0] != str(number) or line[1] != " ":
            raise TleError(f"line {number} does not start with '{number} '")
        if not line[68].isdigit() or int(line[68]) != tle_checksum(line):
            raise TleError(f"line {number} fails its checksum")
    try:
        id1, id2 = int(line1[2:7]), int(line2[2:7])
    except ValueError as exc:
        raise TleError("catalog number is not numeric (alpha-5 ids are not supported)") from exc
    if id1 != id2:
        raise TleError(f"catalog numbers differ between lines ({id1} vs {id2})")
    tle_epoch(line1)  # raises ValueError on a malformed epoch
    return id1


def parse_tle_text(text: str, *, source: str, fetched_at: datetime) -> tuple[list[TLE], list[str]]:
    """Parse 3-line (name + 2 lines) or bare 2-line TLE text.

    Returns (valid TLEs, problems); an invalid element set is reported and skipped, never raised,
    so one bad entry in a feed cannot block the others.
    """
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    tles: list[TLE] = []
    problems: list[str] = []
    i = 0
    while i < len(lines):
        name = ""
        if not lines[i].startswith("1 "):
            name = lines[i].removeprefix("0 ").strip()
            i += 1
        if i + 1 >= len(lines):
            problems.append(f"truncated element set after {name or 'line ' + str(i)}")
            break
        line1, line2 = lines[i], lines[i + 1]
        i += 2
        try:
            norad_id = validate_tle_lines(line1, line2)
            epoch = tle_epoch(line1)
        except (TleError, ValueError) as exc:
            problems.append(f"{name or line1[:20]}: {exc}")
            continue
        tles.append(
            TLE(
                norad_id=norad_id,
                name=name or f"NORAD {norad_id}",
                line1=line1,
                line2=line2,
                epoch=epoch,
                source=source,
                fetched_at=fetched_at,
            )
        )
    return tles, problems


# --- storage -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def shipped_catalog() -> dict[int, TLE]:
    """The TLEs shipped in tasking/data, keyed by NORAD id (parsed once per process)."""
    meta = json.loads(SHIPPED_META_FILE.read_text())
    tles, problems = parse_tle_text(
        SHIPPED_TLE_FILE.read_text(), source="", fetched_at=datetime(1970, 1, 1, tzinfo=UTC)
    )
    if problems:
        # Shipped data is checked by the test suite; a broken file is a deployment error.
        raise ImproperlyConfigured(f"invalid shipped TLEs: {problems}")
    catalog: dict[int, TLE] = {}
    for tle in tles:
        info = meta.get(str(tle.norad_id))
        if info is None:
            raise ImproperlyConfigured(f"tles.json has no source for NORAD {tle.norad_id}")
        catalog[tle.norad_id] = TLE(
            norad_id=tle.norad_id,
            name=info.get("name", tle.name),
            line1=tle.line1,
            line2=tle.line2,
            epoch=tle.epoch,
            source=info["source"],
            fetched_at=datetime.fromisoformat(info["fetched_at"]),
        )
    return catalog


def _refreshed_catalog() -> dict[int, TLE]:
    # Cache down: the shipped TLEs only (logged by degrade), never an error.
    raw = cache_or_default("refreshed TLEs", lambda: cache.get(CACHE_KEY), None) or {}
    out: dict[int, TLE] = {}
    for key, data in raw.items():
        try:
            out[int(key)] = TLE.from_json(data)
        except (KeyError, TypeError, ValueError):
            logger.warning("ignoring malformed cached TLE for %s", key)
    return out


def tle_catalog() -> list[TLE]:
    """Every known TLE (shipped, overridden by a refreshed one with a newer epoch), by NORAD id."""
    merged = dict(shipped_catalog())
    for norad_id, tle in _refreshed_catalog().items():
        current = merged.get(norad_id)
        if current is None or tle.epoch > current.epoch:
            merged[norad_id] = tle
    return [merged[k] for k in sorted(merged)]


def tle_for(norad_id: int) -> TLE:
    """The newest TLE for one NORAD id. Raises NotFound if we have none."""
    for tle in tle_catalog():
        if tle.norad_id == norad_id:
            return tle
    raise NotFound(f"No orbital elements for NORAD {norad_id}.")


def tracked_norad_ids() -> set[int]:
    """NORAD ids worth storing: the shipped ones plus any a Sensor in the catalog names, so staff
    adding a satellite in the admin get its TLE at the next refresh without a code change."""
    ids = set(shipped_catalog())
    try:
        from .models import Sensor

        for satellites in Sensor.objects.values_list("satellites", flat=True):
            ids.update(int(s["norad_id"]) for s in satellites or [] if s.get("norad_id"))
    except Exception:  # the catalog is a bonus here; the shipped ids always count
        logger.warning("could not read the sensor catalog's NORAD ids", exc_info=True)
    return ids


def tle_store_refreshed(*, tles: Iterable[TLE]) -> list[int]:
    """Store refreshed TLEs for the ids we track; the newer epoch wins. Returns the ids updated.

    Only satellites we track are kept (shipped, or named by a Sensor): a public feed has
    thousands of objects and we have no use for them. Re-storing the same TLE is a no-op
    (idempotent).
    """
    tracked = tracked_norad_ids()
    current = {tle.norad_id: tle for tle in tle_catalog()}
    stored = {str(k): v.to_json() for k, v in _refreshed_catalog().items()}
    updated: list[int] = []
    for tle in tles:
        if tle.norad_id not in tracked:
            continue
        have = current.get(tle.norad_id)
        if have is not None and tle.epoch <= have.epoch:
            continue
        stored[str(tle.norad_id)] = tle.to_json()
        current[tle.norad_id] = tle
        updated.append(tle.norad_id)
    if updated:
        cache.set(CACHE_KEY, stored, timeout=None)
    return sorted(updated)


# --- refresh -------------------------------------------------------------------------------------

REFRESH_LOCK_KEY = "tasking:tles:refresh-lock"
MAX_FEED_BYTES = 20 * 1024 * 1024  # CelesTrak's whole "active" group is a few MB
# An epoch this far in the future is a corrupt or fabricated element set, not a forecast.
MAX_EPOCH_LEAD = timedelta(days=1)


@dataclass(frozen=True)
class RefreshResult:
    url: str
    fetched: int  # element sets that passed validation
    updated: list[int]  # NORAD ids whose stored TLE changed
    problems: list[str]  # skipped element sets / fetch failure, for the log
    ok: bool  # False when the source could not be read at all


def tle_refresh_from_source(*, url: str, timeout: float = 10.0) -> RefreshResult:
    """Fetch 3-line (or 2-line) TLEs from ``url`` and store the ones we track whose epoch is newer.

    Preconditions: none — an empty ``url``, an unreachable or malformed source, or a concurrent
    refresh all leave the stored data as it is and are reported in the result, never raised:
    the shipped TLEs remain usable, so a failed refresh must not become an error anywhere.
    http(s):// and file:// URLs are accepted.
    """
    from urllib.error import URLError
    from urllib.request import urlopen

    if not url:
        return RefreshResult(url, 0, [], ["no TLE_SOURCE_URL configured"], ok=False)
    if not url.startswith(("http://", "https://", "file://")):
        return RefreshResult(url, 0, [], ["unsupported URL scheme"], ok=False)
    if not cache_or_default(
        "TLE refresh lock", lambda: cache.add(REFRESH_LOCK_KEY, 1, timeout=int(timeout) + 60), False
    ):
        return RefreshResult(url, 0, [], ["another refresh is running"], ok=False)
    try:
        try:
            with urlopen(url, timeout=timeout) as response:  # scheme checked above
                body = response.read(MAX_FEED_BYTES + 1)
        except (URLError, OSError, ValueError) as exc:
            return RefreshResult(url, 0, [], [f"fetch failed: {exc}"], ok=False)
        if len(body) > MAX_FEED_BYTES:
            return RefreshResult(url, 0, [], ["feed larger than the size limit"], ok=False)
        fetched_at = datetime.now(UTC)
        tles, problems = parse_tle_text(
            body.decode("ascii", errors="replace"), source=url, fetched_at=fetched_at
        )
        valid = []
        for tle in tles:
            if tle.epoch > fetched_at + MAX_EPOCH_LEAD:
                problems.append(f"NORAD {tle.norad_id}: epoch {tle.epoch:%Y-%m-%d} is in the future")
                continue
            valid.append(tle)
        updated = tle_store_refreshed(tles=valid)
        return RefreshResult(url, len(valid), updated, problems, ok=True)
    finally:
        cache.delete(REFRESH_LOCK_KEY)
