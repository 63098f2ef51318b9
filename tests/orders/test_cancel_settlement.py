"""Cancelling an acquiring tasking order after deliveries (issue 9): the covered share is charged by
the same pro-rata rule as the window-end settlement, only the undelivered rest is released; the
preview says exactly that before anyone confirms; ledger and timeline record it."""

from __future__ import annotations

import math
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from geopera_web.billing.gateways import TestGateway
from geopera_web.billing.models import LedgerEntry
from geopera_web.billing.selectors import wallet_get
from orders.coverage.calculations import compute_group_coverage
from orders.coverage.services import coverage_recompute, order_coverage_settle
from orders.models import Order
from orders.services import order_cancel, order_transition
from tests.conftest import caller_for_user
from tests.factories import make_org

from .coverage_helpers import deliver, make_tasking_order

pytestmark = pytest.mark.django_db

A = (151.0, -33.0, 151.1, -32.9)
B = (151.3, -33.0, 151.4, -32.9)
HALF_OF_A = (150.9, -33.1, 151.05, -32.8)  # covers the western half of A


def _half_delivered(org, **kwargs) -> Order:
    order = make_tasking_order(
        org=org, aois=[A, B], credits=[10_000, 7_777], names=["West", "East"], **kwargs
    )
    deliver(order, order.groups.get(position=0), [HALF_OF_A], ref="b1")
    return order


def _expected(order: Order) -> tuple[int, list[int]]:
    """The rule, computed independently: per AOI round-down(credits × remainder share, to 1e-6)."""
    cov = {
        c.group_id: c
        for c in compute_group_coverage(
            order_id=order.pk, group_ids=list(order.groups.values_list("id", flat=True))
        )
    }
    releases = []
    for g, credits in zip(order.groups.order_by("position"), (10_000, 7_777), strict=True):
        share = round(cov[g.pk].remainder_km2 / cov[g.pk].requested_km2, 6)
        releases.append(math.floor(credits * share))
    return order.total_credits - sum(releases), releases


def test_cancel_after_half_a_delivery_charges_the_covered_share_and_releases_the_rest(org, operator_user):
    order = _half_delivered(org)
    charged, releases = _expected(order)
    assert 4_500 < charged < 5_500  # about half of West; nothing of East
    wallet_before = wallet_get(org=org)
    caller = caller_for_user(operator_user, org)

    # The preview first: nothing changes.
    preview = caller.post("orders.cancel", {"order_id": str(order.pk), "dryRun": True})
    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert body["dryRun"] is True and body["status"] == "active"
    assert body["moneyAction"] == "settle"
    assert body["chargedCredits"] == charged and body["releasedCredits"] == sum(releases)
    assert [(g["name"], g["chargeCredits"], g["releaseCredits"]) for g in body["groups"]] == [
        ("West", 10_000 - releases[0], releases[0]),
        ("East", 0, 7_777),
    ]
    assert 45 < body["groups"][0]["coveredPercent"] < 55 and body["groups"][1]["coveredPercent"] == 0
    assert f"{charged:,} credits" in body["message"] and "will be charged" in body["message"]
    order.refresh_from_db()
    order.charge.refresh_from_db()
    assert order.status == "active" and order.charge.status == "authorized"

    # Then the cancellation, confirming the previewed charge.
    done = caller.post("orders.cancel", {"order_id": str(order.pk), "expectedChargeCredits": charged})
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "cancelled" and done.json()["chargedCredits"] == charged
    order.refresh_from_db()
    order.charge.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.charge.status == "captured" and order.charge.captured_credits == charged
    # Ledger: the charged share leaves the reservation, the rest goes back to the wallet.
    capture = LedgerEntry.objects.get(charge=order.charge, kind=LedgerEntry.Kind.CAPTURE)
    release = LedgerEntry.objects.get(charge=order.charge, kind=LedgerEntry.Kind.RELEASE)
    assert capture.reserved_delta == -charged
    # Issue 16: the memos say what happened; Billing links the order by name, so no ids are stored.
    assert capture.memo == "Cancelled: charged for the imagery delivered"
    assert release.memo == "Cancelled: the share not delivered released"
    assert release.available_delta == sum(releases)
    wallet = wallet_get(org=org)
    assert wallet.available_credits == wallet_before.available_credits + sum(releases)
    assert wallet.reserved_credits == wallet_before.reserved_credits - order.total_credits
    # Timeline: the settlement with its per-AOI lines, then the status change saying the same.
    event = order.events.get(kind="cancel_settlement")
    assert event.data["chargedCredits"] == charged
    assert [g["releaseCredits"] for g in event.data["groups"]] == releases
    status = order.events.get(kind="status_changed", to_status__startswith="cancelled")
    assert "were charged for the imagery already delivered" in status.message
    # What was paid for stays listed.
    assets = caller.post("orders.list_assets", {"order_id": str(order.pk)}).json()
    assert assets["numberReturned"] == 1


