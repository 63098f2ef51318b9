"""The order page shows the order's lineage (workspace, groups with their delivered captures,
deliveries, decisions), from the same walk as provenance.get."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import deliver, make_study, make_tasking_order, make_tasking_request
from tests.geometry import square_degrees

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_order_page_lists_groups_captures_and_deliveries(org, viewer_user):
    order = make_tasking_order(org=org, aois=[square_degrees(151.0, -33.5, 0.05)], names=["Harbour"])
    deliver(order, order.groups.get(), [square_degrees(151.0, -33.5, 0.03)], ref="batch-z")
    page = _client(viewer_user).get(f"/orders/{order.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    section = html[html.index('id="order-lineage"') :]
    assert "Workspace <strong>Default workspace</strong>" in section
    assert "Harbour" in section and "batch-z-0" in section and "batch-z" in section
    assert "1 capture" in section


def test_order_page_lineage_shows_a_pending_study(org, operator_user, staff_user):
    order = make_tasking_request(org, operator_user)
    make_study(order, staff_user)
    html = _client(operator_user).get(f"/orders/{order.pk}/").content.decode()
    section = html[html.index('id="order-lineage"') :]
    assert "Feasibility study" in section and "pending" in section


def test_order_page_lineage_pages_a_groups_captures_and_reaches_all_of_provenance(org, viewer_user, settings):
    """The page lists a group's first ORDER_PAGE_MAX_ROWS captures with the group's total; "Show
    more" pages the rest; together they are exactly the captures provenance.get's walk finds."""
    import re

    from orders.lineage.graph import lineage_get

    settings.ORDER_PAGE_MAX_ROWS = 4
    order = make_tasking_order(org=org, aois=[square_degrees(151.0, -33.5, 0.05)], names=["Harbour"])
    group = order.groups.get()
    for b in range(3):
        deliver(order, group, [square_degrees(151.0, -33.5, 0.01)] * 3, ref=f"batch-{b}")
    client = _client(viewer_user)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    section = html[html.index('id="order-lineage"') :]
    group_li = section[section.index(f'id="lineage-group-{group.pk}"') :]
    group_li = group_li[: group_li.index('id="lineage-delivery-')]
    assert "· 9 captures" in group_li and "4 of 9 shown" in group_li
    first = re.findall(r'data-kind="item">.*?<code>([^<]+)</code>', group_li)
    assert len(first) == 4
    shown, fragment = list(first), group_li
    while match := re.search(r'data-testid="lineage-more" hx-get="([^"]+)"', fragment):
        fragment = client.get(match.group(1)).content.decode()
        shown += re.findall(r'data-kind="item">.*?<code>([^<]+)</code>', fragment)
    walk = lineage_get(org=org, entity_type="group", entity_id=str(group.pk), direction="down", max_depth=1)
    assert sorted(shown) == shown  # by scene id, as before
    assert shown == sorted(n["label"] for n in walk.nodes if n["entity_type"] == "item")
    # Each delivery still says how many captures it brought.
    assert section.count("· 3 captures") == 3


def test_order_page_lineage_pages_deliveries_newest_first_and_reaches_all_of_provenance(
    org, viewer_user, settings
):
    """The lineage lists the newest ORDER_PAGE_MAX_ROWS delivery batches, each with its number of
    captures; "Show more deliveries" pages the rest; together, provenance.get's batches once each."""
    import re

    from orders.lineage.graph import lineage_get

    settings.ORDER_PAGE_MAX_ROWS = 2
    order = make_tasking_order(org=org, aois=[square_degrees(151.0, -33.5, 0.05)])
    group = order.groups.get()
    for b in range(5):
        deliver(order, group, [square_degrees(151.0, -33.5, 0.01)] * (b + 1), ref=f"batch-{b}")
    client = _client(viewer_user)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    section = html[html.index('id="order-lineage"') :]
    node = re.compile(
        r'id="lineage-delivery-(\d+)" data-kind="delivery">.*?</span> ([^<\s]+).*?· (\d+) capture', re.S
    )
    shown = node.findall(section)
    assert [ref for _, ref, _ in shown] == ["batch-4", "batch-3"]  # the newest first
    assert "2 of 5 deliveries shown" in section
    fragment = section
    while match := re.search(r'data-testid="lineage-deliveries-more" hx-get="([^"]+)"', fragment):
        fragment = client.get(match.group(1)).content.decode()
        shown += node.findall(fragment)
    assert [ref for _, ref, _ in shown] == [f"batch-{b}" for b in (4, 3, 2, 1, 0)]
    assert [int(n) for _, _, n in shown] == [5, 4, 3, 2, 1]
    walk = lineage_get(org=org, entity_type="order", entity_id=str(order.pk), direction="down", max_depth=1)
    assert sorted(i for i, _, _ in shown) == sorted(
        n["entity_id"] for n in walk.nodes if n["entity_type"] == "delivery"
    )
