"""The upload, tasking-AOI and billing page limits are settings read when a request is handled:
moving the setting moves the limit (they were module constants)."""

from __future__ import annotations

import json

import pytest

from geopera_web.errors import InvalidInput
from orders.aoi_files import aoi_from_upload
from orders.fulfilment.uploads import parse_delivery_upload
from tasking.aoi import check_feature
from tests.geometry import square

pytestmark = pytest.mark.django_db


def _collection(n: int) -> bytes:
    features = [
        {"type": "Feature", "properties": {}, "geometry": square(150 + i * 0.5, -33, 5)} for i in range(n)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def test_aoi_upload_features_and_bytes_follow_their_settings(settings):
    data = _collection(3)
    assert aoi_from_upload(filename="three.geojson", data=data).num_geom == 3
    settings.AOI_UPLOAD_MAX_FEATURES = 2
    with pytest.raises(InvalidInput, match="the limit is 2"):
        aoi_from_upload(filename="three.geojson", data=data)
    settings.AOI_UPLOAD_MAX_FEATURES = 1000
    settings.AOI_UPLOAD_MAX_BYTES = len(data) - 1
    with pytest.raises(InvalidInput, match="three.geojson is"):
        aoi_from_upload(filename="three.geojson", data=data)


def test_tasking_aoi_vertices_follow_the_setting(settings):
    feature = {"type": "Feature", "properties": {}, "geometry": square(150, -33, 10)}
    assert check_feature(feature, 0, None).ok
    settings.TASKING_AOI_MAX_VERTICES = 3
    refused = check_feature(feature, 0, None)
    assert not refused.ok and refused.geometry is None
    assert any("3" in e["msg"] for e in refused.errors), refused.errors


def test_delivery_upload_bytes_follow_the_setting(settings):
    raw = json.dumps({"type": "Feature", "geometry": square(150, -33, 10), "properties": {}}).encode()
    settings.DELIVERY_UPLOAD_MAX_BYTES = 10
    with pytest.raises(InvalidInput, match="the limit is"):
        parse_delivery_upload(raw)


def test_billing_page_size_follows_the_setting(settings, api_admin):
    assert api_admin.post("billing.credits.transactions", {"limit": 150}).status_code == 200
    settings.BILLING_PAGE_MAX_LIMIT = 100
    refused = api_admin.post("billing.credits.transactions", {"limit": 150})
    assert refused.status_code == 422, refused.content
    assert "100" in json.dumps(refused.json())
    assert api_admin.post("billing.invoices.list", {"limit": 101}).status_code == 422