def test_cancel_and_window_end_settle_the_same_coverage_to_the_same_money(org):
    cancelled = _half_delivered(org)
    ended = _half_delivered(org, params={"acquisitionEnd": (timezone.now() - timedelta(hours=1)).isoformat()})
    coverage_recompute(order_id=ended.pk)
    assert order_coverage_settle(order_id=ended.pk) is not None
    order_cancel(org=org, actor=None, order_id=cancelled.pk)
    for order in (cancelled, ended):
        order.charge.refresh_from_db()
    cancelled.refresh_from_db()
    ended.refresh_from_db()
    assert (cancelled.status, ended.status) == ("cancelled", "partially_fulfilled")
    paid_cancelled = cancelled.charge.captured_credits - cancelled.charge.refunded_credits
    paid_ended = ended.charge.captured_credits - ended.charge.refunded_credits
    assert paid_cancelled == paid_ended == _expected(cancelled)[0]


def test_a_delivery_after_the_preview_refuses_the_stale_confirmation(org, operator_user):
    order = make_tasking_order(org=org, aois=[A])
    caller = caller_for_user(operator_user, org)
    preview = caller.post("orders.cancel", {"order_id": str(order.pk), "dryRun": True}).json()
    assert preview["moneyAction"] == "release" and preview["chargedCredits"] == 0
    deliver(order, order.groups.get(), [HALF_OF_A], ref="late")
    stale = caller.post("orders.cancel", {"order_id": str(order.pk), "expectedChargeCredits": 0})
    assert stale.status_code == 409
    problem = stale.json()
    assert (
        problem["preview"]["chargedCredits"] > 0
        and "Deliveries changed since the preview" in problem["detail"]
    )
    order.refresh_from_db()
    assert order.status == "active" and order.charge.status == "authorized"


def test_cancel_with_nothing_delivered_releases_everything_and_says_so_per_aoi(org, operator_user):
    order = make_tasking_order(org=org, aois=[A, B], names=["West", "East"])
    body = caller_for_user(operator_user, org).post("orders.cancel", {"order_id": str(order.pk)}).json()
    assert body["moneyAction"] == "release" and body["chargedCredits"] == 0
    assert body["releasedCredits"] == order.total_credits
    assert [g["chargeCredits"] for g in body["groups"]] == [0, 0]
    assert "Nothing was delivered, so nothing is charged" in body["message"]


def test_card_cancel_captures_the_covered_share_of_the_hold(org, django_capture_on_commit_callbacks):
    card = make_org(name=f"Card {uuid.uuid4().hex[:6]}", billing_mode="card")
    card.payment_method = f"pm_card_visa_{uuid.uuid4().hex[:8]}"
    card.save(update_fields=["payment_method"])
    order = _half_delivered(card)
    charged, _ = _expected(order)
    with django_capture_on_commit_callbacks(execute=True):
        _, effect = order_cancel(org=card, actor=None, order_id=order.pk)
    assert effect.action == "settle" and "captured from the card hold" in effect.done_sentence
    hold = TestGateway.hold(order.charge.gateway_ref)
    assert hold["state"] == "captured" and hold["captured"] == charged
    assert TestGateway.live_holds(card.payment_method) == 0


def test_the_order_page_cancel_dialog_states_charge_and_release_per_aoi(org, operator_user):
    order = _half_delivered(org)
    charged, releases = _expected(order)
    client = Client()
    client.force_login(operator_user)
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert 'id="cancel-settlement"' in page
    assert (
        f'id="cancel-charged">{charged:,} cr' in page and f'id="cancel-released">{sum(releases):,} cr' in page
    )
    assert "West" in page and "East" in page and "will be charged for the imagery already delivered" in page
    assert f'name="expected_charge_credits" value="{charged}"' in page
    response = client.post(
        reverse("orders:cancel", args=[order.pk]), {"expected_charge_credits": str(charged)}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "cancelled" and order.charge.captured_credits == charged


def test_the_page_refuses_a_stale_confirmation_and_shows_the_new_figures(org, operator_user):
    order = make_tasking_order(org=org, aois=[A])
    client = Client()
    client.force_login(operator_user)
    deliver(order, order.groups.get(), [HALF_OF_A], ref="late")  # after the dialog showed 0
    response = client.post(
        reverse("orders:cancel", args=[order.pk]), {"expected_charge_credits": "0"}, follow=True
    )
    assert "Deliveries changed since the preview" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "active"


def test_no_path_may_leave_active_early_with_the_charge_still_held(org):
    order = make_tasking_order(org=org, aois=[A])
    for to in (Order.Status.CANCELLED, Order.Status.FAILED, Order.Status.PARTIALLY_FULFILLED):
        with pytest.raises(RuntimeError, match="settle it first"):
            order_transition(order=order, to=to)
    order.refresh_from_db()
    assert order.status == "active"


def test_window_end_with_nothing_delivered_still_fails_and_releases(org):
    # (the guard above must not stop the window-end rule, which settles before it moves)
    order = make_tasking_order(
        org=org, aois=[A], params={"acquisitionEnd": (timezone.now() - timedelta(hours=1)).isoformat()}
    )
    assert order_coverage_settle(order_id=order.pk) is not None
    order.refresh_from_db()
    assert order.status == "failed" and order.charge.status == "released"
