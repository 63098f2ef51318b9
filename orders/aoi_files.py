"""Reading an uploaded AOI file (GeoJSON, KML, zipped shapefile) into a MultiPolygon in EPSG:4326.

Hostile files are expected. GeoJSON never reaches GDAL. KML is parsed with defusedxml first (no
DTD, no entities) and must have a <kml> root; a zip is inspected member by member with `zipfile`
before anything is unpacked (count, sizes, ratio, no links, no absolute or ../ paths, no nested
archives). GDAL then reads only the shapefile's own parts or the KML, from a private temporary
directory, through `orders.gdal_safety.open_vector` with an explicit driver allow-list (so a VRT
called .kml or .shp is refused, never opened); the process has no VRT driver and no GDAL network
access (`gdal_harden`). Reprojection uses the file's own
spatial reference (the shapefile's .prj; KML is WGS 84 by definition) — never an SRS string supplied
by the user, which GDAL < 3.9 could be tricked into resolving from the network or disk.
Every problem is an `InvalidInput` whose message says what is wrong with the file.
"""

from __future__ import annotations

import io
import json
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from django.conf import settings
from django.contrib.gis.gdal import GDALException, OGRGeometry
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon

from geopera_web import jsonbounds
from geopera_web.errors import InvalidInput

from .gdal_safety import KML_DRIVERS, SHAPEFILE_DRIVERS, open_vector
from .geometry import geodesic_area_km2, geometry_from_geojson, polygonal_from_geos

# The limits are settings (AOI_UPLOAD_MAX_*), read when a file is handled.
ZIP_RATIO_FLOOR_BYTES = 1024 * 1024  # small members may compress as well as they like
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
NESTED_ARCHIVE_SUFFIXES = frozenset(
    {".zip", ".kmz", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".7z", ".rar", ".zst", ".jar"}
)


def aoi_from_upload(*, filename: str, data: bytes) -> MultiPolygon:
    """The AOI in an uploaded file. Raises InvalidInput with an actionable message."""
    if not data:
        raise InvalidInput(f"{filename} is empty.")
    if len(data) > settings.AOI_UPLOAD_MAX_BYTES:
        raise InvalidInput(
            f"{filename} is {len(data) / 1e6:.1f} MB; the limit is {settings.AOI_UPLOAD_MAX_BYTES // 1_000_000} MB. "
            "Simplify the AOI first."
        )
    suffix = Path(filename).suffix.lower()
    if suffix in (".geojson", ".json"):
        geom = _from_geojson(filename, data)
    elif suffix == ".kml":
        geom = _from_kml(filename, data)
    elif suffix == ".zip":
        geom = _from_zipped_shapefile(filename, data)
    else:
        raise InvalidInput(
            f"{filename}: unsupported file type {suffix or '(none)'}. Upload GeoJSON (.geojson/.json), "
            "KML (.kml) or a zipped shapefile (.zip with .shp, .shx, .dbf and .prj)."
        )
    _check_area(filename, geom)
    return geom


