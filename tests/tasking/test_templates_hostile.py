"""The template library (page, form, search, API save/delete) answers hostile values with a 4xx /
form error, never a 500, and stores nothing."""

from __future__ import annotations

import uuid

import pytest

from tasking.models import TaskingTemplate
from tests.tasking.conftest import template_data

from .test_views_templates import _form

HOSTILE = {
    "nan": "NaN",
    "inf": "Infinity",
    "huge": "9" * 40,
    "long": "x" * 20_000,
    "nul": "a\x00b",
    "negative": "-99999999999",
}
API_HOSTILE = {
    "huge-int": 10**40,
    "nan-str": "NaN",
    "long": "x" * 20_000,
    "list": [1, 2],
    "object": {"a": 1},
    "nul": "a\x00b",
    "bool": True,
}
FORM_FIELDS = [
    "name",
    "description",
    "sensor",
    "resolution",
    "capture_frequency",
    "max_cloud_coverage",
    "max_nadir_angle",
]
API_FIELDS = [*FORM_FIELDS, "datum", "file_format", "capture_asap", "has_control", "id"]


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
@pytest.mark.parametrize("field", FORM_FIELDS)
def test_hostile_form_values_are_form_errors(admin_client, org, field, value):
    response = admin_client.post("/templates/new/", _form(**{field: value}))
    assert response.status_code in (200, 302, 400, 422), (field, response.status_code)
    if response.status_code != 302:
        assert not TaskingTemplate.objects.filter(org=org).exists()


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_library_search_is_not_a_server_error(admin_client, value):
    expected = 400 if "\x00" in value else 200  # NUL: refused up front, saying so
    for params in ({"q": value}, {"sensor": value}, {"q": value, "sensor": value}):
        response = admin_client.get("/templates/", params)
        assert response.status_code == expected
        if expected == 400:
            assert "NUL character" in response.content.decode()
    assert admin_client.get("/templates/sensor-fields/", {"sensor": value}).status_code < 500
    response = admin_client.post("/templates/", {"q": value})  # the actions' POST re-render
    assert response.status_code < 500


@pytest.mark.parametrize("value", list(API_HOSTILE.values()), ids=list(API_HOSTILE))
@pytest.mark.parametrize("field", API_FIELDS)
def test_hostile_api_template_values_are_4xx(api_admin, org, field, value):
    response = api_admin.post("orders.tasking.templates.save", template_data(**{field: value}))
    if response.status_code == 200:  # e.g. a long description is accepted as text
        return
    assert 400 <= response.status_code < 500, (field, value, response.status_code, response.content[:200])
    assert response["Content-Type"] in ("application/problem+json", "application/json")
    assert not TaskingTemplate.objects.filter(org=org).exists()


@pytest.mark.parametrize("value", [*API_HOSTILE.values(), str(uuid.uuid4())], ids=[*API_HOSTILE, "unknown"])
def test_hostile_template_ids_are_4xx(api_admin, value):
    response = api_admin.post("orders.tasking.templates.delete", {"template_id": value})
    assert 400 <= response.status_code < 500, (value, response.status_code)


def test_another_orgs_template_cannot_be_updated_or_deleted(api_admin, make_template, other_org, other_admin):
    theirs = make_template(org_=other_org, actor=other_admin)
    response = api_admin.post("orders.tasking.templates.save", template_data(id=str(theirs.id)))
    assert response.status_code == 404
    assert (
        api_admin.post("orders.tasking.templates.delete", {"template_id": str(theirs.id)}).status_code == 404
    )
    theirs.refresh_from_db()
    assert theirs.deleted_at is None and theirs.name != "Weekly crop check" or theirs.deleted_at is None
