"""Issue 16, item 5: an order's timeline speaks plain language: lifecycle steps in words (not
`pending/QUOTATION_WAITING_RESPONSE`), money formatted, no "(s)" plurals."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from orders.states import lifecycle_step
from tests.tasking.test_order_states import make_four_waiting

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "raw, words",
    [
        ("pending/QUOTATION_WAITING_RESPONSE", "Waiting for your answer to the quote"),
        ("pending/FEASIBILITY_WAITING_UPLOAD", "Feasibility in progress"),
        ("active/QUOTATION_ACCEPTED", "Accepted: acquiring"),
        ("cancelled/QUOTATION_ACCEPTED", "Cancelled"),
        ("partially_fulfilled/QUOTATION_ACCEPTED", "Partially fulfilled"),
        ("draft", "Draft"),
        ("fulfilled", "Fulfilled"),
        ("processing", "Processing"),
        ("weird/VALUE", "weird/VALUE"),
    ],
)
def test_lifecycle_steps_in_words(raw, words):
    assert lifecycle_step(raw)[0] == words


def test_the_order_page_timeline_shows_no_internal_codes(org, operator_user, admin_user, staff_user):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()
    orders = make_four_waiting(org, operator_user, admin_user, staff_user)
    c = Client()
    c.force_login(admin_user)
    html = c.get(f"/orders/{orders['quote_pending'].id}/").content.decode()
    timeline = html[html.index('id="order-timeline"') :]
    timeline = timeline[: timeline.index("</ol>")]
    shown = re.sub(r"<[^>]+>", " ", timeline)  # the visible text, not attributes
    assert not re.search(r"[a-z_]+/[A-Z_]{4,}", shown), shown
    assert "Waiting for your answer to the quote" in shown
    assert "(s)" not in shown
