"""The unified inbox page: rows, in-place decisions via htmx, role gates, filters, badge, tenancy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from geopera_web.billing.selectors import wallet_get
from tasking.models import FeasibilityStudy
from tasking.services import feasibility_decide
from tests.tasking.flow_helpers import place, upload_quote, upload_study

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def study(org, operator_user, staff_user):
    return upload_study(place(org, operator_user), staff_user)


def test_inbox_lists_pending_rows_with_options_side_by_side_and_deadline(study, admin_user):
    r = client_for(admin_user).get("/inbox/")
    html = r.content.decode()
    assert r.status_code == 200
    assert html.count('data-testid="decision-row"') == 1
    assert "Option 1" in html and "Option 2" in html and "Quotation follows" in html
    assert "data-countdown" in html and 'class="diff' in html  # prices differ: highlighted
    # The confirmation states exactly what the priced option spends and the wallet after.
    available = wallet_get(org=study.org).available_credits
    assert (
        f"Reserves 50,000 credits (A$500.00) from your wallet. Available after: {available - 50_000:,} credits"
        in html
    )


def test_operators_and_viewers_see_disabled_buttons_and_who_can_act(
    study, operator_user, viewer_user, admin_user
):
    for user in (operator_user, viewer_user):
        html = client_for(user).get("/inbox/").content.decode()
        assert "disabled" in html and 'data-testid="who-can-act"' in html
        assert admin_user.display_name in html
        assert "<dialog" not in html


def test_operator_cannot_post_a_decision(study, operator_user):
    opt = study.options.get(price_credits__isnull=False)
    r = client_for(operator_user).post(
        f"/inbox/studies/{study.id}/accept/", {"option_id": opt.id}, headers=HX
    )
    assert r.status_code == 403
    study.refresh_from_db()
    assert study.decision == "PENDING"


def test_accept_updates_the_row_in_place_with_wallet_and_badge(study, admin_user):
    opt = study.options.get(price_credits__isnull=False)
    r = client_for(admin_user).post(f"/inbox/studies/{study.id}/accept/", {"option_id": opt.id}, headers=HX)
    html = r.content.decode()
    assert r.status_code == 200
    assert f'id="decision-{study.id}"' in html and 'data-decision="ACCEPTED"' in html
    assert "Acquiring" in html
    assert 'id="inbox-badge"' in html and 'hx-swap-oob="true"' in html  # the count drops at once
    assert 'id="wallet-available"' in html


def test_second_accept_shows_the_current_decision_with_409(study, admin_user):
    opt = study.options.get(price_credits__isnull=True)
    feasibility_decide(org=study.org, actor=admin_user, study_id=study.id, option_id=opt.id)
    r = client_for(admin_user).post(f"/inbox/studies/{study.id}/accept/", {"option_id": opt.id}, headers=HX)
    assert r.status_code == 409
    assert "already accepted" in r.content.decode()


def test_expired_decision_shows_410_in_the_row(study, admin_user):
    FeasibilityStudy.objects.filter(pk=study.pk).update(deadline=timezone.now() - timedelta(minutes=5))
    opt = study.options.get(price_credits__isnull=False)
    r = client_for(admin_user).post(f"/inbox/studies/{study.id}/accept/", {"option_id": opt.id}, headers=HX)
    assert r.status_code == 410 and "expired" in r.content.decode()


def test_reject_quotation_in_place(study, admin_user, staff_user):
    feasibility_decide(
        org=study.org, actor=admin_user, study_id=study.id, option_id=study.options.get(price_credits=None).id
    )
    quotation = upload_quote(study.order, staff_user)
    r = client_for(admin_user).post(
        f"/inbox/quotations/{quotation.id}/decide/", {"decision": "REJECTED"}, headers=HX
    )
    assert r.status_code == 200 and 'data-decision="REJECTED"' in r.content.decode()


def test_filters_by_kind_and_polling_returns_the_list_region(study, admin_user):
    c = client_for(admin_user)
    assert 'data-testid="decision-row"' not in c.get("/inbox/?kind=quotation").content.decode()
    r = c.get("/inbox/?kind=feasibility", headers={**HX, "HX-Target": "inbox-list"})
    html = r.content.decode()
    assert html.lstrip().startswith('<div id="inbox-list"') and 'hx-trigger="every 15s' in html
    # What polls is the count region, not the list (tests/tasking/test_inbox_scale.py).
    assert 'hx-get="/inbox/fresh/' in html
    assert html.count('data-testid="decision-row"') == 1


def test_badge_counts_pending_decisions(study, admin_user):
    assert ">1</span>" in client_for(admin_user).get("/inbox/badge/").content.decode()


def test_another_orgs_study_is_404_on_the_page(study, other_admin):
    opt = study.options.first()
    r = client_for(other_admin).post(f"/inbox/studies/{study.id}/accept/", {"option_id": opt.id}, headers=HX)
    assert r.status_code == 404
    assert 'data-testid="decision-row"' not in client_for(other_admin).get("/inbox/").content.decode()


def test_a_cancelled_orders_study_leaves_the_inbox(study, admin_user):
    from orders.services import order_transition

    order_transition(order=study.order, to="cancelled", actor=admin_user)
    assert 'data-testid="decision-row"' not in client_for(admin_user).get("/inbox/").content.decode()
    assert ">0</span>" in client_for(admin_user).get("/inbox/badge/").content.decode()
