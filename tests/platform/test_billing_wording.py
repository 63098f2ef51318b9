"""Issue 16, item 1 (what item 7 left): one word per money state on Billing (the Charges table and
the ledger agree), ledger descriptions from structured data (the order by name, linked, never a
stored UUID), a quotation's hold linked to its order, and the Charges table paged."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.test.utils import CaptureQueriesContext

from geopera_web.billing.ledger_rows import STATUS_OF_MOVEMENT, WORDS
from geopera_web.billing.models import Charge, LedgerEntry
from geopera_web.billing.services import charge_authorize, charge_capture, charge_release
from orders.services import order_cancel
from tests.factories import (
    make_archive_order,
    make_org,
    make_priced_capture,
    make_product,
    make_quotation,
    make_study,
    make_tasking_request,
    make_user,
    study_option,
)

pytestmark = pytest.mark.django_db
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def shop():
    org = make_org(name="Wording Org", credits=50_000_000)
    admin = make_user(org=org, role="admin", email="wording-admin@example.test")
    product = make_product(pid="wording-optical", rate=100, min_area=10.0)
    for i in range(3):
        make_priced_capture(product=product, bounds=(151 + i, -34, 151.1 + i, -33.9), scene_id=f"WD-{i}")
    return org, admin


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _table(html: str, testid: str) -> str:
    part = html[html.index(f'data-testid="{testid}"') :]
    return part[: part.index("</table>")]


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def _status_cells(table: str) -> list[str]:
    return re.findall(r'data-label="Status"><span class="status status-\w+">([^<]+)<', table)


def test_every_charge_status_reads_as_the_ledger_word_of_the_movement_that_set_it():
    assert set(STATUS_OF_MOVEMENT.values()) == set(Charge.Status.values)
    for kind, status in STATUS_OF_MOVEMENT.items():
        assert WORDS[kind] == Charge.Status(status).label
    assert {Charge.Status(s).label for s in Charge.Status.values} == {"Held", "Charged", "Released"}


def test_charges_table_and_ledger_say_held_charged_released_alike(shop):
    org, admin = shop
    held = make_archive_order(org=org, actor=admin, scene_ids=["WD-0"])
    charged = make_archive_order(org=org, actor=admin, scene_ids=["WD-1"])
    released = make_archive_order(org=org, actor=admin, scene_ids=["WD-2"])
    charge_capture(charge_id=charged.charge_id)
    charge_release(charge_id=released.charge_id)
    html = _client(admin).get("/billing/").content.decode()
    charges, ledger = _table(html, "charges"), _table(html, "ledger")
    assert sorted(_status_cells(charges)) == ["Charged", "Held", "Released"]
    assert "Captured" not in charges and "Authorized" not in charges
    for word in ("Held", "Charged", "Released"):
        assert f">{word}<" in ledger
    order_page = _client(admin).get(f"/orders/{charged.id}/").content.decode()
    assert 'status-captured">Charged<' in order_page and "Captured" not in order_page
    assert held.charge.status == "authorized"


def test_a_cancelled_orders_rows_name_it_and_store_no_id(shop):
    org, admin = shop
    order = make_archive_order(org=org, actor=admin, scene_ids=["WD-0"])
    charge_capture(charge_id=order.charge_id)
    order.refresh_from_db()
    order_cancel(org=org, actor=admin, order_id=order.pk)
    memos = list(LedgerEntry.objects.filter(org=org).values_list("memo", flat=True))
    assert memos and not [m for m in memos if UUID.search(m)]
    refund = LedgerEntry.objects.get(org=org, kind="refund")
    assert refund.memo == "Cancelled"
    ledger = _table(_client(admin).get("/billing/").content.decode(), "ledger")
    row = ledger[ledger.index('data-kind="refund"') :]
    row = row[: row.index("</tr>")]
    assert f'href="/orders/{order.id}/"' in row and order.display_name in row and "Cancelled" in row
    assert not UUID.search(_text(ledger))


def test_a_legacy_memo_with_an_id_is_not_shown_the_order_is_linked_instead(shop):
    org, admin = shop
    order = make_archive_order(org=org, actor=admin, scene_ids=["WD-0"])
    charge_capture(charge_id=order.charge_id)
    LedgerEntry.objects.filter(org=org, kind="capture").update(
        memo=f"Order {order.pk} cancelled: charged for the imagery delivered"
    )
    html = _client(admin).get("/billing/").content.decode()
    ledger = _table(html, "ledger")
    assert f'href="/orders/{order.id}/"' in ledger
    assert str(order.pk) not in _text(ledger)
    csv_body = b"".join(_client(admin).get("/billing/ledger.csv").streaming_content).decode()
    memo_column = [line.split(",")[4] for line in csv_body.splitlines()[1:]]
    assert not [m for m in memo_column if UUID.search(m)]


def test_a_quotation_hold_links_its_order_in_the_ledger_and_charges(org, admin_user, staff_user):
    from tasking.services import feasibility_decide, quotation_decide, sensor_catalog_seed

    sensor_catalog_seed()
    order = make_tasking_request(org, admin_user)
    study = make_study(order, staff_user, options=[study_option(None)])
    feasibility_decide(org=org, actor=admin_user, study_id=study.id, option_id=study.options.get().id)
    quotation = make_quotation(order, staff_user, credits=40_000)
    quotation_decide(org=org, actor=admin_user, quotation_id=quotation.pk, decision="ACCEPTED")
    order.refresh_from_db()
    assert order.charge.reference == f"tasking:{order.pk}"
    html = _client(admin_user).get("/billing/").content.decode()
    ledger, charges = _table(html, "ledger"), _table(html, "charges")
    hold = ledger[ledger.index('data-kind="reserve"') :]
    hold = hold[: hold.index("</tr>")]
    assert f'href="/orders/{order.id}/"' in hold and "(quotation)" in hold
    assert f'data-order="{order.id}"' in charges and f'href="/orders/{order.id}/"' in charges


def test_charges_are_paged_and_a_page_costs_the_same_queries_however_many_there_are(shop):
    org, admin = shop

    def add(n: int) -> None:
        for _ in range(n):
            charge_authorize(org=org, credits=100, reference=f"order:{uuid.uuid4()}", description="Manual")

    c = _client(admin)
    add(21)
    c.get("/billing/")
    with CaptureQueriesContext(connection) as few:
        first = c.get("/billing/").content.decode()
    add(30)
    with CaptureQueriesContext(connection) as many:
        c.get("/billing/")
    assert len(many) == len(few)
    assert first.count('data-testid="charge-row"') == 20 and 'data-testid="pager-charges_page"' in first
    last = c.get("/billing/?charges_page=3").content.decode()
    assert last.count('data-testid="charge-row"') == 11 and "Page 3 of 3" in last
    # Paging the charges keeps the ledger's page (51 holds: the ledger has three pages too).
    both = c.get("/billing/?page=2&charges_page=2").content.decode()
    pager = both[both.index('data-testid="pager-charges_page"') :]
    assert "?page=2&amp;charges_page=3#charges" in pager or "?page=2&charges_page=3#charges" in pager


MIGRATION_BEFORE = ("billing", "0002_wallet_move_credits_permission")
MIGRATION_AFTER = ("billing", "0003_charge_words_ledger_memos_without_ids")


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_rewrites_stored_memos_that_carry_order_ids():
    org = make_org(name="Migration Org", credits=1_000)
    oid = uuid.uuid4()
    old_to_new = {
        f"Order {oid} cancelled: charged for the imagery delivered": "Cancelled: charged for the imagery delivered",
        f"Order {oid} cancelled: charged for the imagery delivered: the rest released": (
            "Cancelled: the share not delivered released"
        ),
        f"Order {oid} cancelled": "Cancelled",
        f"Order {oid} failed": "The provider could not fulfil the order",
        f"Refund for order:{oid}": "Refund",
        f"tasking:{oid}": "",
        "Nothing acquired for Test tasking order": "Nothing acquired in the acquisition window",
        "Pro-rata refund: uncovered remainder of Test": "Pro-rata refund for the uncovered remainder",
        f"Moved by hand for {oid}": "Moved by hand for the order",
        "Welcome credits": "Welcome credits",
    }
    try:
        old = _migrate(MIGRATION_BEFORE)
        Entry = old.get_model("billing", "LedgerEntry")
        ids = {
            Entry.objects.create(
                org_id=org.pk,
                kind="adjustment",
                available_delta=0,
                available_after=0,
                reserved_after=0,
                memo=m,
            ).pk: m
            for m in old_to_new
        }
        new = _migrate(MIGRATION_AFTER).get_model("billing", "LedgerEntry")
        got = {ids[pk]: memo for pk, memo in new.objects.filter(pk__in=ids).values_list("pk", "memo")}
        assert got == old_to_new
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_a_note_does_not_repeat_the_linked_orders_name():
    from geopera_web.billing.ledger_rows import _note

    assert _note("Tasking: Vines (quotation)", "Vines") == "Tasking (quotation)"
    assert _note("Vines", "Vines") == ""
    assert _note("Cancelled: charged for the imagery delivered", "Vines") == (
        "Cancelled: charged for the imagery delivered"
    )
    assert _note(f"Order {uuid.uuid4()} failed", "Vines") == ""
