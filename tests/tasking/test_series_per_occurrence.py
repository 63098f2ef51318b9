"""Recurring acquisitions decided per occurrence (issue 14, capability 2: "or per-occurrence
approvals where the product needs them"): the series' quotation accepts the schedule only, and each
due occurrence becomes a pending child with its own quotation in the unified inbox."""

from __future__ import annotations

from datetime import timedelta

import pytest

from geopera_web.audit.models import AuditEvent
from geopera_web.billing.models import Charge
from geopera_web.billing.selectors import wallet_get
from geopera_web.errors import ApplicationError
from orders.approvals.models import SpendApproval
from orders.approvals.services import approval_decide, spend_policy_update
from orders.models import Order
from tasking.models import Quotation, SeriesOccurrence, SeriesPricing, TaskingProduct, TaskingSeries
from tasking.series import series_advance, series_cancel
from tasking.services import decisions_expire_stale, quotation_decide
from tests.concurrency import run_concurrently
from tests.factories import MANUAL_PRODUCT
from tests.tasking.series_helpers import accepted_series, assert_ledger_matches_wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def per_occurrence_product(catalog, org, staff_user):
    """MANUAL_PRODUCT decided per occurrence, and a wallet that pays several of its acquisitions."""
    from geopera_web.billing.services import wallet_topup

    TaskingProduct.objects.filter(pk=MANUAL_PRODUCT).update(series_pricing=SeriesPricing.OCCURRENCE)
    wallet_topup(org=org, credits=5_000_000, memo="per-occurrence tests", actor=staff_user)


def _series(org, operator, admin, staff, weeks: int = 3) -> TaskingSeries:
    return accepted_series(org, operator, admin, staff, price=0, weeks=weeks)


def _list_price(series: TaskingSeries) -> int:
    """One occurrence's price: the product's list price for the parent's AOIs (the estimate)."""
    from orders.pricing import credits_for_area

    product = series.parent.data_product
    return sum(credits_for_area(product=product, area_km2=g.area_km2) for g in series.parent.groups.all())


def _due(series: TaskingSeries, index: int):
    """Run the sweep two hours before occurrence `index` opens (inside the 24 h lead)."""
    occ = series.occurrences.get(index=index)
    return series_advance(now=occ.window_start - timedelta(hours=2))


def _occ(series: TaskingSeries, index: int) -> SeriesOccurrence:
    return SeriesOccurrence.objects.select_related("order").get(series=series, index=index)


def _quote(occ: SeriesOccurrence) -> Quotation:
    return Quotation.objects.get(order_id=occ.order_id)


def test_the_product_setting_defaults_to_a_series_price(catalog):
    assert set(TaskingProduct.objects.values_list("series_pricing", flat=True)) == {SeriesPricing.SERIES}


