"""What a look through the product at 1280 and 390 px found broken, in Chromium: notifications
squeezed beside their buttons on a phone (the page wider than the screen), an order's scene-id
chips sliding over their cell's label, the wallet figure cut to "1,012,7…", unstyled inputs and a
stretched Save on the spend policies page, totals rows in capitals ("500 CR"), the tasking form's
recurrence fields offered (and sent) while the capture frequency is "Once", selects 3 px shorter
than the inputs beside them, "1,109,587" over "cr" in a credits column, and the coverage page's
AOI table scrolling sideways on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from geopera_web.events.notifications import notify_users
from tests.browser.test_phone_layout import OVERFLOWERS, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

_INSIDE = """([inner, outer]) => {
  const out = [];
  document.querySelectorAll(inner).forEach((el) => {
    const box = el.getBoundingClientRect(), cell = el.closest(outer).getBoundingClientRect();
    if (box.left < cell.left - 0.5 || box.right > cell.right + 0.5) out.push(el.textContent.trim());
  });
  return out;
}"""


@pytest.fixture(autouse=True)
def catalog(db):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()


def test_notifications_and_long_chips_fit_a_phone(live_server, page, login, org, admin_user):
    from tests.factories import make_archive_order, make_priced_capture, make_product

    for i in range(3):
        notify_users(
            users=[admin_user.pk],
            org_id=org.pk,
            kind="order.status_changed",
            title=f"Mudgee vineyard survey {i} is now cancelled",
            body="239,736 credits (A$2,397.36) were charged for the imagery already delivered; the "
            "remaining 660,264 credits (A$6,602.64) of the reservation were released back to your wallet.",
            link="/orders/",
        )
    product = make_product(pid="ui-chips", rate=5, min_area=0.0)
    ids = ["sentinel-2b_20260330T004010_7e8-0002211", "sentinel-2a_20251112T004805_7e8-0000650"]
    make_priced_capture(product=product, bounds=(151.10, -33.95, 151.12, -33.93), scene_id=ids[0])
    make_priced_capture(product=product, bounds=(151.11, -33.95, 151.13, -33.93), scene_id=ids[1])
    org.wallet.available_credits = 1_012_787
    org.wallet.save()
    order = make_archive_order(org=org, actor=admin_user, scene_ids=ids)

    page.set_viewport_size(PHONE)
    login(admin_user)
    page.goto(live_server.url + "/notifications/")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], page.evaluate(OVERFLOWERS)
    # The text has the card's width, the buttons go below it.
    first = page.get_by_test_id("notification").first
    text_box = first.locator("> div").first.bounding_box()
    assert text_box["width"] > 300, text_box
    assert first.locator(".notif-actions").bounding_box()["y"] > text_box["y"] + text_box["height"] - 1

    # The wallet shows its whole figure, not "1,012,7…".
    chip = page.locator(".wallet-chip")
    assert chip.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1"), chip.bounding_box()
    expect(page.locator("#wallet-available")).to_be_visible()
    credits = page.locator("#wallet-available").bounding_box()
    assert credits["x"] + credits["width"] <= chip.bounding_box()["x"] + chip.bounding_box()["width"] + 1

    page.goto(live_server.url + f"/orders/{order.pk}/")
    assert page.evaluate(_INSIDE, ["#order-groups-table .chip", "td"]) == []
    # The Captures label keeps its room: no chip starts left of where the label ends.
    label_right = page.evaluate(
        """() => { const td = document.querySelector('#order-groups-table td[data-label="Captures"]');
                   const s = getComputedStyle(td, '::before'); return td.getBoundingClientRect().left + parseFloat(s.width); }"""
    )
    for box in page.locator("#order-groups-table .chip").evaluate_all(
        "(els) => els.map((e) => e.getBoundingClientRect().left)"
    ):
        assert box >= label_right - 0.5
    # The totals row reads "Total 500 cr", not "TOTAL 500 CR".
    assert (
        page.locator("#order-groups-table tfoot th").first.evaluate(
            "(el) => getComputedStyle(el).textTransform"
        )
        == "none"
    )


def test_spend_policy_inputs_look_like_every_other_input(live_server, page, login, admin_user):
    login(admin_user)
    page.goto(live_server.url + "/policies/")
    threshold = page.get_by_test_id("org-threshold")
    assert threshold.evaluate("(el) => getComputedStyle(el).borderRadius") == "8px"
    form = page.get_by_test_id("org-policy").locator("form")
    save = page.get_by_test_id("save-org-policy")
    assert save.bounding_box()["width"] < form.bounding_box()["width"] / 2  # not stretched across
    budget = page.get_by_test_id("budget-input").first
    assert budget.evaluate("(el) => getComputedStyle(el).borderRadius") == "8px"
    # Each input under its own heading: the budget input's column is the "Monthly budget" one.
    heading = page.locator(
        "[data-testid=workspace-policies] thead th", has_text="Monthly budget"
    ).bounding_box()
    box = budget.bounding_box()
    assert heading["x"] - 1 <= box["x"] <= heading["x"] + heading["width"]

    # And a row's Save still sends both of its inputs.
    budget.fill("1,234,000")
    page.locator("[data-testid=workspace-row]").first.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("budget-input").first).to_have_value("1,234,000")


def test_recurrence_fields_only_show_for_a_repeating_frequency(live_server, page, login, admin_user):
    login(admin_user)
    page.goto(live_server.url + "/tasking/new/")
    freq = page.locator("#param-captureFrequency")
    values = freq.locator("option").evaluate_all("(os) => os.map((o) => o.value)")
    assert "ONCE" in values and any(v != "ONCE" for v in values), values
    repeating = next(v for v in values if v != "ONCE")
    fields = [page.locator(f'[data-param="{n}"]') for n in ("occurrences", "recurUntil", "rollRemainder")]

    freq.select_option("ONCE")
    for field in fields:
        expect(field).to_be_hidden()
    assert page.locator("#param-occurrences").is_disabled()  # not sent with a one-off request

    freq.select_option(repeating)
    for field in fields:
        expect(field).to_be_visible()
    page.fill("#param-occurrences", "4")
    assert page.locator("#param-occurrences").is_enabled()

    freq.select_option("ONCE")
    expect(fields[0]).to_be_hidden()
    assert (
        page.evaluate(
            "() => new FormData(document.querySelector('#param-occurrences').form).has('occurrences')"
        )
        is False
    )


def test_selects_stand_as_tall_as_inputs_and_figures_keep_their_unit(
    live_server, page, login, org, admin_user
):
    from tests.factories import make_tasking_order

    make_tasking_order(org=org, aois=[(151.0, -33.0, 151.1, -32.9)], credits=[91_587])
    login(admin_user)
    page.goto(live_server.url + "/tasking/new/")
    text = page.locator("#param-displayName").bounding_box()["height"]
    select = page.locator("#param-captureFrequency").bounding_box()["height"]
    assert abs(text - select) < 1, (text, select)
    page.goto(live_server.url + "/orders/")
    cell = page.locator(".table td.num").first
    assert cell.evaluate("(el) => getComputedStyle(el).whiteSpace") == "nowrap"  # "91,587 cr" on one line


def test_the_coverage_table_stacks_on_a_phone(live_server, page, login, org, admin_user):
    from orders.coverage.services import coverage_recompute
    from tests.factories import deliver, make_tasking_order

    order = make_tasking_order(org=org, aois=[(151.0, -33.0, 151.1, -32.9)], names=["Dalby cotton block"])
    deliver(order, order.groups.get(), [(150.9, -33.1, 151.05, -32.8)], ref="ui-half")
    coverage_recompute(order_id=order.pk)

    page.set_viewport_size(PHONE)
    login(admin_user)
    page.goto(live_server.url + f"/orders/{order.pk}/coverage/")
    table = page.get_by_test_id("coverage-table")
    assert table.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1")  # nothing scrolled off to the right
    expect(page.get_by_test_id("retask")).to_be_visible()
    box = page.get_by_test_id("retask").bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"]
    assert page.locator("[data-testid=coverage-row] td[data-label='Remainder km²']").count() == 1


def test_support_study_editor_and_inbox_filters_fit_a_phone(
    live_server, page, login, org, operator_user, admin_user, staff_user
):
    from geopera_web.accounts.models import Workspace
    from tests.factories import make_tasking_request

    order = make_tasking_request(org, operator_user)
    Workspace.objects.create(org=org, name="Second workspace")
    page.set_viewport_size(PHONE)

    login(staff_user)
    page.goto(live_server.url + f"/support/orders/{order.pk}/")
    # A date-time field shows its whole value ("12/(" in a quarter of the row before).
    assert page.locator("#opt-0-window_start").bounding_box()["width"] > 300
    page.goto(live_server.url + "/support/")
    meta = page.locator(".desk-meta .nowrap").first
    expect(meta).to_contain_text("est.")
    assert meta.evaluate("(el) => getComputedStyle(el).whiteSpace") == "nowrap"  # never "505,473" over "cr"

    page.context.clear_cookies()
    login(admin_user)
    page.goto(live_server.url + "/inbox/")
    kind, ws = page.locator("#f-kind").bounding_box(), page.locator("#f-ws").bounding_box()
    assert abs(kind["x"] - ws["x"]) < 1 and ws["y"] > kind["y"]  # each label beside its own select
