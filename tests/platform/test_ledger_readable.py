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