def test_a_weekly_series_of_three_decided_per_occurrence(
    per_occurrence_product, org, operator_user, admin_user, staff_user, api_admin
):
    before = wallet_get(org=org).available_credits
    series = _series(org, operator_user, admin_user, staff_user)
    series.parent.refresh_from_db()
    PER_OCCURRENCE = _list_price(series)  # noqa: N806
    assert (
        PER_OCCURRENCE > 0 and series.parent.metadata["recurrence"]["perOccurrenceEstimate"] == PER_OCCURRENCE
    )
    # Accepting the series accepts the schedule: no series price, nothing charged.
    assert (series.pricing, series.state, series.total_credits) == ("occurrence", "running", 0)
    assert (series.parent.status, series.parent.total_credits, series.parent.charge_id) == (
        "processing",
        0,
        None,
    )
    assert not Charge.objects.filter(org=org).exists()
    assert wallet_get(org=org).available_credits == before
    assert [o.credits for o in series.occurrences.order_by("index")] == [PER_OCCURRENCE] * 3

    # The first, due, becomes a pending child with its own quotation at the list price, valid
    # until its window opens; still nothing charged.
    assert _due(series, 0)["quoted"] == 1
    first = _occ(series, 0)
    quote = _quote(first)
    assert first.state == "quoted" and first.order.status == "pending"
    assert first.order.sub_status == "QUOTATION_WAITING_RESPONSE"
    assert (quote.credits, quote.decision, quote.valid_until) == (
        PER_OCCURRENCE,
        "PENDING",
        first.window_start,
    )
    assert first.order.total_credits == PER_OCCURRENCE and not Charge.objects.filter(org=org).exists()
    # The unified inbox lists it like any quotation.
    pending = api_admin.post("orders.tasking.decisions.pending", {"kinds": "quotation"}).json()
    assert [(i["id"], i["credits"]) for i in pending["items"]] == [(str(quote.id), PER_OCCURRENCE)]
    # The series API shows which occurrence waits for a decision.
    body = api_admin.post("orders.tasking.series.get", {"series_id": str(series.pk)}).json()
    assert body["pricing"] == "occurrence" and body["totalCredits"] == 0
    assert [o["state"] for o in body["occurrences"]] == ["quoted", "planned", "planned"]
    assert body["occurrences"][0]["quotationId"] == str(quote.id)
    assert body["occurrences"][0]["decisionDeadline"] is not None
    assert body["occurrences"][1]["quotationId"] is None

    # Accepting it charges and activates that child exactly once.
    quotation_decide(org=org, actor=admin_user, quotation_id=quote.id, decision="ACCEPTED")
    first = _occ(series, 0)
    assert (first.state, first.order.status, first.credits) == ("ordered", "active", PER_OCCURRENCE)
    assert Charge.objects.filter(org=org).count() == 1
    assert first.order.charge.authorized_credits == PER_OCCURRENCE
    assert wallet_get(org=org).available_credits == before - PER_OCCURRENCE
    assert Order.objects.filter(metadata__series__id=str(series.pk), status="active").count() == 1

    # Rejecting the next declines it with the reason; nothing is charged and the series runs on.
    assert _due(series, 1)["quoted"] == 1
    second = _occ(series, 1)
    quotation_decide(org=org, actor=admin_user, quotation_id=_quote(second).id, decision="REJECTED")
    second = _occ(series, 1)
    assert (second.state, second.order.status) == ("declined", "rejected")
    assert "rejected" in second.note
    assert Charge.objects.filter(org=org).count() == 1
    series.refresh_from_db()
    assert series.state == "running"

    # The third still comes; letting it expire declines it too.
    assert _due(series, 2)["quoted"] == 1
    third = _occ(series, 2)
    assert third.state == "quoted"
    assert decisions_expire_stale(now=third.window_start + timedelta(minutes=1)) == 1
    third = _occ(series, 2)
    assert (third.state, third.order.status) == ("declined", "expired") and "expired" in third.note
    assert Charge.objects.filter(org=org).count() == 1
    assert_ledger_matches_wallet(org)
    actions = set(AuditEvent.objects.filter(org=org).values_list("action", flat=True))
    assert {"series.occurrence_quoted", "series.occurrence_ordered", "series.occurrence_declined"} <= actions


