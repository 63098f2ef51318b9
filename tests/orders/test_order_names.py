"""Issue 16, item 12: an archive order placed without a name gets one a person can tell apart in a
list (the product and the capture, or the count and dates), not "Archive: 3 capture(s)"."""

from __future__ import annotations

import datetime as dt

import pytest

from orders.models import OrderEvent
from tests.factories import make_archive_order, make_org, make_priced_capture, make_product, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer():
    org = make_org(name="Names Org", credits=5_000_000)
    return org, make_user(org=org, role="operator", email="names@example.test")


def test_one_capture_is_named_by_product_and_scene(buyer):
    org, user = buyer
    product = make_product(pid="names-optical", rate=100, min_area=10.0)
    make_priced_capture(product=product, bounds=(151.1, -33.95, 151.2, -33.85), scene_id="NM-1")
    order = make_archive_order(org=org, actor=user, scene_ids=["NM-1"])
    assert order.display_name == f"{product.name} · NM-1"


def test_several_captures_are_named_by_count_and_dates_and_events_say_plurals(buyer):
    org, user = buyer
    product = make_product(pid="names-optical", rate=100, min_area=10.0)
    for i, day in enumerate((1, 4, 4)):
        make_priced_capture(
            product=product,
            bounds=(151.1 + i / 10, -33.95, 151.2 + i / 10, -33.85),
            scene_id=f"NM-{i}",
            acquired_at=dt.datetime(2026, 3, day, 1, tzinfo=dt.UTC),
        )
    order = make_archive_order(org=org, actor=user, scene_ids=["NM-0", "NM-1", "NM-2"])
    assert order.display_name == f"{product.name} · 3 captures, 1 Mar 2026 – 4 Mar 2026"
    messages = " ".join(OrderEvent.objects.filter(order=order).values_list("message", flat=True))
    assert "(s)" not in messages
    assert "3 captures in 1 priced group for" in messages
