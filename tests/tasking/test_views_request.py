"""The request page's AOI checks, drafts and placing; the tasking list."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from orders.models import Order
from tests.tasking.flow_helpers import MANUAL_PRODUCT, bowtie, fc, params, square

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def form(*geoms, **extra):
    p = params()
    data = {
        "data_product_id": MANUAL_PRODUCT,
        "featureCollection": json.dumps(fc(*geoms)) if geoms else "",
        "displayName": p["displayName"],
        "acquisitionStart": p["acquisitionStart"][:16],
        "acquisitionEnd": p["acquisitionEnd"][:16],
        "resolution": "30cm",
        "cloudCoverage": "20",
        "incidenceAngle": "25",
        "idempotency_key": "form-1",
    }
    data.update(extra)
    return data


def test_aoi_check_reports_each_area_with_price_and_fix(operator_user):
    r = client_for(operator_user).post("/tasking/new/aoi-check/", form(square(), bowtie()), headers=HX)
    html = r.content.decode()
    assert r.status_code == 200
    assert 'data-testid="aoi-row-0"' in html and 'data-testid="aoi-row-1"' in html
    assert "feature 2 self-intersects" in html and "data-aoi-fix" in html
    assert "Feasibility study" in html  # manual sensor
    assert "cr" in html


def test_place_from_the_page_redirects_to_the_list(operator_user):
    r = client_for(operator_user).post("/tasking/new/place/", form(square()), headers=HX)
    assert r.status_code == 204 and r["HX-Redirect"].startswith("/tasking/?placed=")
    order = Order.objects.get()
    assert order.status == "pending" and order.sub_status == "FEASIBILITY_WAITING_UPLOAD"
    again = client_for(operator_user).post("/tasking/new/place/", form(square()), headers=HX)
    assert again.status_code == 204 and Order.objects.count() == 1  # same Idempotency-Key


def test_place_with_a_bad_area_shows_errors_and_creates_nothing(operator_user):
    r = client_for(operator_user).post("/tasking/new/place/", form(bowtie()), headers=HX)
    assert r.status_code == 422 and "self-intersects" in r.content.decode()
    assert not Order.objects.exists()


def test_viewer_cannot_place_or_save_drafts(viewer_user):
    assert client_for(viewer_user).post("/tasking/new/place/", form(square())).status_code == 403
    assert client_for(viewer_user).post("/tasking/new/draft/", form(square())).status_code == 403


def test_draft_is_saved_and_resumed_with_its_areas(operator_user):
    c = client_for(operator_user)
    r = c.post("/tasking/new/draft/", form(square(), displayName="Half done"), headers=HX)
    assert r.status_code == 200 and 'data-testid="draft-saved"' in r.content.decode()
    draft = Order.objects.get(status="draft")
    page = c.get(f"/tasking/new/?draft={draft.id}").content.decode()
    assert 'data-testid="draft-resumed"' in page and "Half done" in page
    assert "Polygon" in page  # the AOIs preload the map
    assert "Resume" in c.get("/tasking/").content.decode()


def test_tasking_list_shows_status_and_sub_status_and_links_to_the_order(org, operator_user):
    from tests.tasking.flow_helpers import place

    order = place(org, operator_user)
    html = client_for(operator_user).get("/tasking/").content.decode()
    assert (
        f"/orders/{order.id}/" in html
        and "Feasibility in progress" in html
        and "Awaiting decisions" not in html
    )


def test_other_orgs_draft_is_404(org, operator_user, other_admin):
    client_for(operator_user).post("/tasking/new/draft/", form(square()), headers=HX)
    draft = Order.objects.get(status="draft")
    assert client_for(other_admin).get(f"/tasking/new/?draft={draft.id}").status_code == 404


def test_placing_from_a_template_records_it_and_counts_a_use(operator_user, make_template):
    template = make_template(
        sensor="worldview-legion", resolution="30cm", datum="WGS84", file_format="GeoTIFF"
    )
    r = client_for(operator_user).post(
        "/tasking/new/place/", form(square(), template=str(template.id)), headers=HX
    )
    assert r.status_code == 204
    order = Order.objects.get()
    template.refresh_from_db()
    assert order.metadata["template_id"] == str(template.id) and template.usage_count == 1


def test_a_link_with_an_area_starts_the_request_with_it(operator_user):
    # "Re-task the remainder" on a coverage page links here with the remainder as ?aoi=.
    remainder = {"type": "MultiPolygon", "coordinates": [square(151.0, -33.0, 12.0)["coordinates"]]}
    response = client_for(operator_user).get(
        "/tasking/new/", {"product": MANUAL_PRODUCT, "aoi": json.dumps(remainder)}
    )
    assert response.status_code == 200
    initial = json.loads(response.context["draft_aois"])
    assert initial["features"][0]["geometry"] == remainder
    assert initial["features"][0]["properties"]["name"] == "Area 1"


def test_a_link_with_an_unusable_area_opens_the_page_and_says_why(operator_user):
    response = client_for(operator_user).get("/tasking/new/", {"product": MANUAL_PRODUCT, "aoi": "{not json"})
    assert response.status_code == 200
    assert response.context["draft_aois"] == ""
    assert b"The area in the link was left out" in response.content


def test_save_as_template_from_the_request_form_prefills_the_template(operator_user):
    from tasking.models import TaskingTemplate

    data = form(square(), displayName="Paddock weekly")
    data["from_request"] = "1"
    response = client_for(operator_user).post("/templates/new/", data)
    assert response.status_code == 200
    initial = response.context["form"].initial
    assert initial["name"] == "Paddock weekly" and initial["resolution"] == "30cm"
    assert not TaskingTemplate.objects.exists()  # nothing is saved until the person names and saves it
    page = client_for(operator_user).get(f"/tasking/new/?product={MANUAL_PRODUCT}").content.decode()
    assert 'data-testid="save-as-template"' in page
