"""Issue 14: an operator's archive order above the org's approval threshold waits in the unified
inbox; an org admin approves it in place (the dialog says what will be spent before anything is),
the row leaves the pending list, the live count and the badge drop by one in step, and the order's
timeline shows the approval."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def waiting_approval(org, operator_user, admin_user):
    from orders.approvals.services import spend_policy_update
    from orders.cart.pricing import archive_quote
    from orders.cart.services import archive_order_place
    from tests.factories import make_priced_capture, make_product

    product = make_product(pid="approval-optical", rate=100, min_area=25.0)
    make_priced_capture(product=product, bounds=(151.10, -33.95, 151.20, -33.85), scene_id="APP-A")
    make_priced_capture(product=product, bounds=(151.30, -33.80, 151.40, -33.70), scene_id="APP-B")
    price = archive_quote(captures=[{"id": "APP-A"}]).total_credits
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=price - 1)
    orders = [
        archive_order_place(
            org=org,
            actor=operator_user,
            captures=[{"id": scene}],
            display_name=f"Flood survey {scene}",
            approval_note=f"Needed for {scene}",
        )
        for scene in ("APP-A", "APP-B")
    ]
    assert all(o.sub_status == "APPROVAL_WAITING_RESPONSE" for o in orders)
    return orders[0], price


def test_admin_approves_in_place_counts_drop_and_timeline_shows_it(
    live_server, page, login, admin_user, org, waiting_approval
):
    from geopera_web.billing.models import Charge
    from orders.approvals.models import SpendApproval
    from orders.models import Order

    order, price = waiting_approval
    approval = SpendApproval.objects.get(order=order)
    login(admin_user)
    page.goto(live_server.url + "/inbox/")
    expect(page.locator("#inbox-badge")).to_have_text("2")
    expect(page.get_by_test_id("inbox-count")).to_have_text("2 pending decisions")
    row = page.locator(f"#decision-{approval.pk}")
    expect(row).to_have_attribute("data-decision", "PENDING")
    expect(row.get_by_test_id("approval-credits")).to_contain_text(f"{price:,}")
    expect(row.get_by_test_id("approval-note")).to_contain_text("Needed for APP-A")

    row.get_by_test_id("approve").click()
    dialog = page.locator("dialog[open]")
    # What will be spent is stated before the admin confirms.
    expect(dialog.get_by_test_id("spend-text")).to_contain_text(f"{price:,} credits")
    assert not Charge.objects.filter(org=org).exists()
    dialog.get_by_test_id("confirm").click()

    row = page.locator(f"#decision-{approval.pk}")
    expect(row.get_by_test_id("decision-outcome")).to_contain_text("Approved")
    expect(row).to_have_attribute("data-decision", "ACCEPTED")
    expect(page.get_by_test_id("inbox-count")).to_have_text("1 pending decision")
    expect(page.locator("#inbox-badge")).to_have_text("1")
    # The decided row is no longer pending; the other one still is, and a fresh page lists only it.
    expect(page.locator("[data-testid=decision-row][data-decision=PENDING]")).to_have_count(1)
    page.reload()
    expect(page.locator("[data-testid=decision-row]")).to_have_count(1)
    expect(page.locator(f"#decision-{approval.pk}")).to_have_count(0)
    expect(page.locator("#inbox-badge")).to_have_text("1")

    order = Order.objects.get(pk=order.pk)
    assert order.sub_status != "APPROVAL_WAITING_RESPONSE"
    assert Charge.objects.filter(org=org).count() == 1 and order.charge.authorized_credits == price

    page.goto(live_server.url + f"/orders/{order.pk}/")
    approved = page.locator("[data-testid=timeline-item][data-kind=approval_approved]")
    expect(approved).to_have_count(1)
    expect(approved).to_contain_text(re.compile(r"Spend approved"))
    expect(page.locator("[data-testid=timeline-item][data-kind=approval_requested]")).to_have_count(1)
