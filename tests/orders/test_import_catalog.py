"""manage.py import_catalog: valid items are upserted; every bad one is reported with where and why."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from orders.models import Capture


def item(scene_id: str, **over) -> dict:
    base = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": scene_id,
        "collection": "pleiades",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[151.0, -34.0], [151.2, -34.0], [151.2, -33.8], [151.0, -33.8], [151.0, -34.0]]],
        },
        "properties": {
            "datetime": "2024-05-01T00:10:00Z",
            "eo:cloud_cover": 4.5,
            "gsd": 0.5,
            "view:off_nadir": 12.0,
            "view:sun_elevation": 41.0,
            "platform": "PHR1B",
            "proj:epsg": 32756,
        },
        "assets": {"thumbnail": {"href": "https://example.com/t.png"}},
    }
    props = over.pop("properties", None)
    base.update(over)
    if props is not None:
        base["properties"] = {**base["properties"], **props}
    return base


def run(path) -> str:
    out = StringIO()
    call_command("import_catalog", str(path), stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_item_collection_imports_good_items_and_reports_each_bad_one(tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    features = [
        item("GOOD-1"),
        item("GOOD-BOWTIE", geometry=bowtie),  # self-intersecting: made valid, kept
        item("NO-CLOUD", properties={"eo:cloud_cover": None}),
        item("BAD-GEOM", geometry={"type": "Point", "coordinates": [1, 2]}),
        item("UNKNOWN-COLL", collection="landsat-9"),
        item("BAD-DATE", properties={"datetime": "last tuesday"}),
        item("CLOUD-200", properties={"eo:cloud_cover": 200}),
        "not an object",
    ]
    path = tmp_path / "items.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    out = run(path)
    assert "Imported 2 item(s): 2 created, 0 updated; 6 rejected." in out
    assert "features[2] (id NO-CLOUD): missing required properties: eo:cloud_cover" in out
    assert "features[3] (id BAD-GEOM): geometry must be a Polygon or MultiPolygon, got Point" in out
    assert "features[4] (id UNKNOWN-COLL): collection 'landsat-9' is not sold" in out
    assert "features[5] (id BAD-DATE): property 'datetime'" in out
    assert "features[6] (id CLOUD-200): property 'eo:cloud_cover' = 200 is outside 0..100" in out
    assert "features[7] (id ?): an item must be a JSON object" in out
    good = Capture.objects.get(scene_id="GOOD-1")
    assert good.footprint.geom_type == "MultiPolygon"
    assert good.cloud_cover == 4.5 and good.platform == "PHR1B" and good.sun_elevation == 41.0
    assert good.thumbnail_url == "https://example.com/t.png"
    assert good.properties == {"proj:epsg": 32756}
    bowtie_capture = Capture.objects.get(scene_id="GOOD-BOWTIE")
    assert bowtie_capture.footprint.valid and bowtie_capture.footprint.geom_type == "MultiPolygon"
    assert len(bowtie_capture.footprint) == 2


@pytest.mark.django_db
def test_ndjson_import_upserts_and_reports_bad_lines(tmp_path):
    path = tmp_path / "items.ndjson"
    path.write_text(
        json.dumps(item("N-1")) + "\n" + "{not json\n\n" + json.dumps(item("N-2", collection="PNEO")) + "\n"
    )
    out = run(path)
    assert "1 created" in out
    assert "line 2 (id ?): not valid JSON" in out
    assert "line 4 (id N-2): collection 'PNEO'" in out
    # Re-import with a change and a mapping for the foreign collection name: upsert, not duplicate.
    path.write_text(
        json.dumps(item("N-1", properties={"eo:cloud_cover": 9.0}))
        + "\n"
        + json.dumps(item("N-2", collection="PNEO"))
        + "\n"
    )
    out2 = StringIO()
    call_command("import_catalog", str(path), "--map", "PNEO=pleiades-neo", stdout=out2)
    assert "1 created, 1 updated; 0 rejected" in out2.getvalue()
    assert Capture.objects.get(scene_id="N-1").cloud_cover == 9.0
    assert Capture.objects.get(scene_id="N-2").collection == "pleiades-neo"
    assert Capture.objects.count() == 2


@pytest.mark.django_db
def test_unreadable_file_is_a_command_error_not_a_crash(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no such file"):
        call_command("import_catalog", str(tmp_path / "missing.json"))
    garbage = tmp_path / "garbage.json"
    garbage.write_text("[[[")
    out = run(garbage)
    assert "0 item(s)" in out and "line 1 (id ?): not valid JSON" in out
