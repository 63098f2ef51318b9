"""The unified inbox at scale: one statement per page over every registered decision kind, keyset
paging by a signed cursor, a constant number of queries whatever the page, its size or the number
of options, and a cheap count endpoint for the live refresh. Query counts, never timings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from geopera_web.accounts.models import Workspace
from orders.approvals.models import SpendApproval
from orders.inbox import decisions_page
from orders.models import DataProduct, Order, OrderGroup, OrderType
from tasking.models import FeasibilityOption, FeasibilityStudy, Quotation
from tests.factories import MANUAL_PRODUCT
from tests.geometry import box

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true", "HX-Target": "inbox-list"}
KINDS = ("feasibility", "quotation", "approval")


def seed_decisions(org, n: int, *, options_per_study: int = 2, workspace=None, ties: bool = True):
    """`n` pending decisions of the three kinds in turn, each on its own pending tasking order with
    one AOI, made in bulk. With `ties`, pairs of rows share a created_at (across kinds), so the
    order has to break ties by id. Returns [(created_at, id, kind)] newest first."""
    product = DataProduct.objects.get(id=MANUAL_PRODUCT)
    workspace = workspace or Workspace.objects.filter(org=org).first()
    orders = Order.objects.bulk_create(
        [
            Order(
                org=org,
                workspace=workspace,
                order_type=OrderType.TASKING,
                status=Order.Status.PENDING,
                display_name=f"Bulk order {i}",
                data_product=product,
                billing_mode=org.billing_mode,
                params={},
            )
            for i in range(n)
        ]
    )
    OrderGroup.objects.bulk_create(
        [
            OrderGroup(
                order=o,
                position=0,
                name="AOI 1",
                data_product=product,
                geometry=box(151.0, -33.6, 151.1, -33.5),
                area_km2=100.0,
                billed_area_km2=100.0,
                credits=1000,
            )
            for o in orders
        ]
    )
    now = timezone.now()
    studies, quotes, approvals = [], [], []
    for i, o in enumerate(orders):
        kind = KINDS[i % 3]
        if kind == "feasibility":
            studies.append(FeasibilityStudy(org=org, order=o, deadline=now + timedelta(days=3)))
        elif kind == "quotation":
            quotes.append(Quotation(org=org, order=o, credits=1000 + i, valid_until=now + timedelta(days=3)))
        else:
            approvals.append(
                SpendApproval(
                    org=org,
                    workspace=workspace,
                    order=o,
                    action=SpendApproval.Action.ARCHIVE_PLACE,
                    credits=2000 + i,
                    expires_at=now + timedelta(days=3),
                )
            )
    FeasibilityStudy.objects.bulk_create(studies)
    Quotation.objects.bulk_create(quotes)
    SpendApproval.objects.bulk_create(approvals)
    FeasibilityOption.objects.bulk_create(
        [
            FeasibilityOption(
                study=s,
                position=p,
                description=f"Option {p}",
                window_start=now + timedelta(days=1),
                window_end=now + timedelta(days=10 + p),
                max_off_nadir=20.0 + p,
                price_credits=None if p == 0 else 10_000 * p,
                valid_until=now + timedelta(days=3),
            )
            for s in studies
            for p in range(options_per_study)
        ]
    )
    # created_at is auto_now_add: spread it afterwards (pairs share one instant when `ties`).
    keys = []
    by_order = {
        d.order_id: (d, kind)
        for kind, rows in zip(KINDS, (studies, quotes, approvals), strict=True)
        for d in rows
    }
    for i, o in enumerate(orders):
        obj, kind = by_order[o.pk]
        created = now - timedelta(seconds=(i // 2 if ties else i) + 1)
        type(obj).objects.filter(pk=obj.pk).update(created_at=created)
        keys.append((created, obj.pk, kind))
    keys.sort(key=lambda k: (k[0], k[1]), reverse=True)
    return keys


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def count_queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return len(ctx), result


# --- the selector ---------------------------------------------------------------------------------


def test_keyset_pages_walk_every_decision_once_in_order_across_kinds_and_ties(org):
    keys = seed_decisions(org, 25)
    seen, cursor = [], None
    while True:
        page = decisions_page(org=org, size=7, cursor=cursor)
        seen += [(r.created_at, r.id, r.kind) for r in page.rows]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == keys  # every row once, newest first, ties broken by id, all three kinds


def test_offset_pages_agree_with_the_keyset_pages(org):
    keys = seed_decisions(org, 20)
    rows = decisions_page(org=org, size=6, offset=12).rows
    assert [(r.created_at, r.id, r.kind) for r in rows] == keys[12:18]


def test_kind_and_workspace_filters_come_from_the_registry(org):
    other_ws = Workspace.objects.create(org=org, name="Second")
    seed_decisions(org, 9)
    seed_decisions(org, 3, workspace=other_ws)
    quotes = decisions_page(org=org, size=50, kinds="quotation").rows
    assert {r.kind for r in quotes} == {"quotation"} and len(quotes) == 4
    assert len(decisions_page(org=org, size=50, workspace_id=str(other_ws.pk)).rows) == 3
    assert len(decisions_page(org=org, size=50, kinds=["approval", "feasibility"]).rows) == 8
    # An id that is no workspace's (schemathesis sent 0: the empty branches made a 500).
    for bogus in ("0", "not-a-uuid"):
        assert decisions_page(org=org, size=50, workspace_id=bogus).rows == []


def test_a_cancelled_orders_decision_and_another_orgs_are_not_listed(org, other_org):
    keys = seed_decisions(org, 6)
    seed_decisions(other_org, 6)
    first = FeasibilityStudy.objects.get(pk=next(k[1] for k in keys if k[2] == "feasibility"))
    Order.objects.filter(pk=first.order_id).update(status=Order.Status.CANCELLED)
    page = decisions_page(org=org, size=50, with_total=True)
    assert {r.id for r in page.rows} == {k[1] for k in keys} - {first.pk}
    # The statement's own SQL and the ORM's count (the badge, the poll) agree on what waits.
    from orders.inbox import decisions_pending_count

    assert page.total == decisions_pending_count(org=org) == 5
    quotes = decisions_page(org=org, size=50, kinds="quotation", with_total=True, with_total_all=True)
    assert quotes.total == decisions_pending_count(org=org, kinds="quotation") == 2
    assert quotes.total_all == 5


def test_the_page_is_one_statement_with_every_rows_payload_whatever_the_size_and_options(org):
    from tasking.api import _pending_out
    from tasking.views.common import sensor_of

    keys = seed_decisions(org, 60, options_per_study=5)

    def page_and_payload(**kw):
        page = decisions_page(org=org, with_total=True, **kw)
        shown = []
        for r in page.rows:  # what the page and the API read of a row: no further query
            shown.append(
                (
                    r.kind,
                    r.obj.order.display_name,
                    r.obj.order.workspace.name,
                    len(r.obj.inbox_aoi_features),
                    r.kind == "approval" or sensor_of(r.obj.order) is not None,  # as the page
                    [o.position for o in r.obj.options.all()] if r.kind == "feasibility" else None,
                    _pending_out(r)["id"],
                )
            )
        return page, shown

    counts = set()
    for kw in ({"size": 4}, {"size": 50}, {"size": 10, "offset": 40}):
        n, (page, shown) = count_queries(lambda kw=kw: page_and_payload(**kw))
        counts.add(n)
        assert (
            page.total == 60
            and [s[6] for s in shown] == [str(k[1]) for k in keys][kw.get("offset", 0) :][: kw["size"]]
        )
        studies = [s for s in shown if s[0] == "feasibility"]
        assert studies and all(s[5] == [0, 1, 2, 3, 4] for s in studies)
        assert all(s[3] == 1 and s[4] for s in shown)
    assert counts == {1}  # one statement: keys, payloads (options, AOIs, sensor) and the count
    cursor = decisions_page(org=org, size=10, offset=45).next_cursor
    n, (page, _) = count_queries(lambda: page_and_payload(size=10, cursor=cursor))
    assert n == 1 and len(page.rows) == 5 and page.next_cursor is None


def test_a_forged_or_damaged_cursor_is_refused(org):
    # It names no page: a 404, like an id that does not exist (the API refuses a string not even
    # shaped like a cursor with a 422 before it gets here).
    from geopera_web.errors import NotFound

    seed_decisions(org, 4)
    token = decisions_page(org=org, size=2).next_cursor
    for bad in (token[:-3] + "abc", "not-a-cursor", token.replace(":", "x", 1)):
        with pytest.raises(NotFound):
            decisions_page(org=org, size=2, cursor=bad)


# --- the API --------------------------------------------------------------------------------------


def test_api_page_one_and_a_far_page_cost_the_same_queries(org, api_admin):
    seed_decisions(org, 150, options_per_study=4)
    op = "orders.tasking.decisions.pending"
    api_admin.post(op, {"size": 1})  # the token's first use records last_used_at
    with CaptureQueriesContext(connection) as first:
        r1 = api_admin.post(op, {"size": 10})
    with CaptureQueriesContext(connection) as far:
        r2 = api_admin.post(op, {"size": 10, "page": 13})
    with CaptureQueriesContext(connection) as wide:
        r3 = api_admin.post(op, {"size": 100, "page": 1})
    assert r1.status_code == r2.status_code == r3.status_code == 200
    assert r1.json()["total"] == 150 and len(r2.json()["items"]) == 10 and len(r3.json()["items"]) == 50
    assert len(first) == len(far) == len(wide)
    assert r2.json()["nextCursor"] is None or isinstance(r2.json()["nextCursor"], str)


def test_api_cursor_paging_reaches_the_end_with_constant_queries(org, api_admin):
    keys = seed_decisions(org, 45)
    op = "orders.tasking.decisions.pending"
    api_admin.post(op, {"size": 1})  # the token's first use records last_used_at
    seen, cursor, counts = [], None, set()
    while True:
        with CaptureQueriesContext(connection) as q:
            body = api_admin.post(op, {"size": 10, **({"cursor": cursor} if cursor else {})}).json()
        counts.add(len(q))
        seen += [i["id"] for i in body["items"]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert seen == [str(k[1]) for k in keys]
    assert len(counts) == 1  # the last page costs what the first does


def test_api_kinds_lists_the_third_kind_and_refuses_unknown_ones(org, api_admin):
    seed_decisions(org, 6)
    op = "orders.tasking.decisions.pending"
    items = api_admin.post(op, {"kinds": "approval"}).json()["items"]
    assert len(items) == 2 and {i["kind"] for i in items} == {"approval"}
    assert api_admin.post(op, {"kinds": "approval,bogus"}).status_code == 422


def test_api_forged_cursor_is_404_and_a_non_cursor_422_never_500(org, api_admin):
    # Shaped like a cursor (the declared pattern) but not signed here: it names no page, like an
    # unknown id. Not even shaped like one: the document refuses it, so does the server.
    r = api_admin.post("orders.tasking.decisions.pending", {"cursor": "eyJ0IjoxfQ:forged:sig"})
    assert r.status_code == 404, r.content
    assert r.json()["errors"][0]["loc"] == ["body", "cursor"]
    r = api_admin.post("orders.tasking.decisions.pending", {"cursor": "not a cursor"})
    assert r.status_code == 422, r.content
    assert r.json()["detail"][0]["loc"] == ["body", "cursor"]


# --- the page -------------------------------------------------------------------------------------


def test_inbox_page_one_and_a_far_page_cost_the_same_queries(org, admin_user):
    seed_decisions(org, 120, options_per_study=6)
    c = client_for(admin_user)
    c.get("/inbox/")  # warm the session
    n1, r1 = count_queries(lambda: c.get("/inbox/"))
    html = r1.content.decode()
    assert html.count('data-testid="decision-row"') == 10
    # Walk to a far page by following "Older" links.
    url = "/inbox/"
    for _ in range(8):
        html = c.get(url, headers=HX).content.decode()
        after = html.split('data-testid="pager-older"')[0].rsplit('href="?', 1)[1].split('"')[0]
        url = "/inbox/?" + after.replace("&amp;", "&")
    n_far, r_far = count_queries(lambda: c.get(url))
    assert r_far.status_code == 200 and r_far.content.decode().count('data-testid="decision-row"') == 10
    assert n1 == n_far
    # session, user, membership | one statement: the page's rows with their payloads, the count,
    # both badges (inbox, notifications), the wallet, the workspaces
    assert n1 == 4


def test_inbox_page_is_at_most_five_queries_whatever_the_options_filters_role_and_page(
    org, admin_user, operator_user
):
    other = Workspace.objects.create(org=org, name="Second")
    seed_decisions(org, 40, options_per_study=1)
    seed_decisions(org, 30, options_per_study=8, workspace=other)
    counts = {}
    for who, user in (("admin", admin_user), ("operator", operator_user)):
        c = client_for(user)
        c.get("/inbox/")
        older = c.get("/inbox/").content.decode().split('data-testid="pager-older"')[0]
        after = older.rsplit('href="?', 1)[1].split('"')[0].replace("&amp;", "&")
        for url, headers in (
            ("/inbox/", {}),
            ("/inbox/?" + after, {}),
            ("/inbox/?kind=feasibility", {}),
            (f"/inbox/?workspace={other.pk}", {}),
            ("/inbox/?kind=approval", HX),
            ("/inbox/?after=garbage", {}),
        ):
            n, r = count_queries(lambda url=url, headers=headers, c=c: c.get(url, headers=headers))
            assert r.status_code == (400 if "garbage" in url else 200), (url, r.status_code)
            counts[(who, url)] = n
        html = c.get(f"/inbox/?workspace={other.pk}").content.decode()
        assert html.count('data-testid="decision-row"') == 10 and ">Second<" in html
        assert ('title="Only admins can' in html) == (who == "operator")
    assert max(counts.values()) <= 5, counts
    assert len(set(counts.values())) == 1, counts  # the same statement whatever is asked


def test_the_counts_folded_into_the_page_statement_are_the_real_counts(org, admin_user):
    from geopera_web.events.models import Notification

    seed_decisions(org, 7)  # 3 studies, 2 quotations, 2 approvals
    for i in range(3):
        Notification.objects.create(user=admin_user, org=org, kind="x", title=f"n{i}")
    Notification.objects.create(user=admin_user, org=org, kind="x", title="read", read_at=timezone.now())
    org.wallet.available_credits = 123_456
    org.wallet.save()
    html = client_for(admin_user).get("/inbox/?kind=quotation").content.decode()
    assert 'id="inbox-badge" class="badge" data-count="7"' in html  # the unfiltered badge
    assert '<span id="inbox-count-value">2</span> pending decisions (filtered)' in html
    assert 'data-testid="bell-count">3<' in html
    assert "123,456" in html  # the wallet in the layout, read in the same statement


def test_polling_is_a_count_not_the_list(org, admin_user):
    seed_decisions(org, 12)
    c = client_for(admin_user)
    html = c.get("/inbox/").content.decode()
    assert 'id="inbox-fresh"' in html and 'hx-trigger="every 15s"' in html
    fresh_url = (
        html.split('data-testid="inbox-fresh"')[1].split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    )
    n, r = count_queries(lambda: c.get(fresh_url))
    body = r.content.decode()
    assert r.status_code == 200 and 'data-new="0"' in body and 'data-testid="decision-row"' not in body
    assert n == 5  # session, user, membership, the newer-than count, the badge count
    seed_decisions(org, 3)  # three more arrive (created_at in the past: bump one to now)
    Quotation.objects.filter(org=org).order_by("-created_at").update(created_at=timezone.now())
    body = c.get(fresh_url).content.decode()
    assert 'data-testid="show-new"' in body and "new decision" in body
    assert 'id="inbox-badge"' in body and 'hx-swap-oob="true"' in body


def test_fresh_without_a_valid_since_is_400(org, admin_user):
    r = client_for(admin_user).get("/inbox/fresh/?since=yesterday")
    assert r.status_code == 400


def test_a_damaged_page_link_is_a_400_with_the_newest_rows(org, admin_user):
    seed_decisions(org, 4)
    r = client_for(admin_user).get("/inbox/?after=garbage")
    html = r.content.decode()
    assert r.status_code == 400 and 'data-testid="cursor-error"' in html
    assert html.count('data-testid="decision-row"') == 4


def test_inbox_shows_spend_approvals_and_filters_them(org, admin_user):
    seed_decisions(org, 6)
    html = client_for(admin_user).get("/inbox/?kind=approval").content.decode()
    assert html.count('data-kind="approval"') == 2 and 'data-kind="quotation"' not in html


def test_the_mini_map_geojson_built_in_sql_matches_the_orders_groups(org, admin_user):
    import json

    from tasking.views.common import aoi_geojson

    seed_decisions(org, 3)
    OrderGroup.objects.filter(order__org=org).update(name="")  # the "AOI n" default, made in SQL too
    html = client_for(admin_user).get("/inbox/").content.decode()
    for row in decisions_page(org=org, size=3).rows:
        marker = f'id="decision-{row.id}"'
        chunk = html.split(marker)[1]
        shown = chunk.split('data-geojson="')[1].split('"')[0].replace("&quot;", '"')
        order = Order.objects.get(pk=row.obj.order_id)
        assert json.loads(shown) == json.loads(aoi_geojson(order))
        assert "1 area ·" in chunk.split("</p>")[0] or row.kind == "approval"


def test_api_items_made_from_the_statements_json_equal_the_rows_loaded_by_the_orm(org, api_admin, admin_user):
    # The page's rows are model instances made from PostgreSQL's JSON: what the API serialises
    # from them is what it serialised from rows the ORM loaded (types, times, options, requester).
    import json

    from orders.approvals.kinds import approval_to_wire
    from tasking.api import quotation_out, study_out

    seed_decisions(org, 9, options_per_study=3)
    SpendApproval.objects.filter(org=org).update(requested_by=admin_user, note="Please")
    FeasibilityOption.objects.filter(study__org=org).update(max_off_nadir=20.0, expected_captures=2)
    items = api_admin.post("orders.tasking.decisions.pending", {"size": 50}).json()["items"]
    assert len(items) == 9
    by_kind = {
        "feasibility": lambda pk: study_out(FeasibilityStudy.objects.get(pk=pk)),
        "quotation": lambda pk: quotation_out(Quotation.objects.get(pk=pk)),
        "approval": lambda pk: approval_to_wire(SpendApproval.objects.get(pk=pk)),
    }
    for item in items:
        expected = json.loads(json.dumps(by_kind[item["kind"]](item["id"])))
        assert item == expected
    approval = next(i for i in items if i["kind"] == "approval")
    assert approval["requestedBy"] and approval["note"] == "Please"


def test_rows_folded_into_the_statement_keep_their_querysets_order(org):
    from geopera_web.accounts.models import Workspace as W

    for name in ("Zulu", "Alpha", "Mike"):
        W.objects.create(org=org, name=name)
    expected = list(W.objects.filter(org=org).values_list("name", flat=True))  # default first, by name
    page = decisions_page(
        org=org,
        size=5,
        extra_rows={
            "default_order": W.objects.filter(org=org),
            "by_name_desc": W.objects.filter(org=org).order_by("-name"),
        },
    )
    assert [w.name for w in page.extra["default_order"]] == expected
    assert [w.name for w in page.extra["by_name_desc"]] == sorted(expected, reverse=True)
    assert all(isinstance(w, W) and w.org_id == org.pk for w in page.extra["default_order"])
