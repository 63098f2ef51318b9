"""Issue 16, item 7: the ledger reads as money, not as internals: Held / Charged / Released /
Refunded (never "Capture", which users read as a satellite capture), each row linked to its order by
name, a charge's "0" in Available explained, and the whole ledger as CSV for admins."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import make_archive_order, make_org, make_priced_capture, make_product, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    org = make_org(name="Ledger Org", credits=5_000_000)
    admin = make_user(org=org, role="admin", email="ledger-admin@example.test")
    operator = make_user(org=org, role="operator", email="ledger-op@example.test")
    product = make_product(pid="ledger-optical", rate=100, min_area=10.0)
    for i in range(3):
        make_priced_capture(product=product, bounds=(151 + i, -34, 151.1 + i, -33.9), scene_id=f"LG-{i}")
    return org, admin, operator


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_rows_use_money_words_and_link_their_order(shop):
    org, admin, _ = shop
    order = make_archive_order(org=org, actor=admin, scene_ids=["LG-0"])
    html = _client(admin).get("/billing/").content.decode()
    ledger = html[html.index('data-testid="ledger"') :]
    ledger = ledger[: ledger.index("</table>")]
    assert ">Held<" in ledger
    assert ">Capture<" not in ledger and ">Reservation<" not in ledger
    assert f'href="/orders/{order.id}/"' in ledger and order.display_name in ledger
    if 'data-kind="capture"' in ledger:
        assert ">Charged<" in ledger and "from the hold" in ledger


def test_the_page_costs_the_same_queries_for_one_order_or_three(shop):
    org, admin, _ = shop
    c = _client(admin)
    make_archive_order(org=org, actor=admin, scene_ids=["LG-0"])
    c.get("/billing/")
    with CaptureQueriesContext(connection) as one:
        c.get("/billing/")
    make_archive_order(org=org, actor=admin, scene_ids=["LG-1"])
    make_archive_order(org=org, actor=admin, scene_ids=["LG-2"])
    with CaptureQueriesContext(connection) as three:
        c.get("/billing/")
    assert len(three) == len(one)


def test_admins_download_the_ledger_as_csv_and_others_cannot(shop):
    org, admin, operator = shop
    order = make_archive_order(org=org, actor=admin, scene_ids=["LG-0"])
    from geopera_web.billing.models import LedgerEntry

    LedgerEntry.objects.filter(org=org, kind="topup").update(memo='=HYPERLINK("http://evil")')
    response = _client(admin).get("/billing/ledger.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["when_utc", "movement", "order_id"]
    body = rows[1:]
    assert len(body) == LedgerEntry.objects.filter(org=org).count()
    held = [r for r in body if r[1] == "Held"]
    assert held and held[0][2] == str(order.id) and held[0][3] == order.display_name
    assert all(not r[4].startswith("=") for r in body)  # no formula injection
    assert _client(operator).get("/billing/ledger.csv").status_code in (403, 404)


def test_the_dashboard_uses_the_same_words(shop):
    org, admin, _ = shop
    make_archive_order(org=org, actor=admin, scene_ids=["LG-0"])
    html = _client(admin).get("/").content.decode()
    assert "Held · " in html and "Reservation · " not in html and "Capture · " not in html


def test_billing_shows_each_orders_net_linked_and_it_matches_the_order_page_and_the_csv(shop):
    """Issue 16, item 7: net per order on Billing = charged − refunded, the order page's Net, and the
    sum of that order's Charged and Refunded rows in the ledger CSV."""
    from geopera_web.billing.services import charge_capture, charge_refund

    org, admin, _ = shop
    refunded = make_archive_order(org=org, actor=admin, scene_ids=["LG-0"])
    held = make_archive_order(org=org, actor=admin, scene_ids=["LG-1"])
    charge = refunded.charge
    charge_capture(charge_id=charge.pk)
    charge_refund(charge_id=charge.pk, credits=1_234)
    charge.refresh_from_db()
    net = charge.captured_credits - charge.refunded_credits
    assert net > 0

    c = _client(admin)
    html = c.get("/billing/").content.decode()
    table = html[html.index('data-testid="charges"') :]
    table = table[: table.index("</table>")]
    row = table[table.index(f'data-order="{refunded.id}"') :]
    row = row[: row.index("</tr>")]
    assert f'href="/orders/{refunded.id}/"' in row and refunded.display_name in row
    assert f"<strong>{net:,}</strong>" in row and f"−{1_234:,}" in row
    held_row = table[table.index(f'data-order="{held.id}"') :]
    held_row = held_row[: held_row.index("</tr>")]
    assert f"<strong>{held.charge.authorized_credits:,}</strong>" in held_row

    order_page = c.get(f"/orders/{refunded.id}/").content.decode()
    net_cell = order_page[order_page.index('data-testid="order-net"') :]
    assert f"{net:,}" in net_cell[: net_cell.index("</dd>")]

    response = c.get("/billing/ledger.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))[1:]
    mine = [r for r in rows if r[2] == str(refunded.id)]
    charged = sum(-int(r[6]) - int(r[7]) for r in mine if r[1] == "Charged")
    back = sum(int(r[6]) for r in mine if r[1] == "Refunded")
    assert charged - back == net


def _recent_links(html: str) -> list[str]:
    import re

    card = html[html.index("Recent money movements") :]
    card = card[: card.index("</table>")]
    return re.findall(r'<a href="([^"]+)" data-testid="recent-ledger-link">', card)


def test_the_dashboards_money_movements_link_their_order_or_their_ledger_entry(shop):
    from geopera_web.billing.models import LedgerEntry

    org, admin, _ = shop
    order = make_archive_order(org=org, actor=admin, scene_ids=["LG-0"])
    html = _client(admin).get("/").content.decode()
    links = _recent_links(html)
    rows = html.count('data-testid="recent-ledger-row"')
    assert rows == len(links) == min(5, LedgerEntry.objects.filter(org=org).count())
    assert f"/orders/{order.id}/" in links
    topup = LedgerEntry.objects.get(org=org, kind="topup")
    assert f"/billing/#ledger-entry-{topup.pk}" in links
    # The anchor exists on the billing page.
    assert f'id="ledger-entry-{topup.pk}"' in _client(admin).get("/billing/").content.decode()


def test_the_dashboard_never_links_another_orgs_order(shop):
    """A charge whose reference names another org's order links to the ledger entry, not to it."""
    from geopera_web.billing.models import LedgerEntry

    org, admin, _ = shop
    other = make_org(name="Elsewhere Ledger", credits=5_000_000)
    other_admin = make_user(org=other, role="admin")
    theirs = make_archive_order(org=other, actor=other_admin, scene_ids=["LG-1"])
    mine = make_archive_order(org=org, actor=admin, scene_ids=["LG-0"])
    mine.charge.reference = f"order:{theirs.id}"
    mine.charge.save(update_fields=["reference"])
    links = _recent_links(_client(admin).get("/").content.decode())
    assert f"/orders/{theirs.id}/" not in links
    held = LedgerEntry.objects.get(org=org, kind="reserve")
    assert f"/billing/#ledger-entry-{held.pk}" in links


def test_the_dashboard_costs_the_same_queries_for_one_order_or_five(shop):
    org, admin, _ = shop
    c = _client(admin)
    make_archive_order(org=org, actor=admin, scene_ids=["LG-0"])
    c.get("/")
    with CaptureQueriesContext(connection) as one:
        c.get("/")
    for i in (1, 2, 1, 2):
        make_archive_order(org=org, actor=admin, scene_ids=[f"LG-{i}"])
    with CaptureQueriesContext(connection) as five:
        html = c.get("/").content.decode()
    assert len(_recent_links(html)) == 5
    assert len(five) == len(one)
