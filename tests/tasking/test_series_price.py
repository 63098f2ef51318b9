"""A series price gives every occurrence at least 1 credit (`occurrence_credits` splits it): the
support desk's quotation and priced options refuse less with a form error (0, a free series, stays
allowed as for a one-off quotation), and accepting such a price already stored is a 409."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from geopera_web.errors import Conflict
from tasking.models import FeasibilityStudy, Quotation, TaskingSeries
from tasking.services import feasibility_decide, quotation_decide
from tests.factories import make_quotation, make_study, study_option
from tests.tasking.series_helpers import place_series

pytestmark = pytest.mark.django_db


def _local(dt) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def quoting_series(org, operator_user, admin_user, staff_user):
    """A weekly series of 4 whose unpriced option was accepted: it waits for support's quotation."""
    order = place_series(org, operator_user)
    study = make_study(order, staff_user, options=[study_option(None)])
    feasibility_decide(org=org, actor=admin_user, study_id=study.id, option_id=study.options.get().id)
    return order


@pytest.fixture
def staff_client(staff_user) -> Client:
    c = Client()
    c.force_login(staff_user)
    return c


def _quote(staff_client, order, credits: str):
    return staff_client.post(
        f"/support/orders/{order.id}/quotation/",
        {"credits": credits, "valid_until": _local(timezone.now() + timedelta(days=4))},
    )


def test_a_quotation_below_one_credit_per_occurrence_is_a_form_error(quoting_series, staff_client):
    r = _quote(staff_client, quoting_series, "3")
    assert r.status_code == 422
    errors = r.content.decode().split('data-testid="quote-errors"', 1)[1].split("</div>", 1)[0]
    assert "each needs at least 1 credit" in errors and "4 credits or more" in errors
    assert not Quotation.objects.filter(order=quoting_series).exists()
    assert _quote(staff_client, quoting_series, "4").status_code == 302
    assert Quotation.objects.get(order=quoting_series).credits == 4


def test_a_free_series_quotation_stays_allowed_like_a_one_off(quoting_series, staff_client):
    assert _quote(staff_client, quoting_series, "0").status_code == 302
    assert Quotation.objects.get(order=quoting_series).credits == 0


def test_a_priced_option_below_one_credit_per_occurrence_is_refused(org, operator_user, staff_user):
    from geopera_web.errors import InvalidInput

    order = place_series(org, operator_user)
    with pytest.raises(InvalidInput) as exc:
        make_study(order, staff_user, options=[study_option(None), study_option(2)])
    assert exc.value.status == 422
    assert exc.value.extra["errors"][0]["loc"] == ["options", 1, "price_credits"]
    assert "each needs at least 1 credit" in exc.value.extra["errors"][0]["msg"]
    assert not FeasibilityStudy.objects.filter(order=order).exists()


def test_accepting_a_stored_price_below_one_credit_per_occurrence_is_a_409(
    quoting_series, org, admin_user, staff_user
):
    quotation = make_quotation(quoting_series, staff_user, credits=40_000)
    Quotation.objects.filter(pk=quotation.pk).update(credits=3)  # issued before the rule
    with pytest.raises(Conflict) as exc:
        quotation_decide(org=org, actor=admin_user, quotation_id=quotation.pk, decision="ACCEPTED")
    assert exc.value.slug == "series-price-too-low"
    quotation.refresh_from_db()
    series = TaskingSeries.objects.get(parent=quoting_series)
    assert quotation.decision == "PENDING" and series.state == "waiting"


def test_a_series_decided_per_occurrence_is_quoted_at_0(quoting_series, staff_client):
    from tasking.models import SeriesPricing

    TaskingSeries.objects.filter(parent=quoting_series).update(pricing=SeriesPricing.OCCURRENCE)
    r = _quote(staff_client, quoting_series, "40000")
    assert r.status_code == 422
    errors = r.content.decode().split('data-testid="quote-errors"', 1)[1].split("</div>", 1)[0]
    assert "decided per occurrence" in errors and "price it at 0" in errors
    assert not Quotation.objects.filter(order=quoting_series).exists()
    assert _quote(staff_client, quoting_series, "0").status_code == 302
