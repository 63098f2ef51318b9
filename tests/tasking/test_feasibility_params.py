"""Feasibility checks, pass predictions and the request page's live check validate params with the
same product schema as placement (none required yet): a bad field is a 422 / form error naming it."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.tasking.flow_helpers import MANUAL_PRODUCT, fc, params, square

from .test_views_request import HX, form

pytestmark = pytest.mark.django_db
OPS = ("orders.tasking.feasibility_check", "orders.tasking.opportunities_list")


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize(
    "bad, field",
    [
        ({"incidenceAngle": "abc"}, "incidenceAngle"),
        ({"cloudCoverage": 500}, "cloudCoverage"),
        ({"acquisitionStart": "yesterday"}, "acquisitionStart"),
        ({"incidenceAngle": [1, 2]}, "incidenceAngle"),
    ],
)
def test_bad_params_are_a_422_that_names_the_field(api_operator, op, bad, field):
    body = {"dataProduct": MANUAL_PRODUCT, "featureCollection": fc(square()), "params": params(**bad)}
    r = api_operator.post(op, body)
    assert r.status_code == 422, r.content
    errors = r.json()["detail"]  # HTTPValidationError: one entry per field, each message naming it
    assert any(e["loc"] == ["body", "params", field] and field in e["msg"] for e in errors)


@pytest.mark.parametrize("op", OPS)
def test_params_being_filled_in_need_no_required_field(api_operator, op):
    body = {
        "dataProduct": MANUAL_PRODUCT,
        "featureCollection": fc(square()),
        "params": {"incidenceAngle": 20},
    }
    assert api_operator.post(op, body).status_code == 200


def test_the_request_page_check_says_which_param_is_wrong_and_predicts_nothing(operator_user):
    c = Client()
    c.force_login(operator_user)
    r = c.post("/tasking/new/aoi-check/", form(square(), incidenceAngle="abc"), headers=HX)
    html = r.content.decode()
    assert r.status_code == 200
    assert 'class="form-error"' in html and "incidenceAngle" in html
    assert 'data-testid="aoi-row-0"' in html  # the area itself is still checked and priced
    assert "Feasibility study" not in html
