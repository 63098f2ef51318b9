"""An order with many deliveries: the order page, orders.get and orders.list_assets run a constant
number of queries whatever the number of deliveries, read no footprint they do not draw, and the
page's cancel preview takes a current coverage snapshot instead of computing coverage again."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.coverage.calculations import compute_group_coverage
from orders.coverage.services import coverage_recompute
from orders.models import DeliveredCapture
from tests.factories import deliver, make_tasking_order

pytestmark = pytest.mark.django_db
AOI = (150.0, -34.0, 150.4, -33.7)
# The footprint column read as a column (in a select list), not inside a PostGIS function.
RAW_FOOTPRINT = re.compile(r'[\s,]"orders_deliveredcapture"\."footprint"')
COVERAGE_COMPUTE = "ST_Subdivide"


def _strips(n: int, start: int = 0) -> list[tuple[float, float, float, float]]:
    return [(150.0 + 0.01 * i, -34.05, 150.008 + 0.01 * i, -33.9) for i in range(start, start + n)]


def _order_with(org, deliveries: int):
    order = make_tasking_order(org=org, aois=[AOI])
    group = order.groups.get()
    for b in range(0, deliveries, 5):
        deliver(order, group, _strips(min(5, deliveries - b), b), ref=f"batch-{b}")
    coverage_recompute(order_id=order.pk)
    return order


def _page(user, order):
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("orders:detail", kwargs={"order_id": order.pk}))
    assert response.status_code == 200
    return response, [q["sql"] for q in queries.captured_queries]


def test_order_page_queries_do_not_grow_with_deliveries_nor_read_footprints(org, admin_user, settings):
    settings.ORDER_PAGE_MAX_ROWS = 50  # all 30 on the first page
    few, many = _order_with(org, 1), _order_with(org, 30)
    response_few, few_sql = _page(admin_user, few)
    response_many, many_sql = _page(admin_user, many)
    assert len(response_many.context["assets"]) == 30 and response_many.context["assets_total"] == 30
    assert response_many.context["assets"][0]["href"].endswith(".tif")
    assert len(few_sql) > 0 and len(many_sql) == len(few_sql)
    assert not [q for q in many_sql if RAW_FOOTPRINT.search(q)]


def test_cancel_preview_on_the_page_reads_a_current_snapshot_and_computes_a_stale_one(org, admin_user):
    order = _order_with(org, 10)
    response, sql = _page(admin_user, order)
    assert not [q for q in sql if COVERAGE_COMPUTE in q]
    (now,) = compute_group_coverage(order_id=order.pk, group_ids=[order.groups.get().pk])
    (line,) = response.context["cancel_effect"].lines
    assert line.remainder_share == pytest.approx(round(now.remainder_km2 / now.requested_km2, 6), abs=1e-9)
    charged = response.context["cancel_effect"].charged_credits
    assert charged > 0

    # A delivery whose recompute has not run yet: the preview computes (and charges for) it.
    deliver(order, order.groups.get(), _strips(5, 10), ref="late")
    response, sql = _page(admin_user, order)
    assert [q for q in sql if COVERAGE_COMPUTE in q]
    assert response.context["cancel_effect"].charged_credits > charged


def _assets_queries(api, order) -> tuple[dict, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = api.post("orders.list_assets", {"order_id": str(order.pk)})
    assert response.status_code == 200, response.content
    return response.json(), [q["sql"] for q in queries.captured_queries]


def test_list_assets_and_get_are_constant_queries_and_list_assets_parses_no_footprint(org, api_viewer):
    few, many = _order_with(org, 1), _order_with(org, 30)
    _assets_queries(api_viewer, few)  # the token's first use writes its last-use time once
    body_few, few_sql = _assets_queries(api_viewer, few)
    body_many, many_sql = _assets_queries(api_viewer, many)
    assert body_many["numberMatched"] == 30 and len(body_few["features"]) == 1
    assert len(many_sql) == len(few_sql)
    assert not [q for q in many_sql if RAW_FOOTPRINT.search(q)]
    # What PostGIS wrote is the footprint itself.
    item = body_many["features"][0]
    stored = DeliveredCapture.objects.get(order=many, scene_id=item["id"]).footprint
    assert GEOSGeometry(json.dumps(item["geometry"])).equals_exact(stored, 1e-12)
    assert item["bbox"] == pytest.approx(list(stored.extent), abs=1e-12)
    assert item["properties"]["geopera:group_name"] == str(many.groups.get())

    counts = []
    for order in (few, many):
        with CaptureQueriesContext(connection) as queries:
            assert api_viewer.post("orders.get", {"order_id": str(order.pk)}).status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


# --- bounded page: every list shows ORDER_PAGE_MAX_ROWS rows with its total; the rest page in place


def _order_in_batches(org, batches: int, per_batch: int):
    """An order whose deliveries come in `batches` batches of `per_batch` captures each."""
    order = make_tasking_order(org=org, aois=[AOI])
    group = order.groups.get()
    for b in range(batches):
        deliver(order, group, _strips(per_batch, b * per_batch), ref=f"batch-{b}")
    coverage_recompute(order_id=order.pk)
    return order


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CSRF = re.compile(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')


def _size_without_digits(html: str) -> int:
    # Ids, tokens, totals, scene ids and times differ from order to order; what a bounded page may
    # not do is grow by rows.
    return len(re.sub(r"[\d,]", "", CSRF.sub(r"\1", UUID.sub("", html))))


def test_order_page_size_and_rows_do_not_grow_with_deliveries(org, admin_user, settings):
    settings.ORDER_PAGE_MAX_ROWS = 2
    small, big = _order_in_batches(org, 3, 4), _order_in_batches(org, 3, 40)
    response_small, small_sql = _page(admin_user, small)
    response_big, big_sql = _page(admin_user, big)
    assert len(small_sql) == len(big_sql)
    html = response_big.content.decode()
    assert html.count('data-testid="asset"') == 2 and len(response_big.context["assets"]) == 2
    assert 'data-testid="assets-total">120 captures delivered<' in html
    assert "2 of 120 shown" in html
    lineage = html[html.index('id="order-lineage"') :]
    assert lineage.count('data-kind="item"') == 2 and "· 120 captures" in lineage
    assert lineage.count('data-kind="delivery"') == 2 and "2 of 3 deliveries shown" in lineage
    timeline = html[html.index('id="order-timeline"') : html.index("</ol>")]
    assert timeline.count('data-testid="timeline-item"') == 2
    # An order of 12 captures pages the same way: its page differs only in ids and figures.
    assert _size_without_digits(html) == _size_without_digits(response_small.content.decode())
    # And so does one with three times the batches and many more captures (bytes bounded by rows,
    # not by deliveries).
    bigger = _order_in_batches(org, 9, 20)
    response_bigger, bigger_sql = _page(admin_user, bigger)
    assert len(bigger_sql) == len(big_sql)
    assert _size_without_digits(response_bigger.content.decode()) == _size_without_digits(html)


def _follow(client, first_html: str, testid: str, url_name: str, order, **kwargs) -> list[str]:
    """Press "Show more" until there is none; returns each fragment's HTML in order."""
    pages, html = [], first_html
    pattern = re.compile(rf'data-testid="{testid}" hx-get="([^"]+)"')
    while match := pattern.search(html):
        url = match.group(1).replace("&amp;", "&")
        assert url.startswith(reverse(url_name, kwargs={"order_id": order.pk, **kwargs}))
        response = client.get(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        html = response.content.decode()
        pages.append(html)
    return pages


def test_show_more_reaches_every_asset_once_in_order(org, admin_user, settings):
    settings.ORDER_PAGE_MAX_ROWS = 7
    order = _order_in_batches(org, 4, 5)
    client = Client()
    client.force_login(admin_user)
    html = client.get(reverse("orders:detail", kwargs={"order_id": order.pk})).content.decode()
    assets = html[html.index('id="order-assets"') :]
    pages = _follow(client, assets[: assets.index("</ul>")], "assets-more", "orders:detail_assets", order)
    assert len(pages) == 2  # 20 assets: 7 + 7 + 6
    shown = re.findall(r'data-testid="asset"><code>([^<]+)</code>', assets + "".join(pages))
    expected = list(
        DeliveredCapture.objects.filter(order=order)
        .order_by("acquired_at", "scene_id")
        .values_list("scene_id", flat=True)
    )
    assert shown == expected and len(set(shown)) == 20
    assert "assets-more" not in pages[-1]


def test_show_earlier_events_reaches_every_event_once_in_time_order(org, admin_user, settings):
    settings.ORDER_PAGE_MAX_ROWS = 3
    order = _order_in_batches(org, 7, 1)
    client = Client()
    client.force_login(admin_user)
    html = client.get(reverse("orders:detail", kwargs={"order_id": order.pk})).content.decode()
    timeline = html[html.index('id="order-timeline"') :]
    timeline = timeline[: timeline.index("</ol>")]
    assert timeline.count('data-testid="timeline-item"') == 3
    total = order.events.count()
    assert total > 7 and f"{total} events" in html
    pages = _follow(client, timeline, "timeline-more", "orders:detail_timeline", order)
    # Each fragment replaces the "Show earlier" row at the top: earlier pages go in front.
    assembled = "".join(reversed(pages)) + timeline
    kinds = re.findall(r'data-testid="timeline-item" data-kind="([^"]+)"', assembled)
    assert kinds == list(order.events.order_by("created_at", "id").values_list("kind", flat=True))
    # The newest event is on the first page: the latest state is what the page opens on.
    newest = order.events.order_by("-created_at", "-id").first()
    assert timeline.rstrip().endswith("</li>") and newest.kind in timeline[timeline.rindex("data-kind=") :]


def test_paging_endpoints_refuse_bad_offsets_and_other_orgs(org, admin_user, other_admin):
    order = _order_with(org, 5)
    group = order.groups.get()
    client = Client()
    client.force_login(admin_user)
    urls = [
        reverse("orders:detail_assets", kwargs={"order_id": order.pk}),
        reverse("orders:detail_timeline", kwargs={"order_id": order.pk}),
        reverse("orders:detail_lineage_deliveries", kwargs={"order_id": order.pk}),
        reverse("orders:detail_lineage_group", kwargs={"order_id": order.pk, "group_id": group.pk}),
    ]
    for url in urls:
        assert client.get(url + "?offset=2").status_code == 200
        for bad in ("-1", "x", "9" * 40):
            assert client.get(url, {"offset": bad}).status_code == 400, (url, bad)
    other = Client()
    other.force_login(other_admin)
    for url in urls:
        assert other.get(url).status_code == 404
    another = _order_with(org, 1)
    wrong_group = reverse(
        "orders:detail_lineage_group", kwargs={"order_id": another.pk, "group_id": group.pk}
    )
    assert client.get(wrong_group).status_code == 404
    assert client.get(reverse("orders:detail_lineage_group", args=[order.pk, "nope"])).status_code == 404
