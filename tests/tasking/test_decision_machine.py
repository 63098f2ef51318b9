"""Studies, quotations and spend approvals share one decision state machine (orders.decisions): one
TRANSITIONS table, one transition function, one preamble for the decide paths (409 decided / 410
expired), and a registry of kinds that expiry, notifications and the inbox iterate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from geopera_web.errors import Conflict, Gone
from orders.approvals.models import SpendApproval
from orders.decisions import (
    AbstractDecision,
    DecisionKind,
    decision_ensure_open,
    decision_kind,
    decision_kinds,
    register_decision_kind,
)
from orders.events import event_quotation_accepted
from tasking.models import FeasibilityStudy, Quotation
from tasking.services import decision_notify_admins, feasibility_decide
from tests.tasking.flow_helpers import place, upload_quote, upload_study

pytestmark = pytest.mark.django_db
D = AbstractDecision.Decision


def test_every_kind_is_one_machine():
    assert FeasibilityStudy.TRANSITIONS is Quotation.TRANSITIONS is AbstractDecision.TRANSITIONS
    assert SpendApproval.TRANSITIONS is AbstractDecision.TRANSITIONS
    assert {k.slug: k.model for k in decision_kinds()} == {
        "feasibility": FeasibilityStudy,
        "quotation": Quotation,
        "approval": SpendApproval,
    }


def test_a_kind_must_record_every_final_decision():
    with pytest.raises(ValueError):
        register_decision_kind(
            DecisionKind(
                slug="refund",
                model=Quotation,
                noun="refund request",
                deadline_field="valid_until",
                events={D.ACCEPTED: event_quotation_accepted},
            )
        )
    assert "refund" not in {k.slug for k in decision_kinds()}


def test_the_decide_preamble_is_409_when_decided_and_410_when_expired(
    org, operator_user, staff_user, admin_user
):
    study = upload_study(place(org, operator_user), staff_user)
    FeasibilityStudy.objects.filter(pk=study.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    study.refresh_from_db()
    with pytest.raises(Gone) as gone:
        decision_ensure_open(study)
    assert gone.value.slug == "decision-expired" and "feasibility study expired" in gone.value.detail
    FeasibilityStudy.objects.filter(pk=study.pk).update(decision=D.REJECTED, decided_by=admin_user)
    study.refresh_from_db()
    with pytest.raises(Conflict) as conflict:
        decision_ensure_open(study)
    assert conflict.value.extra["current_decision"] == D.REJECTED
    assert str(admin_user) in conflict.value.detail


def test_the_notification_is_composed_per_kind(org, operator_user, staff_user, admin_user):
    order = place(org, operator_user)
    study = upload_study(order, staff_user)
    assert decision_notify_admins(kind="feasibility", decision_id=study.id) == 1
    assert mail.outbox[-1].body.startswith("A feasibility study for your tasking order")
    unpriced = study.options.get(price_credits__isnull=True)
    feasibility_decide(org=org, actor=admin_user, study_id=study.id, option_id=unpriced.id)
    quotation = upload_quote(order, staff_user)
    assert decision_notify_admins(kind="quotation", decision_id=quotation.id) == 1
    assert mail.outbox[-1].body.startswith(f"A quotation ({quotation.credits:,} credits)")
    # Decided ones are skipped, and an unknown kind is a programming error, not a silent 0.
    assert decision_notify_admins(kind="feasibility", decision_id=study.id) == 0
    with pytest.raises(LookupError):
        decision_kind("refund")
