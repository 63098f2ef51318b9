"""Recurring acquisitions on the pages: the request page's recurrence fields, the order page's
series callout (a series parent is cancelled from its series page), the inbox's per-occurrence price."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tasking.models import TaskingSeries
from tasking.series import series_advance
from tests.factories import make_quotation, make_study, study_option
from tests.geometry import fc, square
from tests.tasking.series_helpers import accepted_series, place_series

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def series_form(**extra):
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=3)
    data = {
        "data_product_id": "worldview-legion-tasking",
        "featureCollection": json.dumps(fc(square())),
        "displayName": "Weekly port check",
        "acquisitionStart": start.strftime("%Y-%m-%dT%H:%M"),
        "acquisitionEnd": (start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        "resolution": "30cm",
        "cloudCoverage": "20",
        "incidenceAngle": "25",
        "captureFrequency": "WEEKLY",
        "occurrences": "4",
        "rollRemainder": "on",
        "idempotency_key": "series-form-1",
    }
    data.update(extra)
    return data


def test_the_request_page_offers_the_recurrence(operator_user):
    html = (
        client_for(operator_user)
        .get("/tasking/new/", {"product": "worldview-legion-tasking"})
        .content.decode()
    )
    assert 'name="occurrences"' in html and 'name="recurUntil"' in html and 'name="rollRemainder"' in html
    # The limit is stated as a number a person can use (not the name of the setting behind it).
    assert "2 to 52" in html and "TASKING_SERIES_MAX_OCCURRENCES" not in html


def test_placing_a_series_from_the_page(operator_user):
    r = client_for(operator_user).post("/tasking/new/place/", series_form(), headers=HX)
    assert r.status_code == 204, r.content.decode()[:2000]
    series = TaskingSeries.objects.get()
    assert (series.frequency, series.occurrence_count, series.roll_remainder) == ("WEEKLY", 4, True)


def test_a_bad_recurrence_is_a_form_error_naming_the_field(operator_user, settings):
    settings.TASKING_SERIES_MAX_OCCURRENCES = 3
    r = client_for(operator_user).post("/tasking/new/place/", series_form(occurrences="9"), headers=HX)
    assert r.status_code == 422 and "occurrences must be at most 3" in r.content.decode()
    r = client_for(operator_user).post(
        "/tasking/new/place/",
        series_form(captureFrequency="ONCE", occurrences="3", idempotency_key="k2"),
        headers=HX,
    )
    assert r.status_code == 422 and "DAILY, WEEKLY or MONTHLY" in r.content.decode()
    assert not TaskingSeries.objects.exists()


def test_the_inbox_shows_the_per_occurrence_price(org, operator_user, admin_user, staff_user):
    order = place_series(org, operator_user)
    study = make_study(order, staff_user, options=[study_option(None)])
    from tasking.services import feasibility_decide

    feasibility_decide(org=org, actor=admin_user, study_id=study.id, option_id=study.options.get().id)
    make_quotation(order, staff_user, credits=40_000)
    html = client_for(admin_user).get("/inbox/").content.decode()
    assert 'data-testid="per-occurrence"' in html and "10,000" in html


def test_the_parent_order_page_links_the_series_and_cancels_the_series_not_itself_alone(
    org, operator_user, admin_user, staff_user
):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    series_advance(now=series.occurrences.get(index=0).window_start)
    c = client_for(operator_user)
    parent = c.get(f"/orders/{series.parent_id}/").content.decode()
    assert 'data-testid="series-link"' in parent and f"/tasking/series/{series.pk}/" in parent
    # Its cancel is the series' (orders.services.order_cancel hands it over): the dialog says so.
    assert "Yes, cancel the rest of the series" in parent and "4 occurrences not yet started" in parent
    child = series.occurrences.get(index=0).order
    page = c.get(f"/orders/{child.pk}/").content.decode()
    assert "Occurrence 1 of a recurring acquisition" in page and 'id="cancel-confirm"' in page
    timeline = parent[parent.index('id="order-timeline"') :]
    assert "Series occurrence ordered" in timeline
