"""Feasibility studies and quotations: state machines, role gates, money, races, expiry, tenancy."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from geopera_web.billing.models import Charge
from geopera_web.billing.selectors import wallet_get
from geopera_web.errors import Conflict, Gone, InvalidInput
from orders.models import Order
from tasking.models import FeasibilityStudy, Quotation
from tasking.services import (
    SUB_STATUS_TRANSITIONS,
    decisions_expire_stale,
    feasibility_decide,
    quotation_decide,
    quotation_transition,
    study_reject,
    study_transition,
)
from tasking.tasks import expire_stale_decisions
from tests.factories import make_org, make_user
from tests.tasking.flow_helpers import option, place, upload_quote, upload_study

pytestmark = pytest.mark.django_db

D = FeasibilityStudy.Decision


@pytest.fixture
def order(org, operator_user):
    return place(org, operator_user)


@pytest.fixture
def study(order, staff_user):
    return upload_study(order, staff_user)


def unpriced(study):
    return study.options.get(price_credits__isnull=True)


def priced(study):
    return study.options.get(price_credits__isnull=False)


def to_quotation(order, study, admin_user, staff_user):
    feasibility_decide(org=order.org, actor=admin_user, study_id=study.id, option_id=unpriced(study).id)
    return upload_quote(order, staff_user)


# --- the state machines ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", [FeasibilityStudy, Quotation])
def test_only_pending_items_can_move_and_only_to_a_final_decision(model):
    assert model.TRANSITIONS[D.PENDING] == {D.ACCEPTED, D.REJECTED, D.EXPIRED}
    assert all(model.TRANSITIONS[s] == set() for s in (D.ACCEPTED, D.REJECTED, D.EXPIRED))


@pytest.mark.parametrize("final", [D.ACCEPTED, D.REJECTED, D.EXPIRED])
@pytest.mark.parametrize("to", [D.PENDING, D.ACCEPTED, D.REJECTED, D.EXPIRED])
def test_every_transition_out_of_a_final_study_decision_is_409(study, admin_user, final, to):
    FeasibilityStudy.objects.filter(pk=study.pk).update(decision=final)
    study.refresh_from_db()
    with pytest.raises(Conflict) as exc:
        study_transition(study=study, to=to, actor=admin_user)
    assert exc.value.extra["current_decision"] == final


@pytest.mark.parametrize("to", [D.ACCEPTED, D.REJECTED, D.EXPIRED])
def test_every_legal_study_transition_records_an_order_event(study, admin_user, to):
    study_transition(study=study, to=to, actor=admin_user)
    study.refresh_from_db()
    assert study.decision == to and study.decided_at is not None
    assert study.order.events.filter(
        kind=f"feasibility_{to.lower()}", from_status="PENDING", to_status=to
    ).exists()


@pytest.mark.parametrize("final", [D.ACCEPTED, D.REJECTED, D.EXPIRED])
@pytest.mark.parametrize("to", [D.PENDING, D.ACCEPTED, D.REJECTED, D.EXPIRED])
def test_every_transition_out_of_a_final_quotation_decision_is_409(
    order, study, admin_user, staff_user, final, to
):
    quotation = to_quotation(order, study, admin_user, staff_user)
    Quotation.objects.filter(pk=quotation.pk).update(decision=final)
    quotation.refresh_from_db()
    with pytest.raises(Conflict):
        quotation_transition(quotation=quotation, to=to, actor=admin_user)


@pytest.mark.parametrize("to", [D.ACCEPTED, D.REJECTED, D.EXPIRED])
def test_every_legal_quotation_transition_records_an_order_event(order, study, admin_user, staff_user, to):
    quotation = to_quotation(order, study, admin_user, staff_user)
    quotation_transition(quotation=quotation, to=to, actor=admin_user)
    assert order.events.filter(kind=f"quotation_{to.lower()}").exists()


def test_sub_status_walk_is_the_up42_sequence():
    S = Order.SubStatus
    assert SUB_STATUS_TRANSITIONS[S.FEASIBILITY_WAITING_UPLOAD] == {S.FEASIBILITY_WAITING_RESPONSE}
    assert SUB_STATUS_TRANSITIONS[S.FEASIBILITY_WAITING_RESPONSE] == {
        S.QUOTATION_WAITING_UPLOAD,
        S.QUOTATION_ACCEPTED,
    }
    assert SUB_STATUS_TRANSITIONS[S.QUOTATION_WAITING_UPLOAD] == {S.QUOTATION_WAITING_RESPONSE}
    assert SUB_STATUS_TRANSITIONS[S.QUOTATION_WAITING_RESPONSE] == {
        S.QUOTATION_ACCEPTED,
        S.QUOTATION_REJECTED,
    }


def test_full_walk_study_then_quotation_activates_and_reserves(order, study, org, admin_user, staff_user):
    before = wallet_get(org=org).available_credits
    order.refresh_from_db()
    assert order.sub_status == "FEASIBILITY_WAITING_RESPONSE"
    quotation = to_quotation(order, study, admin_user, staff_user)
    order.refresh_from_db()
    assert order.sub_status == "QUOTATION_WAITING_RESPONSE"
    quotation_decide(org=org, actor=admin_user, quotation_id=quotation.id, decision="ACCEPTED")
    order.refresh_from_db()
    assert (order.status, order.sub_status) == ("active", "QUOTATION_ACCEPTED")
    wallet = wallet_get(org=org)
    assert wallet.available_credits == before - 40_000 and wallet.reserved_credits == 40_000
    assert order.charge.authorized_credits == 40_000 and order.total_credits == 40_000
    subs = [e.to_status for e in order.events.filter(kind="status_changed")]
    assert subs == [
        "pending/FEASIBILITY_WAITING_UPLOAD",
        "pending/FEASIBILITY_WAITING_RESPONSE",
        "pending/QUOTATION_WAITING_UPLOAD",
        "pending/QUOTATION_WAITING_RESPONSE",
        "active/QUOTATION_ACCEPTED",
    ]


def test_priced_option_is_a_one_step_accept(order, study, org, admin_user):
    feasibility_decide(org=org, actor=admin_user, study_id=study.id, option_id=priced(study).id)
    order.refresh_from_db()
    assert (order.status, order.sub_status) == ("active", "QUOTATION_ACCEPTED")
    assert wallet_get(org=org).reserved_credits == 50_000


def test_rejecting_a_quotation_rejects_the_order_and_charges_nothing(
    order, study, org, admin_user, staff_user
):
    quotation = to_quotation(order, study, admin_user, staff_user)
    quotation_decide(org=org, actor=admin_user, quotation_id=quotation.id, decision="REJECTED")
    order.refresh_from_db()
    assert (order.status, order.sub_status) == ("rejected", "QUOTATION_REJECTED")
    assert not Charge.objects.exists()


def test_rejecting_a_study_rejects_the_order(order, study, org, admin_user):
    study_reject(org=org, actor=admin_user, study_id=study.id)
    order.refresh_from_db()
    assert order.status == "rejected"


def test_study_upload_twice_is_409(order, study, staff_user):
    with pytest.raises(Conflict):
        upload_study(order, staff_user)


def test_quotation_before_an_option_is_accepted_is_409(order, study, staff_user):
    with pytest.raises(Conflict):
        upload_quote(order, staff_user)


def test_study_without_options_or_with_a_bad_window_is_422(order, staff_user):
    with pytest.raises(InvalidInput):
        upload_study(order, staff_user, options=[])
    bad = option(window_end=timezone.now() - timedelta(days=400))
    with pytest.raises(InvalidInput):
        upload_study(order, staff_user, options=[bad])
    order.refresh_from_db()
    assert order.sub_status == "FEASIBILITY_WAITING_UPLOAD"


def test_new_pending_decisions_email_the_org_admins(
    order, staff_user, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload_study(order, staff_user)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [admin_user.email]
    assert "Decision needed" in mail.outbox[0].subject


# --- API: roles, money, conflicts, expiry, idempotency, tenancy -----------------------------------


def decide_body(study, opt):
    return {"study_id": str(study.id), "acceptedOptionId": str(opt.id)}


def test_operator_viewer_and_api_key_cannot_decide(study, api_operator, api_viewer, api_key_caller):
    body = decide_body(study, priced(study))
    assert api_operator.post("orders.tasking.feasibility_decide", body).status_code == 403
    assert api_viewer.post("orders.tasking.feasibility_decide", body).status_code == 403
    r = api_key_caller.post("orders.tasking.feasibility_decide", body)
    assert r.status_code == 403 and r.json()["type"].endswith("api-key-not-allowed")
    study.refresh_from_db()
    assert study.decision == "PENDING"


def test_admin_accepts_through_the_api(study, api_admin):
    r = api_admin.post("orders.tasking.feasibility_decide", decide_body(study, priced(study)))
    assert r.status_code == 200, r.content
    assert r.json()["decision"] == "ACCEPTED" and r.json()["order"]["status"] == "active"


def test_second_decision_is_409_with_the_current_decision(study, api_admin):
    api_admin.post("orders.tasking.feasibility_decide", decide_body(study, unpriced(study)))
    r = api_admin.post("orders.tasking.feasibility_decide", decide_body(study, priced(study)))
    assert r.status_code == 409 and r.json()["current_decision"] == "ACCEPTED"


def test_short_wallet_is_402_and_nothing_changes(org, order, staff_user, api_admin):
    study = upload_study(order, staff_user, options=[option(10_000_000)])
    r = api_admin.post("orders.tasking.feasibility_decide", decide_body(study, study.options.get()))
    assert r.status_code == 402 and r.json()["required_credits"] == 10_000_000
    study.refresh_from_db()
    order.refresh_from_db()
    assert study.decision == "PENDING" and order.sub_status == "FEASIBILITY_WAITING_RESPONSE"


def test_quotation_accept_short_is_402(order, study, admin_user, staff_user, api_admin):
    feasibility_decide(org=order.org, actor=admin_user, study_id=study.id, option_id=unpriced(study).id)
    quotation = upload_quote(order, staff_user, credits=5_000_000)
    r = api_admin.post(
        "orders.tasking.quotation_decide", {"quotation_id": str(quotation.id), "decision": "ACCEPTED"}
    )
    assert r.status_code == 402
    quotation.refresh_from_db()
    assert quotation.decision == "PENDING"


def test_deciding_after_the_deadline_is_410(study, api_admin):
    FeasibilityStudy.objects.filter(pk=study.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    r = api_admin.post("orders.tasking.feasibility_decide", decide_body(study, priced(study)))
    assert r.status_code == 410 and r.json()["title"] == "Gone"


def test_quotation_decide_after_validity_is_410(order, study, admin_user, staff_user, api_admin):
    quotation = to_quotation(order, study, admin_user, staff_user)
    Quotation.objects.filter(pk=quotation.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    r = api_admin.post(
        "orders.tasking.quotation_decide", {"quotation_id": str(quotation.id), "decision": "ACCEPTED"}
    )
    assert r.status_code == 410


def test_beat_task_expires_stale_items_with_an_event(
    order, study, admin_user, staff_user, org, operator_user
):
    FeasibilityStudy.objects.filter(pk=study.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    other = place(org, operator_user)
    other_study = upload_study(other, staff_user)
    feasibility_decide(org=org, actor=admin_user, study_id=other_study.id, option_id=unpriced(other_study).id)
    quotation = upload_quote(other, staff_user)
    Quotation.objects.filter(pk=quotation.pk).update(valid_until=timezone.now() - timedelta(minutes=1))
    assert expire_stale_decisions.delay().get() == 2
    study.refresh_from_db()
    quotation.refresh_from_db()
    order.refresh_from_db()
    assert study.decision == "EXPIRED" and quotation.decision == "EXPIRED" and order.status == "expired"
    assert order.events.filter(kind="feasibility_expired").exists()
    assert decisions_expire_stale() == 0  # idempotent


def test_decide_replays_with_the_same_idempotency_key(study, api_admin, org):
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = api_admin.post(
        "orders.tasking.feasibility_decide", decide_body(study, priced(study)), headers=headers
    )
    again = api_admin.post(
        "orders.tasking.feasibility_decide", decide_body(study, priced(study)), headers=headers
    )
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert Charge.objects.filter(org=org).count() == 1


def test_other_orgs_study_quotation_and_lists_are_404_or_empty(
    order, study, admin_user, staff_user, api_other
):
    r = api_other.post("orders.tasking.feasibility_decide", decide_body(study, priced(study)))
    assert r.status_code == 404
    quotation = to_quotation(order, study, admin_user, staff_user)
    r = api_other.post(
        "orders.tasking.quotation_decide", {"quotation_id": str(quotation.id), "decision": "REJECTED"}
    )
    assert r.status_code == 404
    for op in (
        "orders.tasking.feasibility_studies.list",
        "orders.tasking.quotations.list",
        "orders.tasking.decisions.pending",
    ):
        assert api_other.post(op, {}).json()["items"] == []


def test_lists_filter_by_decision_order_and_workspace(order, study, api_operator, admin_user, staff_user):
    r = api_operator.post(
        "orders.tasking.feasibility_studies.list", {"orderId": str(order.id), "decision": "PENDING"}
    )
    assert [i["id"] for i in r.json()["items"]] == [str(study.id)]
    assert len(r.json()["items"][0]["options"]) == 2
    assert (
        api_operator.post("orders.tasking.feasibility_studies.list", {"decision": "ACCEPTED"}).json()["items"]
        == []
    )
    assert (
        api_operator.post(
            "orders.tasking.feasibility_studies.list", {"workspaceId": str(uuid.uuid4())}
        ).json()["total"]
        == 0
    )
    quotation = to_quotation(order, study, admin_user, staff_user)
    r = api_operator.post("orders.tasking.quotations.list", {"id": str(quotation.id)})
    assert r.json()["items"][0]["credits"] == 40_000


def test_pending_decisions_lists_both_kinds_newest_first_and_pages(
    org, operator_user, staff_user, admin_user, api_operator
):
    o1 = place(org, operator_user)
    s1 = upload_study(o1, staff_user)
    feasibility_decide(org=org, actor=admin_user, study_id=s1.id, option_id=unpriced(s1).id)
    q1 = upload_quote(o1, staff_user)
    o2 = place(org, operator_user)
    s2 = upload_study(o2, staff_user)
    r = api_operator.post("orders.tasking.decisions.pending", {"kinds": "feasibility,quotation"})
    assert [i["id"] for i in r.json()["items"]] == [str(s2.id), str(q1.id)]
    r = api_operator.post("orders.tasking.decisions.pending", {"kinds": "quotation"})
    assert [i["kind"] for i in r.json()["items"]] == ["quotation"]
    r = api_operator.post("orders.tasking.decisions.pending", {"size": 1, "page": 1})
    assert r.json()["total"] == 2 and [i["id"] for i in r.json()["items"]] == [str(q1.id)]
    assert api_operator.post("orders.tasking.decisions.pending", {"kinds": "invoices"}).status_code == 422


# --- the race ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_admins_accepting_at_once_one_wins_the_other_gets_409():
    org = make_org(name="Race Org", credits=1_000_000)
    admin1 = make_user(org=org, role="admin")
    admin2 = make_user(org=org, role="admin")
    staff = make_user(org=None, staff=True)
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()
    order = place(org, admin1)
    study = upload_study(order, staff)
    opt = priced(study)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def decide(admin):
        try:
            barrier.wait()
            feasibility_decide(org=org, actor=admin, study_id=study.id, option_id=opt.id)
            results.append("ok")
        except (Conflict, Gone) as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(a,)) for a in (admin1, admin2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1
    loser = next(r for r in results if r != "ok")
    assert isinstance(loser, Conflict) and loser.extra["current_decision"] == "ACCEPTED"
    assert Charge.objects.filter(org=org).count() == 1
    assert wallet_get(org=org).reserved_credits == 50_000


def test_operator_viewer_and_api_key_cannot_decide_quotations(
    order, study, admin_user, staff_user, api_operator, api_viewer, api_key_caller
):
    quotation = to_quotation(order, study, admin_user, staff_user)
    body = {"quotation_id": str(quotation.id), "decision": "ACCEPTED"}
    for caller in (api_operator, api_viewer, api_key_caller):
        assert caller.post("orders.tasking.quotation_decide", body).status_code == 403
    quotation.refresh_from_db()
    assert quotation.decision == "PENDING" and not Charge.objects.exists()


def test_support_staff_never_spend_an_orgs_money(order, study, staff_user):
    from geopera_web.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        feasibility_decide(org=order.org, actor=staff_user, study_id=study.id, option_id=priced(study).id)
    assert not Charge.objects.exists()


def test_only_staff_upload_studies(order, admin_user):
    from geopera_web.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        upload_study(order, admin_user)


def test_quotation_decision_must_be_accepted_or_rejected(order, study, admin_user, staff_user, api_admin):
    quotation = to_quotation(order, study, admin_user, staff_user)
    r = api_admin.post(
        "orders.tasking.quotation_decide", {"quotation_id": str(quotation.id), "decision": "MAYBE"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "decision"]
