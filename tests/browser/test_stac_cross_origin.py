"""A page on another origin (its own server on another port) searches the public STAC API with a
JSON POST (so the browser sends a CORS preflight first) and shows the results."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from orders.catalog.services import archive_products_ensure
from tests.factories import make_capture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>elsewhere</title><link rel="icon" href="data:,">
<script src="app.js" defer></script></head><body><p id="out">waiting</p></body></html>"""
SCRIPT = """
const stac = new URLSearchParams(location.search).get("stac");
fetch(stac + "/search", {
  method: "POST",
  headers: {"Content-Type": "application/json"},
  body: JSON.stringify({collections: ["pleiades"], filter: "eo:cloud_cover < 10", limit: 5}),
}).then((r) => r.json()).then((body) => {
  document.getElementById("out").textContent =
    body.numberMatched + " matched: " + body.features.map((f) => f.id).join(",");
}).catch((err) => { document.getElementById("out").textContent = "failed: " + err; });
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def other_origin(tmp_path):
    (tmp_path / "index.html").write_text(PAGE)
    (tmp_path / "app.js").write_text(SCRIPT)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_a_page_on_another_origin_searches_the_stac_api(live_server, page, other_origin):
    archive_products_ensure()
    for i, cloud in ((1, 3), (2, 5), (3, 50)):
        make_capture(f"XO-{i}", acquired_at=datetime(2024, 1, i, tzinfo=UTC), cloud=cloud)
    stac = live_server.url + "/stac"
    assert stac.split("/")[2] != other_origin.split("/")[2]
    page.goto(f"{other_origin}/index.html?stac={stac}")
    page.wait_for_function("document.getElementById('out').textContent !== 'waiting'", timeout=10_000)
    assert page.locator("#out").inner_text() == "2 matched: XO-2,XO-1"