def test_the_sweep_run_twice_makes_one_quotation(
    per_occurrence_product, org, operator_user, admin_user, staff_user
):
    series = _series(org, operator_user, admin_user, staff_user)
    assert _due(series, 0)["quoted"] == 1
    assert _due(series, 0)["quoted"] == 0
    assert Quotation.objects.filter(order__metadata__series__id=str(series.pk)).count() == 1
    assert Order.objects.filter(metadata__series__id=str(series.pk)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_make_one_quotation_per_occurrence(
    per_occurrence_product, org, operator_user, admin_user, staff_user, settings
):
    series = _series(org, operator_user, admin_user, staff_user)
    settings.TASKING_SERIES_LEAD_HOURS = 24 * 40  # every occurrence is due now
    now = series.occurrences.get(index=0).window_start - timedelta(days=1)
    results = run_concurrently(lambda: series_advance(now=now), threads=4)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(r["quoted"] for r in results) == 3
    assert Quotation.objects.filter(order__metadata__series__id=str(series.pk)).count() == 3
    assert not Charge.objects.filter(org=org).exists()


def test_an_operator_above_the_threshold_asks_an_admin_for_an_occurrence(
    per_occurrence_product, org, operator_user, admin_user, staff_user
):
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=1_000)
    series = _series(org, operator_user, admin_user, staff_user)  # the schedule: 0 credits, no approval
    PER_OCCURRENCE = _list_price(series)  # noqa: N806
    assert not SpendApproval.objects.filter(org=org).exists()
    _due(series, 0)
    quote = _quote(_occ(series, 0))
    held = quotation_decide(org=org, actor=operator_user, quotation_id=quote.id, decision="ACCEPTED")
    approval = held.pending_approval
    assert approval is not None and approval.credits == PER_OCCURRENCE
    assert _occ(series, 0).state == "quoted" and not Charge.objects.filter(org=org).exists()
    approval_decide(
        org=org, actor=admin_user, approval_id=approval.pk, decision=SpendApproval.Decision.ACCEPTED
    )
    first = _occ(series, 0)
    assert (first.state, first.order.status) == ("ordered", "active")
    assert Charge.objects.filter(org=org).count() == 1


def test_a_workspace_budget_applies_to_an_occurrence(
    per_occurrence_product, org, operator_user, admin_user, staff_user
):
    series = _series(org, operator_user, admin_user, staff_user)
    workspace = series.parent.workspace
    spend_policy_update(
        org=org, actor=admin_user, workspace_id=workspace.pk, monthly_budget_credits=_list_price(series) - 1
    )
    _due(series, 0)
    quote = _quote(_occ(series, 0))
    with pytest.raises(ApplicationError):
        quotation_decide(org=org, actor=admin_user, quotation_id=quote.id, decision="ACCEPTED")
    assert _occ(series, 0).state == "quoted" and not Charge.objects.filter(org=org).exists()


def test_cancelling_the_series_cancels_a_quoted_occurrence(
    per_occurrence_product, org, operator_user, admin_user, staff_user
):
    series = _series(org, operator_user, admin_user, staff_user)
    _due(series, 0)
    series_cancel(org=org, actor=admin_user, series_id=series.pk)
    first = _occ(series, 0)
    assert (first.state, first.order.status) == ("cancelled", "cancelled")
    assert [o.state for o in series.occurrences.order_by("index")] == ["cancelled"] * 3
    assert not Charge.objects.filter(org=org).exists()


def test_a_decision_the_sweep_could_not_settle_is_settled_by_the_next_run(
    per_occurrence_product, org, operator_user, admin_user, staff_user
):
    """The decision takes the occurrence row with skip_locked; when it could not (a cancel or the
    sweep held it), the child moved on alone and the next sweep settles the occurrence."""
    series = _series(org, operator_user, admin_user, staff_user)
    _due(series, 0)
    first = _occ(series, 0)
    Order.objects.filter(pk=first.order_id).update(status=Order.Status.REJECTED)  # as if unsettled
    assert _due(series, 0)["declined"] == 1
    assert _occ(series, 0).state == "declined"


def test_a_series_whose_occurrences_were_all_declined_ends(
    per_occurrence_product, org, operator_user, admin_user, staff_user
):
    series = _series(org, operator_user, admin_user, staff_user, weeks=2)
    for k in (0, 1):
        _due(series, k)
        quotation_decide(
            org=org, actor=admin_user, quotation_id=_quote(_occ(series, k)).id, decision="REJECTED"
        )
    assert series_advance(now=_occ(series, 1).window_end)["ended"] == 1
    series.refresh_from_db()
    series.parent.refresh_from_db()
    assert (series.state, series.parent.status) == ("ended", "failed")


