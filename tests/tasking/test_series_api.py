"""Recurring acquisitions on the API: orders.tasking.place with a recurrence, and the two series
operations beyond the reference (orders.tasking.series.get / .cancel)."""

from __future__ import annotations

import pytest

from tasking.models import TaskingSeries
from tasking.series import series_advance
from tests.geometry import fc, square
from tests.tasking.series_helpers import accepted_series, assert_ledger_matches_wallet, series_params

pytestmark = pytest.mark.django_db


def _place(caller, org, **params):
    return caller.post(
        "orders.tasking.place",
        {
            "workspaceId": str(org.workspaces.first().id),
            "dataProduct": "worldview-legion-tasking",
            "params": series_params(**params),
            "featureCollection": fc(square()),
        },
        route=True,
    )


def test_a_recurring_request_on_the_api_is_a_series_found_by_its_order(api_operator, org):
    r = _place(api_operator, org)
    assert r.status_code == 202, r.content
    got = api_operator.post("orders.tasking.series.get", {"series_id": r.json()["id"]})
    assert got.status_code == 200, got.content
    body = got.json()
    assert (body["frequency"], body["occurrenceCount"], body["state"]) == ("WEEKLY", 4, "waiting")
    assert [o["state"] for o in body["occurrences"]] == ["planned"] * 4
    assert body["occurrences"][1]["index"] == 2
    assert (
        api_operator.post("orders.tasking.series.get", {"series_id": body["id"]}).json()["id"] == body["id"]
    )


def test_too_many_occurrences_is_a_422_naming_the_field(api_operator, org, settings):
    settings.TASKING_SERIES_MAX_OCCURRENCES = 3
    r = _place(api_operator, org, weeks=5)
    assert r.status_code == 422
    assert ["body", "params", "occurrences"] in [e["loc"] for e in r.json()["detail"]]
    assert not TaskingSeries.objects.exists()


def test_a_viewer_cannot_place_a_series(api_viewer, org):
    assert _place(api_viewer, org).status_code == 403


def test_cancel_on_the_api_previews_then_settles(
    api_admin, api_viewer, org, operator_user, admin_user, staff_user
):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    series_advance(now=series.occurrences.get(index=0).window_start)
    preview = api_admin.post("orders.tasking.series.cancel", {"series_id": str(series.pk), "dryRun": True})
    assert preview.status_code == 200, preview.content
    assert preview.json()["releasedCredits"] == 10_000 and len(preview.json()["cancelledOccurrences"]) == 4
    assert preview.json()["chargedCredits"] == 0
    series.refresh_from_db()
    assert series.state == "running"
    assert api_viewer.post("orders.tasking.series.cancel", {"series_id": str(series.pk)}).status_code == 403
    # A figure other than the dry run's (a delivery landed since): nothing is cancelled.
    changed = api_admin.post(
        "orders.tasking.series.cancel", {"series_id": str(series.pk), "expectedChargeCredits": 5}
    )
    assert changed.status_code == 409 and changed.json()["preview"]["chargedCredits"] == 0, changed.content
    series.refresh_from_db()
    assert series.state == "running"
    done = api_admin.post(
        "orders.tasking.series.cancel", {"series_id": str(series.pk), "expectedChargeCredits": 0}
    )
    assert done.status_code == 200 and done.json()["state"] == "cancelled"
    again = api_admin.post("orders.tasking.series.cancel", {"series_id": str(series.pk)})
    assert again.status_code == 409
    assert_ledger_matches_wallet(org)


def test_another_orgs_series_is_404_on_the_api(api_other, org, operator_user, admin_user, staff_user):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    assert api_other.post("orders.tasking.series.get", {"series_id": str(series.pk)}).status_code == 404
    assert (
        api_other.post("orders.tasking.series.get", {"series_id": str(series.parent_id)}).status_code == 404
    )
    assert api_other.post("orders.tasking.series.cancel", {"series_id": str(series.pk)}).status_code == 404
    series.refresh_from_db()
    assert series.state == "running"


def test_the_place_answer_names_the_series_to_follow(api_operator, org, client):
    r = _place(api_operator, org)
    assert r.status_code == 202, r.content
    body = r.json()
    series = TaskingSeries.objects.get(parent_id=body["id"])
    assert body["seriesId"] == str(series.pk)
    assert (body["captureFrequency"], body["occurrenceCount"]) == ("WEEKLY", 4)
    assert body["perOccurrenceCredits"] * 4 == body["estimatedCredits"]
    # What it answered is enough to follow the series.
    got = api_operator.post("orders.tasking.series.get", {"series_id": body["seriesId"]})
    assert got.status_code == 200 and got.json()["orderId"] == body["id"]
    # The served document describes the fields (beside the reference's open object).
    doc = client.get("/v1/openapi.json").json()
    schema = doc["paths"]["/v1/op/orders.tasking.place"]["post"]["responses"]["202"]["content"][
        "application/json"
    ]["schema"]
    name = schema["$ref"].split("/")[-1]
    props = doc["components"]["schemas"][name]["properties"]
    assert {"seriesId", "occurrenceCount", "captureFrequency", "perOccurrenceCredits"} <= set(props)


def test_a_one_off_place_answer_has_no_series(api_operator, org):
    r = _place(api_operator, org, weeks=None, captureFrequency="ONCE")
    assert r.status_code == 202, r.content
    assert r.json()["seriesId"] is None and r.json()["occurrenceCount"] is None
    assert not TaskingSeries.objects.exists()


def test_a_series_decided_per_occurrence_answers_the_estimate_of_one(api_operator, org):
    """Its parent's estimate is 0 (nothing is charged for the schedule): the place answer's
    perOccurrenceCredits is still the estimate of one occurrence, as series.get says."""
    from tasking.models import SeriesPricing, TaskingProduct

    TaskingProduct.objects.filter(pk="worldview-legion-tasking").update(
        series_pricing=SeriesPricing.OCCURRENCE
    )
    r = _place(api_operator, org)
    assert r.status_code == 202, r.content
    body = r.json()
    got = api_operator.post("orders.tasking.series.get", {"series_id": body["seriesId"]}).json()
    assert got["pricing"] == "occurrence" and got["perOccurrenceCredits"] > 0
    assert body["perOccurrenceCredits"] == got["perOccurrenceCredits"]
