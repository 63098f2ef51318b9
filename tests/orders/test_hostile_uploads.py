"""Hostile AOI uploads: every file in the corpus is a 400 that says what is wrong (never a 500),
and none of them makes the server read the file or fetch the URL it points at."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from django.contrib.gis.gdal.prototypes import ds as capi
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from geopera_web.errors import InvalidInput
from orders.gdal_safety import KML_DRIVERS, SHAPEFILE_DRIVERS, gdal_driver_registered, open_vector

from .hostile_files import (
    SECRET_MARKER,
    SQUARE_KML_COORDS,
    corpus,
    kml,
    kml_polygon,
    recording_server,
    vrt,
    write_secret,
)


@pytest.fixture
def session(operator_user) -> Client:
    c = Client()
    c.force_login(operator_user)
    return c


@pytest.fixture
def http_server():
    with recording_server() as server:
        yield server


@pytest.fixture
def secret(tmp_path) -> Path:
    return write_secret(tmp_path)


def _upload(client: Client, name: str, data: bytes):
    return client.post("/archive/aoi-upload", {"file": SimpleUploadedFile(name, data)})


CASE_IDS = [case[0] for case in corpus(secret=Path("/x/secret.csv"), url="http://127.0.0.1:1")]


@pytest.mark.parametrize("case_id", CASE_IDS)
@pytest.mark.django_db
def test_hostile_upload_is_a_400_that_reads_and_fetches_nothing(
    session, secret, http_server, caplog, case_id
):
    cases = {c[0]: c[1:] for c in corpus(secret=secret, url=http_server.url)}
    name, data, phrase = cases[case_id]
    with caplog.at_level(logging.DEBUG):
        response = _upload(session, name, data)
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert phrase in error and name in error
    assert SECRET_MARKER not in response.content.decode() and SECRET_MARKER not in caplog.text
    assert http_server.requests == []


def test_the_process_has_no_vrt_driver_and_gdal_reaches_no_url(secret, http_server):
    assert not gdal_driver_registered("OGR_VRT") and not gdal_driver_registered("VRT")
    assert gdal_driver_registered("KML") and gdal_driver_registered("ESRI Shapefile")
    for name in (
        f"/vsicurl/{http_server.url}/secret.csv",
        f"/vsicurl_streaming/{http_server.url}/secret.csv",
        f"/vsizip//vsicurl/{http_server.url}/secret.zip/secret.csv",
        f"/vsicurl/{http_server.url}/x.kml",
    ):
        # Every driver allowed (None): only the process-wide settings stand in the way.
        with pytest.raises(Exception, match="GDALOpenEx"):
            capi.open_ds(name.encode(), capi.GDAL_OF_VECTOR, None, None, None)
    assert http_server.requests == []


def test_open_vector_refuses_a_vrt_whatever_it_is_called(tmp_path, secret):
    # Past our own XML check (called directly): the driver allow-list alone refuses it.
    for name, drivers in (("aoi.kml", KML_DRIVERS), ("aoi.shp", SHAPEFILE_DRIVERS)):
        path = tmp_path / name
        path.write_bytes(vrt(str(secret)))
        with pytest.raises(InvalidInput) as info:
            open_vector(path, filename=name, drivers=drivers)
        assert "could not be read as" in info.value.detail and SECRET_MARKER not in info.value.detail


def test_open_vector_says_which_driver_opened_a_good_file(tmp_path):
    path = tmp_path / "ok.kml"
    path.write_bytes(kml(kml_polygon(SQUARE_KML_COORDS)))
    source = open_vector(path, filename="ok.kml", drivers=KML_DRIVERS)
    assert source.driver.name in KML_DRIVERS and len(source[0]) == 1


@pytest.mark.django_db
def test_kml_links_and_styles_are_never_fetched(session, http_server):
    body = (
        f"<NetworkLink><Link><href>{http_server.url}/net.kml</href></Link></NetworkLink>"
        f'<Style id="s"><IconStyle><Icon><href>{http_server.url}/icon.png</href></Icon></IconStyle></Style>'
        + kml_polygon(SQUARE_KML_COORDS).replace(
            "<Polygon>", f"<styleUrl>{http_server.url}/style.kml#s</styleUrl><Polygon>"
        )
    )
    response = _upload(session, "linked.kml", kml(body))
    assert response.status_code == 200, response.content
    assert response.json()["geometry"]["type"] == "MultiPolygon"
    assert http_server.requests == []


@pytest.mark.django_db
def test_a_zipped_shapefile_ignores_look_alike_members(session, tmp_path):
    """site_old.dbf must not be unpacked over site.dbf (only the .shp's own parts are used)."""
    import io
    import zipfile

    from .test_views_archive import _shapefile_zip

    good = zipfile.ZipFile(io.BytesIO(_shapefile_zip(tmp_path)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info in good.infolist():
            z.writestr(info.filename, good.read(info))
        z.writestr("site/site_old.dbf", b"garbage")
        z.writestr("site/site.dbf.bak", b"garbage")
    response = _upload(session, "site.zip", buf.getvalue())
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["geometry"]["type"] == "MultiPolygon"
