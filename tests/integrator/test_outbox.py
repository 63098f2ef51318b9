"""The outbox: each change point writes its event in the same transaction as the change, so an
event exists exactly when that transaction commits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from geopera_web.billing.services import charge_authorize
from geopera_web.events.models import Event
from geopera_web.events.services import event_emit, register_consumer
from geopera_web.events.tasks import decisions_expiring_emit
from orders.models import Order
from orders.services import order_transition
from tests.factories import (
    deliver,
    make_archive_order,
    make_org,
    make_priced_capture,
    make_product,
    make_quotation,
    make_study,
    make_tasking_order,
    make_tasking_request,
)
from tests.geometry import square_degrees


class Boom(Exception):
    pass


def _types(org) -> list[str]:
    return list(Event.objects.filter(org=org).order_by("created_at").values_list("type", flat=True))


@pytest.fixture
def syd(db):
    product = make_product(pid="optical-50cm", rate=100, min_area=25.0)
    make_priced_capture(product=product, bounds=(151.10, -33.95, 151.20, -33.85), scene_id="SYD-A")


@pytest.mark.django_db(transaction=True)
def test_an_order_event_exists_iff_its_transaction_commits(syd, org, operator_user):
    with pytest.raises(Boom), transaction.atomic():
        make_archive_order(org=org, actor=operator_user, scene_ids=["SYD-A"])
        assert "order.created" in _types(org)  # written inside the transaction...
        raise Boom
    assert not Order.objects.filter(org=org).exists()
    assert _types(org) == []  # ...and gone with it

    order = make_archive_order(org=org, actor=operator_user, scene_ids=["SYD-A"])
    created = Event.objects.get(org=org, type="order.created")
    assert created.payload["orderId"] == str(order.pk)
    assert created.order_id == order.pk and created.workspace_id == order.workspace_id
    assert created.payload["orderType"] == "archive"


@pytest.mark.django_db(transaction=True)
def test_consumers_hear_of_an_event_only_after_commit(org):
    heard: list[str] = []
    register_consumer("test-probe", lambda e: heard.append(e.type))
    try:
        with pytest.raises(Boom), transaction.atomic():
            event_emit(org=org, type="ping", data={})
            raise Boom
        assert heard == []
        with transaction.atomic():
            event_emit(org=org, type="ping", data={})
            assert heard == []
        assert heard == ["ping"]
    finally:
        register_consumer("test-probe", lambda e: None)


@pytest.mark.django_db
def test_unknown_event_type_is_refused(org):
    with pytest.raises(ValueError):
        event_emit(org=org, type="order.exploded", data={})


@pytest.mark.django_db
def test_status_change_delivery_and_coverage_events(org):
    order = make_tasking_order(
        org=org, aois=[square_degrees(151.0, -33.5, 0.05)], status=Order.Status.PENDING
    )
    order_transition(order=order, to=Order.Status.ACTIVE, message="test")
    changed = Event.objects.filter(org=org, type="order.status_changed").latest("created_at")
    assert changed.payload["fromStatus"] == "pending" and changed.payload["toStatus"] == "active"

    deliver(order, order.groups.get(), [square_degrees(151.0, -33.5, 0.03)], ref="b1")
    assert Event.objects.filter(org=org, type="delivery.received", order_id=order.pk).exists()
    from orders.coverage.services import coverage_recompute

    coverage_recompute(order_id=order.pk)
    cov = Event.objects.filter(org=org, type="coverage.updated", order_id=order.pk).latest("created_at")
    assert cov.payload["groups"] and cov.payload["groups"][0]["percent"] > 0


@pytest.mark.django_db
def test_decision_pending_then_expiring_once(org, operator_user, staff_user, settings):
    settings.DECISION_EXPIRING_LEAD_HOURS = 48
    order = make_tasking_request(org, operator_user)
    study = make_study(order, staff_user, deadline=timezone.now() + timedelta(hours=30))
    pending = Event.objects.get(org=org, type="decision.pending")
    assert pending.payload["decisionKind"] == "feasibility"
    assert pending.payload["decisionId"] == str(study.pk)

    assert decisions_expiring_emit() == 1
    assert decisions_expiring_emit() == 0  # one warning per decision, ever
    expiring = Event.objects.get(org=org, type="decision.expiring")
    assert expiring.payload["decisionId"] == str(study.pk)


@pytest.mark.django_db
def test_expiring_respects_the_lead_time(org, operator_user, staff_user, settings):
    settings.DECISION_EXPIRING_LEAD_HOURS = 12
    order = make_tasking_request(org, operator_user)
    make_study(order, staff_user, deadline=timezone.now() + timedelta(hours=30))
    assert decisions_expiring_emit() == 0
    assert decisions_expiring_emit(now=timezone.now() + timedelta(hours=20)) == 1


@pytest.mark.django_db
def test_quotation_decided_event(org, operator_user, staff_user, admin_user):
    from tasking.services import quotation_decide

    order = make_tasking_request(org, operator_user)
    study = make_study(order, staff_user)
    from tasking.services import feasibility_decide

    option = study.options.filter(price_credits__isnull=True).first()
    feasibility_decide(org=org, actor=admin_user, study_id=study.pk, option_id=option.pk)
    quotation = make_quotation(order, staff_user, credits=20_000)
    quotation_decide(org=org, actor=admin_user, quotation_id=quotation.pk, decision="REJECTED")
    decided = list(Event.objects.filter(org=org, type="decision.decided").order_by("created_at"))
    assert [e.payload["decisionKind"] for e in decided] == ["feasibility", "quotation"]
    assert decided[-1].payload["decision"] == "REJECTED"


@pytest.mark.django_db
def test_wallet_low_balance_once_per_crossing(settings):
    settings.WALLET_LOW_BALANCE_CREDITS = 10_000
    org = make_org(name="Thin wallet", credits=15_000)
    charge_authorize(org=org, credits=3_000, reference="a")  # 12 000 left: above
    assert _types(org) == []
    charge_authorize(org=org, credits=3_000, reference="b")  # 9 000: crossed
    charge_authorize(org=org, credits=1_000, reference="c")  # still below: no repeat
    low = Event.objects.filter(org=org, type="wallet.low_balance")
    assert low.count() == 1
    assert low.get().payload == {"availableCredits": 9_000, "thresholdCredits": 10_000}
