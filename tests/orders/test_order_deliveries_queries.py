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


def test_order_page_queries_do_not_grow_with_deliveries_nor_read_footprints(org, admin_user):
    few, many = _order_with(org, 1), _order_with(org, 30)
    response_few, few_sql = _page(admin_user, few)
    response_many, many_sql = _page(admin_user, many)
    assert len(response_many.context["assets"]) == 30
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