def test_the_inbox_and_the_series_page_show_the_waiting_occurrence(
    per_occurrence_product, org, operator_user, admin_user, staff_user
):
    from django.test import Client

    series = _series(org, operator_user, admin_user, staff_user)
    _due(series, 0)
    quote = _quote(_occ(series, 0))
    client = Client()
    client.force_login(admin_user)
    inbox = client.get("/inbox/").content.decode()
    assert f'id="decision-{quote.id}"' in inbox
    assert 'data-testid="series-occurrence"' in inbox and f"/tasking/series/{series.pk}/" in inbox
    page = client.get(f"/tasking/series/{series.pk}/").content.decode()
    assert "Decided per occurrence" in page and "1 occurrence waits for a decision" in page
    assert f"#decision-{quote.id}" in page


def test_an_occurrence_quotation_left_by_a_series_cancel_cannot_be_asked_for_or_accepted(
    per_occurrence_product, org, operator_user, admin_user, staff_user
):
    """Cancelling the series cancels the quoted child and closes its quotation with it, so an
    operator asking to accept it gets 409 (no approval request for an ended order) and an admin
    accepting it gets 409 before any money is secured."""
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=1_000)
    series = _series(org, operator_user, admin_user, staff_user)
    _due(series, 0)
    quote = _quote(_occ(series, 0))
    series_cancel(org=org, actor=admin_user, series_id=series.pk)
    for actor in (operator_user, admin_user):
        with pytest.raises(ApplicationError) as refused:
            quotation_decide(org=org, actor=actor, quotation_id=quote.id, decision="ACCEPTED")
        assert refused.value.status == 409 and refused.value.extra["current_decision"] == "EXPIRED"
    assert not SpendApproval.objects.filter(org=org).exists()
    assert not Charge.objects.filter(org=org).exists()


def test_the_inbox_costs_the_same_queries_with_occurrence_quotations(
    per_occurrence_product, org, operator_user, admin_user, staff_user, settings
):
    """An occurrence's own quotation names its series from the child's metadata: the inbox page
    and the API list cost the same statements with one such row as with five."""
    from tests.conftest import caller_for_user
    from tests.tasking.test_inbox_scale import client_for, count_queries

    settings.TASKING_SERIES_LEAD_HOURS = 24 * 40
    first = _series(org, operator_user, admin_user, staff_user, weeks=2)
    series_advance(now=first.occurrences.get(index=0).window_start - timedelta(days=1))
    c = client_for(admin_user)
    api = caller_for_user(admin_user, org)
    c.get("/inbox/")

    def costs():
        n_page, page = count_queries(lambda: c.get("/inbox/"))
        n_api, listed = count_queries(
            lambda: api.post("orders.tasking.decisions.pending", {"kinds": "quotation"})
        )
        assert page.status_code == 200 and listed.status_code == 200
        return n_page, n_api, page.content.decode().count('data-testid="series-occurrence"')

    costs()  # the first API call warms what every later one reuses
    small = costs()
    for _ in range(2):
        more = _series(org, operator_user, admin_user, staff_user, weeks=2)
        series_advance(now=more.occurrences.get(index=0).window_start - timedelta(days=1))
    large = costs()
    assert (small[2], large[2]) == (2, 6)
    assert small[:2] == large[:2], (small, large)


def test_cancelling_a_quoted_occurrences_own_order_declines_it_at_once(
    per_occurrence_product, org, operator_user, admin_user, staff_user, api_admin
):
    """orders.cancel on the pending child: the occurrence is declined then and there (its series
    page and series.get no longer offer a quotation that cannot be decided), and the series runs on."""
    series = _series(org, operator_user, admin_user, staff_user)
    _due(series, 0)
    first = _occ(series, 0)
    r = api_admin.post("orders.cancel", {"order_id": str(first.order_id)})
    assert r.status_code == 200, r.content
    first = _occ(series, 0)
    assert (first.state, first.order.status) == ("declined", "cancelled")
    assert "cancelled" in first.note
    body = api_admin.post("orders.tasking.series.get", {"series_id": str(series.pk)}).json()
    assert body["state"] == "running"
    assert body["occurrences"][0]["state"] == "declined" and body["occurrences"][0]["quotationId"] is None
    assert not Charge.objects.filter(org=org).exists()
