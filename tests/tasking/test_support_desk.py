"""The support desk at scale: filters in the URL, search, sorts, paging with a constant number of
queries, claim/release (race-safe), and staff-only access."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from geopera_web.errors import Conflict
from orders.models import Order, OrderGroup
from tasking.desk import DeskFilters, desk_claim, desk_page, desk_release
from tasking.models import SupportClaim
from tasking.services import feasibility_decide
from tests.concurrency import run_concurrently
from tests.factories import make_org, make_user
from tests.tasking.flow_helpers import place, upload_study

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def rows(html: str) -> int:
    return html.count('data-testid="queue-row"')


def named(org, actor, name: str, *, product: str = "") -> Order:
    if product:  # a radar product: no cloud cover parameter
        from tasking.services import tasking_order_place
        from tests.factories import tasking_params
        from tests.geometry import fc, square

        params = {k: v for k, v in tasking_params().items() if k != "cloudCoverage"}
        order = tasking_order_place(
            org=org, actor=actor, data_product_id=product, params=params, feature_collection=fc(square())
        )
    else:
        order = place(org, actor)
    Order.objects.filter(pk=order.pk).update(display_name=name)
    order.display_name = name
    return order


def waited(order: Order, hours: float) -> None:
    """Make `order` look as if it has waited `hours` in its current state."""
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(hours=hours))


def clone(order: Order, n: int) -> list[Order]:
    """`n` copies of a placed order (with its areas), cheaper than placing each one."""
    copies = []
    groups = list(order.groups.all())
    for i in range(n):
        copy = Order.objects.get(pk=order.pk)
        copy.pk = None
        copy.id = None
        copy.display_name = f"Copy {i:03d}"
        copy.idempotency_key = ""
        copy.save()
        for g in groups:
            g.pk = None
            g.id = None
            g.order = copy
            g.save()
        copies.append(copy)
    return copies


@pytest.fixture
def colleague(db):
    return make_user(org=None, role=None, email="colleague@geopera.example", staff=True)


@pytest.fixture
def desk_orders(org, other_org, operator_user, other_admin, staff_user, admin_user):
    """One order in each desk state: a study to write, a quote to write, a customer decision far
    off and one expiring soon, across two orgs and two sensors."""
    study = named(org, operator_user, "Kalgoorlie pit")
    radar = named(other_org, other_admin, "Brisbane radar", product="terrasar-x-tasking")
    quote = named(org, operator_user, "Broken Hill tailings")
    s = upload_study(quote, staff_user)
    feasibility_decide(
        org=org, actor=admin_user, study_id=s.id, option_id=s.options.get(price_credits=None).id
    )
    customer = named(org, operator_user, "Merredin paddocks")
    upload_study(customer, staff_user, deadline=timezone.now() + timedelta(days=6))
    expiring = named(other_org, other_admin, "Gladstone berths")
    upload_study(expiring, staff_user, deadline=timezone.now() + timedelta(hours=20))
    for order, hours in ((study, 50), (radar, 10), (quote, 30), (customer, 5), (expiring, 70)):
        waited(order, hours)
    return {"study": study, "radar": radar, "quote": quote, "customer": customer, "expiring": expiring}


def names_on(user, query: str = "") -> list[str]:
    page = desk_page(filters=DeskFilters.from_query(_qd(query)), staff=user)
    return [o.display_name for o in page.object_list]


def _qd(query: str):
    from django.http import QueryDict

    return QueryDict(query)


# --- privilege ----------------------------------------------------------------------------------


def test_desk_claim_and_release_are_404_for_org_members(desk_orders, admin_user, operator_user, viewer_user):
    order = desk_orders["study"]
    for user in (admin_user, operator_user, viewer_user):
        c = client_for(user)
        assert c.get("/support/").status_code == 404
        assert c.get("/support/?state=all&q=Kal").status_code == 404
        assert c.post(f"/support/orders/{order.id}/claim/").status_code == 404
        assert c.post(f"/support/orders/{order.id}/release/").status_code == 404
    assert not SupportClaim.objects.exists()


def test_anonymous_is_sent_to_sign_in(desk_orders):
    order = desk_orders["study"]
    assert Client().get("/support/").status_code == 302
    r = Client().post(f"/support/orders/{order.id}/claim/")
    assert r.status_code == 302 and "/login" in r["Location"]
    assert not SupportClaim.objects.exists()


# --- state filters ------------------------------------------------------------------------------


def test_default_desk_is_the_support_work_longest_waiting_first(desk_orders, staff_user):
    assert names_on(staff_user) == ["Kalgoorlie pit", "Broken Hill tailings", "Brisbane radar"]
    html = client_for(staff_user).get("/support/").content.decode()
    assert rows(html) == 3 and "3 items" in html


STATE_EXPECTED = {
    "study": {"Kalgoorlie pit", "Brisbane radar"},
    "quotation": {"Broken Hill tailings"},
    "customer": {"Merredin paddocks", "Gladstone berths"},
    "expiring": {"Gladstone berths"},
    "all": {
        "Kalgoorlie pit",
        "Brisbane radar",
        "Broken Hill tailings",
        "Merredin paddocks",
        "Gladstone berths",
    },
}


def test_each_state_filter(desk_orders, staff_user):
    c = client_for(staff_user)
    for state, expected in STATE_EXPECTED.items():
        assert set(names_on(staff_user, f"state={state}")) == expected, state
        assert rows(c.get(f"/support/?state={state}").content.decode()) == len(expected), state


def test_waiting_on_customer_rows_show_the_decision_deadline(desk_orders, staff_user):
    html = client_for(staff_user).get("/support/?state=customer").content.decode()
    assert "Decide by" in html and "expiring" in html
    deadline = desk_orders["expiring"].feasibility_studies.get().deadline
    assert deadline.strftime("%-d %b %H:%M") in html


def test_closed_orders_are_never_on_the_desk(desk_orders, staff_user):
    Order.objects.filter(pk=desk_orders["study"].pk).update(status=Order.Status.CANCELLED)
    assert "Kalgoorlie pit" not in names_on(staff_user, "state=all")


# --- org, sensor, product, assignee, search -----------------------------------------------------


def test_org_filter(desk_orders, staff_user, other_org):
    assert set(names_on(staff_user, f"state=all&org={other_org.id}")) == {
        "Brisbane radar",
        "Gladstone berths",
    }


def test_org_filter_choices_list_only_orgs_with_desk_items(desk_orders, staff_user, org, other_org):
    idle = make_org(name="Idle Org Pty Ltd")
    html = client_for(staff_user).get("/support/").content.decode()
    assert f'value="{other_org.id}"' in html and f'value="{org.id}"' in html
    assert idle.name not in html


def test_sensor_and_product_filters(desk_orders, staff_user):
    assert names_on(staff_user, "state=all&sensor=terrasar-x") == ["Brisbane radar"]
    assert names_on(staff_user, "state=all&product=terrasar-x-tasking") == ["Brisbane radar"]
    assert "Brisbane radar" not in names_on(staff_user, "state=all&sensor=worldview-legion")
    assert names_on(staff_user, "state=all&sensor=no-such-sensor") == []


def test_assignee_filters(desk_orders, staff_user, colleague):
    desk_claim(order_id=desk_orders["study"].id, staff=staff_user)
    desk_claim(order_id=desk_orders["quote"].id, staff=colleague)
    assert names_on(staff_user, "assignee=mine") == ["Kalgoorlie pit"]
    assert names_on(colleague, "assignee=mine") == ["Broken Hill tailings"]
    assert names_on(staff_user, "assignee=unassigned") == ["Brisbane radar"]
    assert len(names_on(staff_user, "assignee=")) == 3


def test_search_by_order_name_any_case(desk_orders, staff_user):
    assert names_on(staff_user, "state=all&q=tailings") == ["Broken Hill tailings"]
    assert names_on(staff_user, "state=all&q=KALGOOR") == ["Kalgoorlie pit"]


def test_search_by_org_name(desk_orders, staff_user, other_org):
    term = other_org.name[:6]
    assert set(names_on(staff_user, f"state=all&q={term}")) == {"Brisbane radar", "Gladstone berths"}


def test_search_by_id_prefix(desk_orders, staff_user):
    order = desk_orders["radar"]
    assert names_on(staff_user, f"state=all&q={str(order.id)[:8]}") == ["Brisbane radar"]
    assert names_on(staff_user, f"state=all&q={str(order.id).upper()}") == ["Brisbane radar"]


def test_search_matching_nothing_says_so(desk_orders, staff_user):
    html = client_for(staff_user).get("/support/?q=zzzz-nothing").content.decode()
    assert rows(html) == 0 and 'data-testid="desk-empty"' in html and "Clear them" in html


def test_sort_newest(desk_orders, staff_user):
    assert names_on(staff_user, "sort=newest") == ["Brisbane radar", "Broken Hill tailings", "Kalgoorlie pit"]


def test_sort_due_orders_by_the_due_instant(desk_orders, staff_user):
    Order.objects.filter(pk=desk_orders["radar"].pk).update(
        params={**desk_orders["radar"].params, "acquisitionStart": "2020-01-01T00:00:00Z"}
    )
    Order.objects.filter(pk=desk_orders["study"].pk).update(params={"acquisitionStart": "not a date"})
    page = desk_page(filters=DeskFilters.from_query(_qd("state=all&sort=due")), staff=staff_user)
    got = [(o.display_name, o.due) for o in page.object_list]
    assert got[0][0] == "Brisbane radar"
    assert got[-1] == ("Kalgoorlie pit", None)
    dues = [d for _, d in got if d is not None]
    assert dues == sorted(dues) and len(dues) == 4


def test_unknown_filter_values_fall_back_and_say_so(desk_orders, staff_user):
    r = client_for(staff_user).get("/support/?state=bogus&sort=sideways&assignee=root&org=not-a-uuid&page=x")
    html = r.content.decode()
    assert r.status_code == 200
    assert html.count('data-testid="filter-error"') == 4
    assert rows(html) == 3  # the default state


def test_filters_are_kept_in_the_form_and_the_paging_links(desk_orders, staff_user):
    order = desk_orders["study"]
    clone(order, 26)
    html = client_for(staff_user).get("/support/?state=study&q=copy&sort=newest").content.decode()
    assert 'value="copy"' in html
    assert '<option value="study" selected>' in html and '<option value="newest" selected>' in html
    assert "?state=study&amp;q=copy&amp;sort=newest&amp;page=2" in html


# --- paging -------------------------------------------------------------------------------------


def test_paging_walks_the_whole_queue_without_a_cut(desk_orders, staff_user, monkeypatch):
    monkeypatch.setattr("tasking.desk.PAGE_SIZE", 5)
    clone(desk_orders["study"], 9)  # 9 + 3 = 12 support items: pages of 5, 5, 2
    c = client_for(staff_user)
    seen: list[str] = []
    for n in (1, 2, 3):
        html = c.get(f"/support/?page={n}").content.decode()
        seen += [part.split('"', 1)[0] for part in html.split('data-order="')[1:]]
        assert "12 items" in html and f"page {n} of 3" in html
    assert len(seen) == 12 and len(set(seen)) == 12
    last = c.get("/support/?page=99").content.decode()  # past the end: the last page
    assert rows(last) == 2


def test_the_page_is_cut_not_the_queue(desk_orders, staff_user):
    """The old desk showed the first 200 and dropped the rest; every item is on some page now."""
    clone(desk_orders["study"], 30)
    page = desk_page(filters=DeskFilters(), staff=staff_user, page=9, size=4)
    assert page.paginator.count == 33 and len(page.object_list) == 1
    assert page.object_list[0].display_name == "Copy 029"  # the newest copy waited the least


def test_query_count_is_the_same_for_a_small_and_a_full_page(desk_orders, staff_user):
    c = client_for(staff_user)
    c.get("/support/")  # warm the session and the catalog caches

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            r = c.get(url)
        assert r.status_code == 200
        return len(ctx.captured_queries)

    small = count("/support/?state=quotation")  # one row
    clone(desk_orders["study"], 27)
    for order in Order.objects.filter(display_name__startswith="Copy")[:8]:
        desk_claim(order_id=order.id, staff=staff_user)
    full = count("/support/?state=all")  # 25 rows, some claimed, several areas each
    second = count("/support/?state=all&page=2")
    assert small == full == second, (small, full, second)
    assert full <= 14


def test_htmx_filter_request_returns_only_the_list(desk_orders, staff_user):
    r = client_for(staff_user).get(
        "/support/?state=quotation", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="desk-list"
    )
    html = r.content.decode()
    assert r.status_code == 200 and html.lstrip().startswith('<div id="desk-list"')
    assert rows(html) == 1 and "<html" not in html and 'data-testid="desk-filters"' not in html
    # the address bar gets the filters that matter, not every empty field of the form
    r = client_for(staff_user).get(
        "/support/?q=&state=quotation&org=&sensor=&product=&assignee=&sort=age",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="desk-list",
    )
    assert r["HX-Push-Url"] == "/support/?state=quotation"


# --- claim / release ----------------------------------------------------------------------------


def test_claim_shows_who_works_on_it_to_colleagues(desk_orders, staff_user, colleague):
    order = desk_orders["study"]
    r = client_for(staff_user).post(f"/support/orders/{order.id}/claim/", {"next": "/support/?state=study"})
    assert r.status_code == 302 and r["Location"] == "/support/?state=study"
    assert SupportClaim.objects.get(order=order).staff == staff_user
    mine = client_for(staff_user).get("/support/").content.decode()
    assert "<strong>You</strong> claimed it" in mine and 'data-testid="release"' in mine
    theirs = client_for(colleague).get("/support/").content.decode()
    assert "works on it" in theirs and staff_user.display_name in theirs


def test_claiming_a_claimed_order_says_who_has_it(desk_orders, staff_user, colleague):
    order = desk_orders["study"]
    desk_claim(order_id=order.id, staff=staff_user)
    r = client_for(colleague).post(
        f"/support/orders/{order.id}/claim/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET=f"desk-row-{order.id}"
    )
    html = r.content.decode()
    assert r.status_code == 409
    assert 'data-testid="claim-error"' in html and "already works on" in html
    assert SupportClaim.objects.get(order=order).staff == staff_user
    with pytest.raises(Conflict):
        desk_claim(order_id=order.id, staff=colleague)


def test_claiming_twice_is_a_no_op(desk_orders, staff_user):
    order = desk_orders["study"]
    first = desk_claim(order_id=order.id, staff=staff_user)
    again = desk_claim(order_id=order.id, staff=staff_user)
    assert first.claimed_at == again.claimed_at and SupportClaim.objects.count() == 1


def test_release_by_the_claimant_frees_it(desk_orders, staff_user, colleague):
    order = desk_orders["study"]
    desk_claim(order_id=order.id, staff=staff_user)
    r = client_for(staff_user).post(
        f"/support/orders/{order.id}/release/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET=f"desk-row-{order.id}"
    )
    assert r.status_code == 200 and 'data-testid="claim"' in r.content.decode()
    assert not SupportClaim.objects.filter(order=order).exists()
    desk_claim(order_id=order.id, staff=colleague)  # now free for a colleague


def test_only_the_claimant_can_release(desk_orders, staff_user, colleague):
    order = desk_orders["study"]
    desk_claim(order_id=order.id, staff=staff_user)
    r = client_for(colleague).post(f"/support/orders/{order.id}/release/")
    assert r.status_code == 302  # back to the desk, with the refusal as a message
    assert SupportClaim.objects.get(order=order).staff == staff_user
    with pytest.raises(Conflict):
        desk_release(order_id=order.id, staff=colleague)


def test_claim_and_release_are_audited(desk_orders, staff_user):
    from geopera_web.audit.models import AuditEvent

    order = desk_orders["study"]
    desk_claim(order_id=order.id, staff=staff_user)
    desk_release(order_id=order.id, staff=staff_user)
    actions = list(AuditEvent.objects.filter(target_id=str(order.id)).values_list("action", flat=True))
    assert sorted(actions) == ["support.claim", "support.release"]


def test_claim_of_a_missing_or_archive_order_is_404(staff_user, desk_orders):
    import uuid

    assert client_for(staff_user).post(f"/support/orders/{uuid.uuid4()}/claim/").status_code == 404
    assert client_for(staff_user).get(f"/support/orders/{uuid.uuid4()}/claim/").status_code == 405


def test_claim_stays_with_the_order_when_it_moves_to_the_customer(desk_orders, staff_user):
    order = desk_orders["study"]
    desk_claim(order_id=order.id, staff=staff_user)
    upload_study(order, staff_user)
    assert names_on(staff_user, "state=customer&assignee=mine") == ["Kalgoorlie pit"]
    assert OrderGroup.objects.filter(order=order).exists()


@pytest.mark.django_db(transaction=True)
def test_two_staff_claiming_at_once_one_wins_the_other_is_told(staff_user, colleague):
    org = make_org(name="Race Org")
    operator = make_user(org=org, role="operator", email="op@race.example")
    order = place(org, operator)
    people = iter([staff_user, colleague])
    import threading

    lock = threading.Lock()

    def claim():
        with lock:
            me = next(people)
        return desk_claim(order_id=order.id, staff=me)

    results = run_concurrently(claim, threads=2)
    wins = [r for r in results if isinstance(r, SupportClaim)]
    losses = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert "already works on" in losses[0].detail
    assert SupportClaim.objects.get(order=order).staff_id == wins[0].staff_id


def test_the_order_page_shows_the_claim_and_claims_from_there(desk_orders, staff_user, colleague):
    order = desk_orders["study"]
    url = f"/support/orders/{order.id}/"
    page = client_for(staff_user).get(url).content.decode()
    assert "Nobody has claimed it" in page and 'data-testid="claim"' in page
    r = client_for(staff_user).post(f"{url}claim/", {"next": url})
    assert r.status_code == 302 and r["Location"] == url
    mine = client_for(staff_user).get(url).content.decode()
    assert "<strong>You</strong> claimed it" in mine and 'data-testid="release"' in mine
    theirs = client_for(colleague).get(url).content.decode()
    assert f"<strong>{staff_user.display_name}</strong> works on it" in theirs
    assert 'data-testid="claim"' not in theirs and 'data-testid="release"' not in theirs


def test_next_outside_the_desk_is_not_followed(desk_orders, staff_user):
    order = desk_orders["study"]
    for bad in ("https://evil.example/", "//evil.example/support/", "/support//evil", "/orders/"):
        r = client_for(staff_user).post(f"/support/orders/{order.id}/claim/", {"next": bad})
        assert r.status_code == 302 and r["Location"] == "/support/", bad
        desk_release(order_id=order.id, staff=staff_user)


def test_a_colleagues_claim_stops_another_study_or_quotation(org, operator_user, staff_user, colleague):
    from tasking.models import FeasibilityStudy
    from tests.factories import make_quotation, make_study

    order = place(org, operator_user)
    desk_claim(order_id=order.id, staff=colleague)
    with pytest.raises(Conflict, match="has claimed") as refused:
        make_study(order, staff_user)
    assert refused.value.extra["claimed_by"] in (colleague.display_name, colleague.email)
    assert not FeasibilityStudy.objects.filter(order=order).exists()
    # The claimant writes it; the quotation is held to the claim the same way.
    study = make_study(order, colleague)
    feasibility_decide(
        org=org,
        actor=make_user(org=org, role="admin", email="claims-admin@example.test"),
        study_id=study.id,
        option_id=study.options.get(price_credits__isnull=True).id,
    )
    with pytest.raises(Conflict):
        make_quotation(order, staff_user)
    assert make_quotation(order, colleague).order_id == order.id


def test_the_study_page_says_who_has_the_claim(org, operator_user, staff_user, colleague):
    from tasking.models import FeasibilityStudy

    order = place(org, operator_user)
    desk_claim(order_id=order.id, staff=colleague)
    now = timezone.now()
    r = client_for(staff_user).post(
        f"/support/orders/{order.id}/study/",
        {
            "option_count": 1,
            "deadline": timezone.localtime(now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "opt-0-description": "Standard",
            "opt-0-window_start": timezone.localtime(now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "opt-0-window_end": timezone.localtime(now + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M"),
            "opt-0-max_off_nadir": "25",
        },
    )
    assert r.status_code == 409 and "has claimed" in r.content.decode()
    assert not FeasibilityStudy.objects.filter(order=order).exists()
