"""Real threads with their own connections: two admins approving one request, and a workspace
budget under 30 simultaneous placements."""

from __future__ import annotations

import pytest
from django.test import Client

from geopera_web.accounts.selectors import workspace_default
from geopera_web.billing.models import Charge
from orders.approvals.models import SpendApproval
from orders.approvals.services import spend_policy_update, workspace_month_spent
from orders.cart.pricing import archive_quote
from orders.models import Order
from tests.concurrency import run_concurrently
from tests.conftest import caller_for_user
from tests.factories import make_org, make_user, place_body

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def slow_provider(settings):
    settings.SIMULATED_PROVIDER = {"ARCHIVE_DELAY_SECONDS": 3600, "ARCHIVE_FAILURE_RATE": 0.0, "SEED": 7}


def test_two_admins_approving_at_once_one_wins(sydney_captures, slow_provider):
    org = make_org(name="Two Admins Org", credits=1_000_000)
    admin_a, admin_b = make_user(org=org, role="admin"), make_user(org=org, role="admin")
    operator = make_user(org=org, role="operator")
    spend_policy_update(org=org, actor=admin_a, approval_threshold_credits=1)
    placed = caller_for_user(operator, org).post("orders.archive.place", place_body("SYD-A"))
    approval = SpendApproval.objects.get(order_id=placed.json()["id"])
    callers = iter([caller_for_user(admin_a, org), caller_for_user(admin_b, org)])
    mine = [next(callers), next(callers)]
    turn = iter(range(2))

    def approve() -> int:
        caller = mine[next(turn)]
        return caller.post(
            "orders.approvals.decide", {"approval_id": str(approval.pk), "decision": "ACCEPTED"}
        ).status_code

    assert sorted(run_concurrently(approve, threads=2)) == [200, 409]
    assert Order.objects.filter(org=org).count() == 1
    assert Charge.objects.filter(org=org).count() == 1
    assert Order.objects.get(org=org).status == "processing"


def test_a_workspace_budget_under_30_concurrent_placements_never_goes_over(sydney_captures, slow_provider):
    price = archive_quote(captures=[{"id": "SYD-A"}]).total_credits
    org = make_org(name="Budget Org", credits=100 * price)
    admin = make_user(org=org, role="admin")
    ws = workspace_default(org=org)
    budget = 7 * price + price // 2
    spend_policy_update(org=org, actor=admin, workspace_id=ws.pk, monthly_budget_credits=budget)
    headers = caller_for_user(admin, org).headers
    keys = iter(range(30))

    def place() -> int:
        return (
            Client()
            .post(
                "/v1/op/orders.archive.place",
                data=place_body("SYD-A"),
                content_type="application/json",
                headers={**headers, "Idempotency-Key": f"budget-{next(keys)}"},
            )
            .status_code
        )

    statuses = run_concurrently(place, threads=30)
    assert sorted(statuses) == [202] * 7 + [402] * 23
    assert workspace_month_spent(workspace=ws) == 7 * price <= budget
    assert Charge.objects.filter(org=org).count() == 7