def _from_geojson(filename: str, data: bytes) -> MultiPolygon:
    try:
        doc = jsonbounds.loads(data.decode("utf-8-sig"))
    except jsonbounds.JSONTooDeep as exc:
        raise InvalidInput(
            f"{filename} nests JSON arrays or objects too deeply to be GeoJSON "
            f"(more than {exc.limit} levels, API_MAX_JSON_DEPTH)."
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{filename} is not valid JSON ({exc}).") from exc
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        feats = doc.get("features")
        if not isinstance(feats, list) or not feats:
            raise InvalidInput(f"{filename} is a FeatureCollection without features.")
        if len(feats) > settings.AOI_UPLOAD_MAX_FEATURES:
            raise InvalidInput(
                f"{filename} has {len(feats)} features; the limit is {settings.AOI_UPLOAD_MAX_FEATURES}."
            )
        parts = [
            geometry_from_geojson(
                f.get("geometry") if isinstance(f, dict) else None,
                field=f"{filename}: feature {i + 1}",
                polygonal=True,
            )
            for i, f in enumerate(feats)
        ]
        return _union(filename, parts)
    return geometry_from_geojson(doc, field=filename, polygonal=True)  # type: ignore[return-value]


def _from_kml(filename: str, data: bytes) -> MultiPolygon:
    _check_kml_xml(filename, data)
    with tempfile.TemporaryDirectory(prefix="aoi-") as tmp:
        path = Path(tmp) / "upload.kml"
        path.write_bytes(data)
        return _read_with_gdal(filename, path, drivers=KML_DRIVERS)


def _check_kml_xml(filename: str, data: bytes) -> None:
    """Parse the KML ourselves first, refusing any DTD (billion laughs, external entities): GDAL's
    KML readers then only ever see plain, well-formed XML whose root is <kml>."""
    try:
        root = defused_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise InvalidInput(
            f"{filename} declares a DTD or XML entities, which KML never needs; remove the <!DOCTYPE …>."
        ) from None
    except (ParseError, ValueError) as exc:
        raise InvalidInput(f"{filename} is not well-formed XML ({exc}).") from None
    if root.tag.rsplit("}", 1)[-1] != "kml":
        raise InvalidInput(f"{filename} is not a KML document (no <kml> element).")


def _from_zipped_shapefile(filename: str, data: bytes) -> MultiPolygon:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise InvalidInput(f"{filename} is not a valid zip archive.") from None
    with archive, tempfile.TemporaryDirectory(prefix="aoi-") as tmp:
        members = _shapefile_members(filename, archive)
        for suffix, info in members.items():
            # Flattened names: nothing is written outside the temp dir, whatever the archive says.
            (Path(tmp) / f"aoi{suffix}").write_bytes(_read_member(filename, archive, info))
        return _read_with_gdal(filename, Path(tmp) / "aoi.shp", drivers=SHAPEFILE_DRIVERS)


def _shapefile_members(filename: str, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Inspect every member before anything is unpacked; the shapefile's parts by suffix."""
    infos = archive.infolist()
    if len(infos) > settings.AOI_UPLOAD_MAX_ZIP_MEMBERS:
        raise InvalidInput(
            f"{filename} holds {len(infos)} files; a zipped shapefile needs at most {settings.AOI_UPLOAD_MAX_ZIP_MEMBERS}."
        )
    total = 0
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if (
            name.startswith(("/", "\\"))
            or (len(name) > 1 and name[1] == ":")
            or ".." in parts
            or "\0" in name
        ):
            raise InvalidInput(f"{filename}: the member {name!r} has an absolute or parent (../) path.")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise InvalidInput(
                f"{filename}: the member {name!r} is a symbolic link; zip the files themselves."
            )
        if info.is_dir():
            continue
        if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
            raise InvalidInput(f"{filename}: the member {name!r} is not a regular file.")
        if info.flag_bits & 0x1:
            raise InvalidInput(f"{filename} is password-protected; upload an unencrypted zip.")
        if PurePosixPath(name).suffix.lower() in NESTED_ARCHIVE_SUFFIXES:
            raise InvalidInput(
                f"{filename} contains another archive ({name}); zip the shapefile's files directly."
            )
        total += info.file_size
        if (
            info.file_size > ZIP_RATIO_FLOOR_BYTES
            and info.file_size > settings.AOI_UPLOAD_MAX_ZIP_RATIO * max(info.compress_size, 1)
        ):
            raise InvalidInput(
                f"{filename}: {name} expands {info.file_size // max(info.compress_size, 1):,}× "
                f"(more than {settings.AOI_UPLOAD_MAX_ZIP_RATIO}×), which no shapefile does; refused as a zip bomb."
            )
    if total > settings.AOI_UPLOAD_MAX_UNZIPPED_BYTES:
        raise InvalidInput(
            f"{filename} unpacks to more than {settings.AOI_UPLOAD_MAX_UNZIPPED_BYTES // 1_000_000} MB."
        )
    files = [i for i in infos if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
    shps = [i for i in files if i.filename.lower().endswith(".shp")]
    if not shps:
        raise InvalidInput(f"{filename} contains no .shp file.")
    if len(shps) > 1:
        raise InvalidInput(f"{filename} contains {len(shps)} shapefiles; zip exactly one.")
    stem = shps[0].filename[:-4].lower()
    members = {
        suffix: info for info in files for suffix in SHAPEFILE_PARTS if info.filename.lower() == stem + suffix
    }
    missing = [ext for ext in (".shx", ".dbf", ".prj") if ext not in members]
    if missing:
        why = " (.prj says which coordinate system the shapes use)" if ".prj" in missing else ""
        raise InvalidInput(f"{filename} is missing {', '.join(missing)} next to {shps[0].filename}{why}.")
    return members


def _read_member(filename: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, never more than its declared size (a lying header is refused, not trusted)."""
    try:
        with archive.open(info) as member:
            data = member.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise InvalidInput(f"{filename}: {info.filename} could not be unpacked ({exc}).") from None
    if len(data) > info.file_size:
        raise InvalidInput(f"{filename}: {info.filename} is larger than its zip header says; refused.")
    if data[:4] == b"PK\x03\x04" or data[:2] == b"\x1f\x8b":
        raise InvalidInput(
            f"{filename}: {info.filename} is itself an archive; zip the shapefile's files directly."
        )
    return data


def _read_with_gdal(filename: str, path: Path, *, drivers: tuple[str, ...]) -> MultiPolygon:
    source = open_vector(path, filename=filename, drivers=drivers)
    parts: list[GEOSGeometry] = []
    count = 0
    for layer in source:
        srs = layer.srs
        for feature in layer:
            count += 1
            if count > settings.AOI_UPLOAD_MAX_FEATURES:
                raise InvalidInput(f"{filename} has more than {settings.AOI_UPLOAD_MAX_FEATURES} features.")
            try:
                ogr: OGRGeometry = feature.geom
            except GDALException:  # a placemark without geometry: Django raises on the NULL
                continue
            if ogr.geom_type.name.replace("25D", "") not in ("Polygon", "MultiPolygon"):
                raise InvalidInput(
                    f"{filename}: feature {count} is a {ogr.geom_type.name}; an AOI must be polygons."
                )
            if srs is None:
                raise InvalidInput(
                    f"{filename} does not say which coordinate system it uses (no .prj); add it."
                )
            if ogr.is_3d:
                ogr.set_3d(False)
            try:
                ogr.transform(4326)  # from the file's own SRS
                geos = GEOSGeometry(ogr.wkb, srid=4326)
            except (GDALException, GEOSException) as exc:
                raise InvalidInput(
                    f"{filename}: feature {count} could not be reprojected to WGS 84 ({exc})."
                ) from exc
            parts.append(polygonal_from_geos(geos, field=f"{filename}: feature {count}"))
    if not parts:
        raise InvalidInput(f"{filename} contains no polygon features.")
    return _union(filename, parts)


def _union(filename: str, parts: list[GEOSGeometry]) -> MultiPolygon:
    geom = parts[0]
    for part in parts[1:]:
        geom = geom.union(part)
    return polygonal_from_geos(geom, field=filename)


def _check_area(filename: str, geom: MultiPolygon) -> None:
    area = geodesic_area_km2(geom)
    # Roughly the size of New South Wales; larger AOIs are almost always a mistake (a world polygon).
    most = settings.AOI_UPLOAD_MAX_KM2
    if area > most:
        raise InvalidInput(
            f"{filename}: the AOI covers {area:,.0f} km²; the limit is {most:,.0f} km² (AOI_UPLOAD_MAX_KM2). "
            "Is it in the right coordinate system?"
        )
