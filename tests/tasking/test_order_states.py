"""One state mapping (orders/states.py): an order waiting on the customer says "Action required"
with its deadline; one waiting on support says so; the counts agree with the inbox."""

from __future__ import annotations

import pytest

from orders.decisions import decision_kinds
from orders.states import order_state, order_states_attach, waiting_counts
from tasking.selectors import pending_decision_count, tasking_order_list
from tests.factories import make_quotation, make_study, make_tasking_request


def make_four_waiting(org, operator_user, admin_user, staff_user) -> dict:
    """One order in each waiting state: study to write, study to decide, quote to write, quote to decide."""
    from tasking.services import feasibility_decide

    waiting_study = make_tasking_request(org, operator_user)
    study_pending = make_tasking_request(org, operator_user)
    study = make_study(study_pending, staff_user)
    waiting_quote = make_tasking_request(org, operator_user)
    s2 = make_study(waiting_quote, staff_user)
    feasibility_decide(org=org, actor=admin_user, study_id=s2.id, option_id=s2.options.get(position=0).id)
    quote_pending = make_tasking_request(org, operator_user)
    s3 = make_study(quote_pending, staff_user)
    feasibility_decide(org=org, actor=admin_user, study_id=s3.id, option_id=s3.options.get(position=0).id)
    quotation = make_quotation(quote_pending, staff_user)
    return {
        "waiting_study": waiting_study,
        "study_pending": study_pending,
        "waiting_quote": waiting_quote,
        "quote_pending": quote_pending,
        "study": study,
        "quotation": quotation,
    }


@pytest.fixture
def four_waiting(org, operator_user, admin_user, staff_user):
    return make_four_waiting(org, operator_user, admin_user, staff_user)


def test_each_waiting_state_names_who_it_waits_on(four_waiting):
    for key in ("waiting_study", "study_pending", "waiting_quote", "quote_pending"):
        four_waiting[key].refresh_from_db()
    assert order_state(four_waiting["waiting_study"]).label == "Feasibility in progress"
    assert order_state(four_waiting["waiting_quote"]).label == "Support is preparing your quote"
    for key in ("waiting_study", "waiting_quote"):
        assert order_state(four_waiting[key]).waits_on == "support"
        assert not order_state(four_waiting[key]).needs_customer
    study_state = order_state(four_waiting["study_pending"])
    assert (study_state.label, study_state.waits_on, study_state.decision_kind) == (
        "Action required",
        "customer",
        "feasibility",
    )
    assert study_state.deadline == four_waiting["study"].deadline
    quote_state = order_state(four_waiting["quote_pending"])
    assert quote_state.decision_kind == "quotation"
    assert quote_state.deadline == four_waiting["quotation"].valid_until
    assert quote_state.detail == "Accept or reject the quote"


def test_counts_agree_with_the_inbox_and_a_page_loads_in_constant_queries(
    four_waiting, org, django_assert_max_num_queries
):
    assert waiting_counts(org=org) == {"customer": 2, "support": 2}
    assert pending_decision_count(org=org) == 2
    orders = list(tasking_order_list(org=org))
    # One query per decision kind, whatever the page size.
    with django_assert_max_num_queries(len(decision_kinds())):
        attached = order_states_attach(orders)
    assert sorted(o.state.key for o in attached) == [
        "action-required",
        "action-required",
        "support-feasibility",
        "support-quote",
    ]


def test_a_rejected_or_terminal_order_is_not_action_required(four_waiting, org, admin_user):
    from tasking.services import quotation_decide

    quotation_decide(
        org=org, actor=admin_user, quotation_id=four_waiting["quotation"].id, decision="REJECTED"
    )
    four_waiting["quote_pending"].refresh_from_db()
    state = order_state(four_waiting["quote_pending"])
    assert state.waits_on == "" and state.label == "Rejected"
    assert waiting_counts(org=org) == {"customer": 1, "support": 2}
