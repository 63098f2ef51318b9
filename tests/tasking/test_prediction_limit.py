"""Pass prediction is bounded per request: areas x window days above
TASKING_PREDICTION_MAX_FEATURE_DAYS is a 422 (API) / form error (request page) that says the limit,
before any prediction runs."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import iso
from tests.tasking.flow_helpers import AUTO_PRODUCT, fc, params, square

from .test_views_request import HX, form

pytestmark = pytest.mark.django_db
OPS = ("orders.tasking.feasibility_check", "orders.tasking.opportunities_list")


def many_squares(n: int) -> list[dict]:
    return [square(lon=140.0 + (i % 10) * 0.5, lat=-30.0 - (i // 10) * 0.5, km=5) for i in range(n)]


def long_window() -> dict:
    now = timezone.now().replace(microsecond=0)
    return params(
        acquisitionStart=iso(now + timedelta(hours=1)), acquisitionEnd=iso(now + timedelta(days=62))
    )


@pytest.fixture
def predictor_calls(monkeypatch) -> list[dict]:
    calls: list[dict] = []
    monkeypatch.setattr("tasking.orbits.predict_passes", lambda **kw: calls.append(kw) or [])
    return calls


@pytest.mark.parametrize("op", OPS)
def test_50_areas_over_62_days_is_a_422_that_says_the_limit(api_operator, op, settings, predictor_calls):
    body = {"dataProduct": AUTO_PRODUCT, "featureCollection": fc(*many_squares(50)), "params": long_window()}
    r = api_operator.post(op, body)
    assert r.status_code == 422, r.content[:400]
    assert r["Content-Type"] == "application/problem+json"
    problem = r.json()
    assert problem["limit"] == settings.TASKING_PREDICTION_MAX_FEATURE_DAYS
    assert "TASKING_PREDICTION_MAX_FEATURE_DAYS" in problem["detail"] and "50 areas" in problem["detail"]
    assert predictor_calls == []  # refused before any prediction


@pytest.mark.parametrize("op", OPS)
def test_under_the_limit_prediction_runs(api_operator, op, settings, predictor_calls):
    settings.TASKING_PREDICTION_MAX_FEATURE_DAYS = 130  # 2 areas x ~62 days fit
    body = {"dataProduct": AUTO_PRODUCT, "featureCollection": fc(*many_squares(2)), "params": long_window()}
    assert api_operator.post(op, body).status_code == 200
    assert len(predictor_calls) == 2
    settings.TASKING_PREDICTION_MAX_FEATURE_DAYS = 100  # the same request is now refused
    assert api_operator.post(op, body).status_code == 422


def test_the_request_page_check_says_the_limit_and_predicts_nothing(operator_user, predictor_calls):
    c = Client()
    c.force_login(operator_user)
    data = form(*many_squares(50))
    data["data_product_id"] = AUTO_PRODUCT
    data.pop("resolution")  # the manual product's field
    window = long_window()
    data["acquisitionStart"], data["acquisitionEnd"] = (
        window["acquisitionStart"][:16],
        window["acquisitionEnd"][:16],
    )
    r = c.post("/tasking/new/aoi-check/", data, headers=HX)
    html = r.content.decode()
    assert r.status_code == 200
    assert 'class="form-error"' in html and "TASKING_PREDICTION_MAX_FEATURE_DAYS" in html
    assert 'data-testid="aoi-row-0"' in html  # the areas are still checked and priced
    assert predictor_calls == []


def test_an_antimeridian_box_is_answered_not_predicted_as_a_340_degree_polygon(api_operator, predictor_calls):
    box = {
        "type": "Polygon",
        "coordinates": [[[179.8, -17.0], [-179.8, -17.0], [-179.8, -16.8], [179.8, -16.8], [179.8, -17.0]]],
    }
    body = {"dataProduct": AUTO_PRODUCT, "featureCollection": fc(box), "params": params()}
    r = api_operator.post("orders.tasking.opportunities_list", body)
    assert r.status_code in (200, 422), r.content[:300]
    for call in predictor_calls:  # whatever reached the predictor is the small box, not the world
        aoi = call["aoi"]
        extent = aoi.extent if hasattr(aoi, "extent") else None
        if extent:
            assert extent[2] - extent[0] < 1.0 or extent[2] - extent[0] > 359.0
    assert json.dumps(r.json())
