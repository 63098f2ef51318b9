"""A corpus of hostile AOI upload files, generated per test (nothing binary is committed).

Each case is (upload name, bytes, a phrase the refusal must contain). Files that point elsewhere
point at `secret` (a CSV on disk whose marker must never come back) or at `url` (a local HTTP
server that must receive no request)."""

from __future__ import annotations

import http.server
import io
import struct
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SECRET_MARKER = "TOPSECRET-7f3a9c"
SQUARE_WKT = "POLYGON((151 -34,151.2 -34,151.2 -33.8,151 -33.8,151 -34))"


@dataclass
class RecordingServer:
    """A local HTTP server that records every request it gets (and answers each with a CSV)."""

    url: str
    requests: list[str] = field(default_factory=list)


@contextmanager
def recording_server() -> Iterator[RecordingServer]:
    record = RecordingServer(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            record.requests.append(f"{self.command} {self.path}")
            body = f'wkt,name\n"{SQUARE_WKT}",{SECRET_MARKER}\n'.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    record.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield record
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def write_secret(directory: Path) -> Path:
    """A file the server can read that an upload must never be able to read back."""
    secret = directory / "secret.csv"
    secret.write_text(f'wkt,name\n"{SQUARE_WKT}",{SECRET_MARKER}\n')
    with zipfile.ZipFile(directory / "secret.zip", "w") as z:
        z.write(secret, "secret.csv")
    return secret


def vrt(src: str, *, disguise: str = "") -> bytes:
    """An OGR VRT whose one layer reads `src` (a path or a /vsi… name)."""
    return f"""<OGRVRTDataSource>{disguise}
  <OGRVRTLayer name="secret">
    <SrcDataSource>{src}</SrcDataSource>
    <GeometryType>wkbPolygon</GeometryType>
    <LayerSRS>EPSG:4326</LayerSRS>
    <GeometryField encoding="WKT" field="wkt"/>
  </OGRVRTLayer>
</OGRVRTDataSource>
""".encode()


def zipped(members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def shapefile_parts(shp: bytes, stem: str = "site") -> dict[str, bytes]:
    """The four parts a zipped shapefile must have, with `shp` as the .shp."""
    return {
        f"{stem}.shp": shp,
        f"{stem}.shx": b"\x00" * 100,
        f"{stem}.dbf": b"\x03" + b"\x00" * 31,
        f"{stem}.prj": b'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
        b'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]',
    }


def with_symlink(members: dict[str, bytes], link_name: str, target: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            if name == link_name:
                continue
            z.writestr(name, data)
        info = zipfile.ZipInfo(link_name)
        info.create_system = 3  # Unix: the mode bits below are meant
        info.external_attr = (0o120777 << 16) | 0x20
        z.writestr(info, target)
    return buf.getvalue()


def lying_sizes(data: bytes, *, claimed: int) -> bytes:
    """Patch every member's uncompressed size (local and central headers) down to `claimed`."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (at := out.find(signature, start)) != -1:
            struct.pack_into("<I", out, at + offset, claimed)
            start = at + 4
    return bytes(out)


def encrypted_flag(data: bytes) -> bytes:
    """Set the 'encrypted' flag bit on every member (what a password-protected zip carries)."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := out.find(signature, start)) != -1:
            out[at + offset] |= 0x01
            start = at + 4
    return bytes(out)


def kml(body: str, *, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>') -> bytes:
    return f'{prolog}\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>{body}</Document></kml>'.encode()


def kml_polygon(coordinates: str) -> str:
    return (
        "<Placemark><name>x</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        f"{coordinates}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
    )


SQUARE_KML_COORDS = "151.0,-34.0,0 151.2,-34.0,0 151.2,-33.8,0 151.0,-33.8,0 151.0,-34.0,0"

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE kml [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10)
    )
    + "]>"
)


def corpus(*, secret: Path, url: str) -> list[tuple[str, str, bytes, str]]:
    """(case id, upload name, bytes, phrase the refusal must contain)."""
    secret_zip = secret.parent / "secret.zip"
    bomb = zipped(shapefile_parts(b"\x00" * (8 * 1024 * 1024)))
    lying = lying_sizes(zipped(shapefile_parts(b"\x00" * (256 * 1024))), claimed=1000)
    return [
        # An OGR VRT under an allowed name: the sniffer would open it and read the secret.
        ("vrt-as-kml", "aoi.kml", vrt(str(secret), disguise="<!-- <kml> -->"), "not a KML document"),
        ("vrt-as-kml-vsicurl", "aoi.kml", vrt(f"/vsicurl/{url}/secret.csv"), "not a KML document"),
        (
            "vrt-as-kml-vsizip",
            "aoi.kml",
            vrt(f"/vsizip/{secret_zip}/secret.csv"),
            "not a KML document",
        ),
        ("vrt-as-shp-in-zip", "site.zip", zipped(shapefile_parts(vrt(str(secret)))), "as a shapefile"),
        (
            "vrt-vsicurl-in-zip",
            "site.zip",
            zipped(shapefile_parts(vrt(f"/vsicurl_streaming/{url}/secret.csv"))),
            "as a shapefile",
        ),
        (
            "vrt-vsizip-vsicurl-in-zip",
            "site.zip",
            zipped(shapefile_parts(vrt(f"/vsizip//vsicurl/{url}/secret.zip/secret.csv"))),
            "as a shapefile",
        ),
        (
            "symlink-in-zip",
            "site.zip",
            with_symlink(shapefile_parts(b""), "site.shp", str(secret)),
            "symbolic link",
        ),
        ("parent-path-in-zip", "site.zip", zipped(shapefile_parts(b"x", stem="../../site")), "../"),
        ("absolute-path-in-zip", "site.zip", zipped(shapefile_parts(b"x", stem="/tmp/site")), "absolute"),
        (
            "nested-zip-by-name",
            "site.zip",
            zipped({**shapefile_parts(b"x"), "inner.zip": zipped(shapefile_parts(b"x"))}),
            "another archive",
        ),
        (
            "nested-zip-by-content",
            "site.zip",
            zipped(shapefile_parts(zipped({"secret.csv": b"x"}))),
            "itself an archive",
        ),
        ("zip-bomb", "site.zip", bomb, "zip bomb"),
        ("zip-lying-sizes", "site.zip", lying, "could not be unpacked"),
        (
            "zip-too-many-members",
            "site.zip",
            zipped({**shapefile_parts(b"x"), **{f"junk/{i}.txt": b"" for i in range(40)}}),
            "at most 32",
        ),
        ("zip-encrypted", "site.zip", encrypted_flag(zipped(shapefile_parts(b"x"))), "password-protected"),
        (
            "zip-unsupported-compression",
            "site.zip",
            _deflate64_claim(zipped(shapefile_parts(b"x" * 200))),
            "could not be unpacked",
        ),
        ("zip-empty", "site.zip", zipped({}), "no .shp file"),
        ("zip-garbage", "site.zip", b"PK\x03\x04" + b"\xff" * 500, "not a valid zip"),
        ("shp-garbage-in-zip", "site.zip", zipped(shapefile_parts(b"\xde\xad" * 50)), "as a shapefile"),
        (
            "billion-laughs-kml",
            "aoi.kml",
            kml("<Placemark><name>&lol9;</name></Placemark>", prolog=BILLION_LAUGHS),
            "DTD or XML entities",
        ),
        (
            "external-entity-kml",
            "aoi.kml",
            kml(
                "<Placemark><name>&xxe;</name></Placemark>",
                prolog=f'<?xml version="1.0"?>\n<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file://{secret}">]>',
            ),
            "DTD or XML entities",
        ),
        (
            "external-dtd-kml",
            "aoi.kml",
            kml("", prolog=f'<?xml version="1.0"?>\n<!DOCTYPE kml SYSTEM "{url}/kml.dtd">'),
            "DTD or XML entities",
        ),
        (
            "huge-coordinates-kml",
            "aoi.kml",
            kml(kml_polygon("1e308,1e308 1e308,-1e308 -1e308,0 1e308,1e308")),
            "outside longitude",
        ),
        (
            "infinite-coordinates-kml",
            "aoi.kml",
            kml(kml_polygon("1e999,0 1,0 1,1 1e999,0")),
            "finite numbers",
        ),
        ("no-polygons-kml", "aoi.kml", kml("<Placemark><name>x</name></Placemark>"), "no polygon features"),
        ("empty-kml", "aoi.kml", b"", "is empty"),
        ("garbage-kml", "aoi.kml", b"\x00\xff" * 300, "not well-formed XML"),
        ("truncated-kml", "aoi.kml", kml(kml_polygon(SQUARE_KML_COORDS))[:-40], "not well-formed XML"),
        ("utf16-dtd-kml", "aoi.kml", (BILLION_LAUGHS + "<kml/>").encode("utf-16"), "DTD or XML entities"),
        ("deeply-nested-geojson", "aoi.geojson", b"[" * 200_000, "too deeply"),
        ("garbage-geojson", "aoi.geojson", b"\xff\xfe\x00garbage", "not valid JSON"),
        (
            "nan-geojson",
            "aoi.geojson",
            b'{"type": "Polygon", "coordinates": [[[NaN, 0], [1, 0], [1, 1], [NaN, 0]]]}',
            "",
        ),
    ]


def _deflate64_claim(data: bytes) -> bytes:
    """Claim compression method 9 (Deflate64), which Python's zipfile cannot unpack."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (at := out.find(signature, start)) != -1:
            struct.pack_into("<H", out, at + offset, 9)
            start = at + 4
    return bytes(out)
