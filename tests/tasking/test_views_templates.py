from __future__ import annotations

import pytest
from django.test import Client

from tasking.models import TaskingTemplate


@pytest.fixture
def admin_client(admin_user):
    c = Client()
    c.force_login(admin_user)
    return c


@pytest.fixture
def viewer_client(viewer_user):
    c = Client()
    c.force_login(viewer_user)
    return c


@pytest.fixture
def other_client(other_admin):
    c = Client()
    c.force_login(other_admin)
    return c


HTMX = {"HX-Request": "true", "HX-Target": "template-results"}


def test_library_shows_cards_with_key_settings(admin_client, make_template):
    make_template(name="Weekly crop check — Pléiades Neo 30cm")
    html = admin_client.get("/templates/").content.decode()
    assert "Weekly crop check — Pléiades Neo 30cm" in html
    assert "≤ 10%" in html and "≤ 25°" in html and "GDA2020" in html and "Weekly" in html
    assert "Not used yet" in html
    assert "Use template" in html


def test_search_and_sensor_filter(admin_client, make_template):
    make_template(name="Crop check")
    make_template(name="Port watch", sensor="skysat", resolution="50cm", datum="WGS84", max_nadir_angle=20)
    html = admin_client.get("/templates/", {"q": "port"}).content.decode()
    assert "Port watch" in html and "Crop check" not in html
    html = admin_client.get("/templates/", {"sensor": "pleiades-neo"}).content.decode()
    assert "Crop check" in html and "Port watch" not in html
    # htmx gets only the results region.
    partial = admin_client.get("/templates/", {"q": "crop"}, headers=HTMX).content.decode()
    assert partial.lstrip().startswith('<div id="template-results"')
    assert "Crop check" in partial and "<html" not in partial


def test_usage_is_shown(admin_client, make_template, org):
    from tasking.services import template_mark_used

    template = make_template()
    template_mark_used(org=org, template_id=template.id)
    assert "Used 1 time" in admin_client.get("/templates/").content.decode()


def test_viewer_reads_but_cannot_manage(viewer_client, make_template):
    template = make_template()
    html = viewer_client.get("/templates/").content.decode()
    assert template.name in html and "template-delete" not in html and "New template" not in html
    assert viewer_client.get("/templates/new/").status_code == 403
    assert viewer_client.post(f"/templates/{template.id}/delete/").status_code == 403
    template.refresh_from_db()
    assert template.deleted_at is None


def test_another_orgs_template_pages_are_404(other_client, make_template):
    template = make_template()
    assert other_client.get(f"/templates/{template.id}/edit/").status_code == 404
    assert other_client.post(f"/templates/{template.id}/delete/").status_code == 404
    assert other_client.get("/tasking/new/", {"template": str(template.id)}).status_code == 404
    assert template.name not in other_client.get("/templates/").content.decode()


def _form(**overrides):
    return {
        "name": "Mine survey",
        "description": "",
        "sensor": "worldview-legion",
        "resolution": "30cm",
        "capture_frequency": "MONTHLY",
        "datum": "GDA2020",
        "file_format": "NITF",
        "max_cloud_coverage": "15",
        "max_nadir_angle": "20",
        "capture_asap": "on",
        **overrides,
    }


def test_create_through_the_form(admin_client, org):
    response = admin_client.post("/templates/new/", _form())
    assert response.status_code == 302
    template = TaskingTemplate.objects.get(org=org)
    assert template.sensor_id == "worldview-legion" and template.capture_asap and not template.has_control


def test_form_shows_service_errors_per_field(admin_client, make_template):
    make_template(name="Mine survey")
    response = admin_client.post("/templates/new/", _form(max_cloud_coverage="90", file_format="JPEG2000"))
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="error-max_cloud_coverage"' in html and "between 0 and 40" in html
    assert 'data-testid="error-file_format"' in html
    response = admin_client.post("/templates/new/", _form())
    assert response.status_code == 422
    assert 'data-testid="error-name"' in response.content.decode()


def test_edit_through_the_form(admin_client, make_template):
    template = make_template()
    assert 'value="Weekly crop check"' in admin_client.get(f"/templates/{template.id}/edit/").content.decode()
    response = admin_client.post(
        f"/templates/{template.id}/edit/", _form(name="Renamed", sensor="pleiades-neo", file_format="GeoTIFF")
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.name == "Renamed" and template.sensor_id == "pleiades-neo"


def test_sensor_fields_partial_offers_the_sensors_options(admin_client):
    html = admin_client.get(
        "/templates/sensor-fields/", {"sensor": "terrasar-x", "resolution": "30cm", "max_nadir_angle": "5"}
    ).content.decode()
    assert 'value="3m"' in html and 'value="COSAR"' in html
    assert 'value="20"' in html  # clamped into the radar's incidence range
    assert "Max incidence angle" in html


def test_htmx_delete_returns_an_undo_toast_and_undo_restores(admin_client, make_template):
    template = make_template()
    response = admin_client.post(f"/templates/{template.id}/delete/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Undo" in html and f"/templates/{template.id}/restore/" in html
    template.refresh_from_db()
    assert template.deleted_at is not None
    response = admin_client.post(
        f"/templates/{template.id}/restore/", {"q": ""}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert template.name in response.content.decode()
    template.refresh_from_db()
    assert template.deleted_at is None


def test_duplicate_from_the_library(admin_client, make_template, org):
    template = make_template()
    response = admin_client.post(f"/templates/{template.id}/duplicate/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Weekly crop check (copy)" in response.content.decode()
    assert TaskingTemplate.objects.filter(org=org).count() == 2


def test_save_as_template_from_an_order(admin_client, org):
    from geopera_web.accounts.selectors import workspace_default
    from orders.models import Order

    order = Order.objects.create(
        org=org,
        workspace=workspace_default(org=org),
        order_type="tasking",
        status="pending",
        billing_mode="credit",
        display_name="Harbour baseline",
        data_product_id="skysat-tasking",
        params={"resolution": "1m", "cloudCoverage": 12, "incidenceAngle": 18, "captureFrequency": "DAILY"},
    )
    html = admin_client.get("/templates/new/", {"from_order": str(order.id)}).content.decode()
    assert 'value="Harbour baseline"' in html
    assert '<option value="skysat" selected>' in html
    assert '<option value="1m" selected>' in html and 'value="12"' in html


def test_save_as_template_from_another_orgs_order_is_404(other_client, org):
    from geopera_web.accounts.selectors import workspace_default
    from orders.models import Order

    order = Order.objects.create(
        org=org,
        workspace=workspace_default(org=org),
        order_type="tasking",
        status="pending",
        billing_mode="credit",
        data_product_id="skysat-tasking",
    )
    assert other_client.get("/templates/new/", {"from_order": str(order.id)}).status_code == 404
