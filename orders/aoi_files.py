"""Reading an uploaded AOI file (GeoJSON, KML, zipped shapefile) into a MultiPolygon in EPSG:4326.

GDAL reads KML and shapefiles from a private temporary directory. Reprojection uses the file's own
spatial reference (the shapefile's .prj; KML is WGS 84 by definition) — never an SRS string supplied
by the user, which GDAL < 3.9 could be tricked into resolving from the network or disk.
Every problem is an `InvalidInput` whose message says what is wrong with the file.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from django.contrib.gis.gdal import DataSource, GDALException, OGRGeometry
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon

from geopera_web.errors import InvalidInput

from .geometry import MAX_AOI_KM2, geodesic_area_km2, geometry_from_geojson, polygonal_from_geos

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024
MAX_FEATURES = 1000


def aoi_from_upload(*, filename: str, data: bytes) -> MultiPolygon:
    """The AOI in an uploaded file. Raises InvalidInput with an actionable message."""
    if not data:
        raise InvalidInput(f"{filename} is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            f"{filename} is {len(data) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 1_000_000} MB. "
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
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{filename} is not valid JSON ({exc}).") from exc
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        feats = doc.get("features")
        if not isinstance(feats, list) or not feats:
            raise InvalidInput(f"{filename} is a FeatureCollection without features.")
        if len(feats) > MAX_FEATURES:
            raise InvalidInput(f"{filename} has {len(feats)} features; the limit is {MAX_FEATURES}.")
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
    if b"<kml" not in data[:4096].lower():
        raise InvalidInput(f"{filename} is not a KML document (no <kml> element).")
    with tempfile.TemporaryDirectory(prefix="aoi-") as tmp:
        path = Path(tmp) / "upload.kml"
        path.write_bytes(data)
        return _read_with_gdal(filename, path)


def _from_zipped_shapefile(filename: str, data: bytes) -> MultiPolygon:
    with tempfile.TemporaryDirectory(prefix="aoi-") as tmp:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise InvalidInput(f"{filename} is not a valid zip archive.") from exc
        with archive:
            infos = [i for i in archive.infolist() if not i.is_dir()]
            if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
                raise InvalidInput(f"{filename} unpacks to more than {MAX_UNZIPPED_BYTES // 1_000_000} MB.")
            shps = [i for i in infos if i.filename.lower().endswith(".shp") and "__MACOSX" not in i.filename]
            if not shps:
                raise InvalidInput(f"{filename} contains no .shp file.")
            if len(shps) > 1:
                raise InvalidInput(f"{filename} contains {len(shps)} shapefiles; zip exactly one.")
            stem = shps[0].filename[:-4]
            present = {i.filename.lower() for i in infos}
            missing = [ext for ext in (".shx", ".dbf", ".prj") if (stem + ext).lower() not in present]
            if missing:
                why = " (.prj says which coordinate system the shapes use)" if ".prj" in missing else ""
                raise InvalidInput(
                    f"{filename} is missing {', '.join(missing)} next to {shps[0].filename}{why}."
                )
            for info in infos:
                if not info.filename.lower().startswith(stem.lower()):
                    continue
                # Flatten names: never write outside the temp dir, whatever the archive says.
                target = Path(tmp) / ("aoi" + PurePosixPath(info.filename).suffix.lower())
                target.write_bytes(archive.read(info))
        return _read_with_gdal(filename, Path(tmp) / "aoi.shp")


def _read_with_gdal(filename: str, path: Path) -> MultiPolygon:
    try:
        source = DataSource(str(path))
    except GDALException as exc:
        raise InvalidInput(f"{filename} could not be read as a vector file ({exc}).") from exc
    parts: list[GEOSGeometry] = []
    count = 0
    for layer in source:
        srs = layer.srs
        for feature in layer:
            count += 1
            if count > MAX_FEATURES:
                raise InvalidInput(f"{filename} has more than {MAX_FEATURES} features.")
            ogr: OGRGeometry | None = feature.geom
            if ogr is None:
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
    if area > MAX_AOI_KM2:
        raise InvalidInput(
            f"{filename}: the AOI covers {area:,.0f} km²; the limit is {MAX_AOI_KM2:,.0f} km². "
            "Is it in the right coordinate system?"
        )
