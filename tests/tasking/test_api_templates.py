from __future__ import annotations

import uuid

import pytest

from tasking.models import TaskingTemplate
from tests.tasking.conftest import template_data


def _loc_fields(response):
    return {e["loc"][-1]: e for e in response.json()["detail"]}


def test_save_creates_with_reference_defaults(api_operator, org, operator_user):
    body = {k: v for k, v in template_data().items() if k not in ("max_cloud_coverage", "max_nadir_angle")}
    response = api_operator.post("orders.tasking.templates.save", body)
    assert response.status_code == 200, response.content
    out = response.json()
    assert out["created"] is True and out["name"] == "Weekly crop check"
    assert out["capture_asap"] is True and out["has_control"] is False
    assert out["max_cloud_coverage"] == 0 and out["max_nadir_angle"] == 0
    assert out["data_product_id"] == "pleiades-neo-tasking"
    template = TaskingTemplate.objects.get(id=out["id"])
    assert template.org == org and template.created_by == operator_user


def test_save_with_id_updates(api_admin):
    created = api_admin.post("orders.tasking.templates.save", template_data()).json()
    response = api_admin.post(
        "orders.tasking.templates.save", template_data(id=created["id"], name="Renamed", max_cloud_coverage=5)
    )
    assert response.status_code == 200
    assert response.json()["created"] is False
    assert TaskingTemplate.objects.get(id=created["id"]).max_cloud_coverage == 5
    assert TaskingTemplate.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("resolution", "10cm", "not offered by Pléiades Neo"),
        ("file_format", "NITF", "GeoTIFF, JPEG2000"),
        ("datum", "NAD83", "datum"),
        ("capture_frequency", "HOURLY", "capture_frequency"),
        ("max_cloud_coverage", 31, "between 0 and 30"),
        ("max_nadir_angle", 53, "between 0 and 52"),
    ],
)
def test_fields_the_sensor_does_not_offer_are_422_naming_the_field(api_admin, field, value, words):
    response = api_admin.post("orders.tasking.templates.save", template_data(**{field: value}))
    assert response.status_code == 422
    errors = _loc_fields(response)
    assert list(errors) == [field]
    assert errors[field]["loc"] == ["body", field]
    assert words in errors[field]["msg"]
    assert TaskingTemplate.objects.count() == 0


def test_unknown_sensor_is_404_naming_sensor(api_admin):
    # An object named by id that does not exist is a 404 (as the document declares), not a 422.
    response = api_admin.post("orders.tasking.templates.save", template_data(sensor="landsat-42"))
    assert response.status_code == 404, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert "landsat-42" in response.json()["detail"]
    assert response.json()["errors"][0]["loc"] == ["body", "sensor"]
    assert TaskingTemplate.objects.count() == 0


def test_sar_angle_is_the_incidence_range(api_admin):
    body = template_data(sensor="terrasar-x", resolution="1m", datum="WGS84", max_cloud_coverage=100)
    assert api_admin.post("orders.tasking.templates.save", {**body, "max_nadir_angle": 10}).status_code == 422
    assert api_admin.post("orders.tasking.templates.save", {**body, "max_nadir_angle": 30}).status_code == 200


def test_missing_required_fields_are_422(api_admin):
    response = api_admin.post("orders.tasking.templates.save", {"name": "x"})
    assert response.status_code == 422
    assert {"resolution", "sensor", "capture_frequency", "datum", "file_format"} <= set(_loc_fields(response))


def test_duplicate_active_name_is_409_case_insensitive(api_admin):
    assert api_admin.post("orders.tasking.templates.save", template_data()).status_code == 200
    response = api_admin.post("orders.tasking.templates.save", template_data(name="WEEKLY CROP CHECK"))
    assert response.status_code == 409
    body = response.json()
    assert "already exists" in body["detail"]
    assert body["errors"][0]["loc"] == ["body", "name"]


def test_deleted_templates_name_can_be_reused(api_admin):
    first = api_admin.post("orders.tasking.templates.save", template_data()).json()
    api_admin.post("orders.tasking.templates.delete", {"template_id": first["id"]})
    response = api_admin.post("orders.tasking.templates.save", template_data())
    assert response.status_code == 200
    assert response.json()["id"] != first["id"]


def test_same_name_in_another_org_is_fine(api_admin, api_other):
    assert api_admin.post("orders.tasking.templates.save", template_data()).status_code == 200
    assert api_other.post("orders.tasking.templates.save", template_data()).status_code == 200


def test_list_shows_active_templates_of_the_callers_org_only(
    api_viewer, make_template, other_org, other_admin
):
    kept = make_template(name="Kept")
    gone = make_template(name="Gone")
    make_template(org_=other_org, actor=other_admin, name="Theirs")
    from tasking.services import template_delete

    template_delete(org=gone.org, actor=None, template_id=gone.id)
    response = api_viewer.post("orders.tasking.templates.list", {})
    assert response.status_code == 200
    assert [t["id"] for t in response.json()["templates"]] == [str(kept.id)]


def test_delete_is_soft(api_admin, make_template, org):
    template = make_template()
    response = api_admin.post("orders.tasking.templates.delete", {"template_id": str(template.id)})
    assert response.status_code == 200
    assert response.json() == {"template_id": str(template.id), "deleted": True}
    template.refresh_from_db()
    assert template.deleted_at is not None
    assert api_admin.post("orders.tasking.templates.list", {}).json()["templates"] == []
    # A second delete: it is no longer an active template.
    assert (
        api_admin.post("orders.tasking.templates.delete", {"template_id": str(template.id)}).status_code
        == 404
    )


def test_viewer_cannot_save_or_delete(api_viewer, make_template):
    template = make_template()
    assert api_viewer.post("orders.tasking.templates.save", template_data(name="New")).status_code == 403
    assert (
        api_viewer.post("orders.tasking.templates.delete", {"template_id": str(template.id)}).status_code
        == 403
    )
    template.refresh_from_db()
    assert template.deleted_at is None


def test_another_orgs_template_is_404(api_other, make_template):
    template = make_template()
    assert (
        api_other.post("orders.tasking.templates.delete", {"template_id": str(template.id)}).status_code
        == 404
    )
    response = api_other.post(
        "orders.tasking.templates.save", template_data(id=str(template.id), name="Hijack")
    )
    assert response.status_code == 404
    template.refresh_from_db()
    assert template.deleted_at is None and template.name == "Weekly crop check"


def test_delete_of_unknown_or_malformed_id_is_404(api_admin):
    assert (
        api_admin.post("orders.tasking.templates.delete", {"template_id": str(uuid.uuid4())}).status_code
        == 404
    )
    assert api_admin.post("orders.tasking.templates.delete", {"template_id": "nope"}).status_code == 404


def test_api_key_with_write_scope_may_save(api_key_caller):
    response = api_key_caller.post("orders.tasking.templates.save", template_data())
    assert response.status_code == 200
    assert response.json()["created_by"] is None
