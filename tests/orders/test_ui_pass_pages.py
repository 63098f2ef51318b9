"""What a look through the product as its users see it found wrong in the rendered pages and
messages: figures without thousands separators, "70 %" beside "70%", a lone dash for a coverage
that does not exist yet, a covered-in-full AOI shown as 99.9%, a price breakdown whose rows do not
add up to its total without saying why, a settings name in a form's help text, a workspace row
whose inputs sat under the wrong headings, and a 503 page that made the browser ask for
/favicon.ico (another 503)."""

from __future__ import annotations

import re

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from geopera_web.billing.models import BillingMode
from geopera_web.events.models import Event
from geopera_web.events.notifications import _title
from orders.coverage.services import coverage_recompute
from orders.services import CancelEffect
from tests.factories import deliver, make_archive_order, make_priced_capture, make_product, make_tasking_order

pytestmark = pytest.mark.django_db
A = (151.0, -33.0, 151.1, -32.9)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_rates_in_credits_per_km2_have_thousands_separators(org, admin_user):
    product = make_product(pid="ui-rate-product", rate=4200, min_area=0.0)
    make_priced_capture(product=product, bounds=(151.10, -33.95, 151.11, -33.94), scene_id="UI-RATE-1")
    org.wallet.available_credits = 10_000_000
    org.wallet.save()
    order = make_archive_order(org=org, actor=admin_user, scene_ids=["UI-RATE-1"])
    client = client_for(admin_user)

    detail = client.get(reverse("orders:detail", kwargs={"order_id": order.pk})).content.decode()
    assert "4,200 cr/km²" in detail and "4200 cr/km²" not in detail
    products = client.get(reverse("orders:products")).content.decode()
    assert "4,200 credits/km²" in products and "4200 credits/km²" not in products


def test_an_order_without_coverage_yet_says_so_instead_of_a_lone_dash(org, admin_user):
    html = render_to_string(
        "orders/_coverage_summary.html",
        {"order": make_tasking_order(org=org, aois=[A]), "percent": None, "size": "lg"},
    )
    assert "No coverage yet" in html and "—" not in html


def test_an_aoi_with_no_remainder_left_is_100_percent_covered_in_the_table(org, viewer_user):
    order = make_tasking_order(org=org, aois=[A], names=["Whole"])
    group = order.groups.get()
    deliver(order, group, [(150.9, -33.1, 151.2, -32.8)], ref="ui-full")
    coverage_recompute(order_id=order.pk)
    # The geodesic area of the covered part can fall a hair short of the AOI's own while nothing
    # remains (the demo's Cecil Plains: 99.99997%): it is covered in full, not 99.9%.
    snapshot = group.coverage_snapshots.order_by("-computed_at").first()
    assert snapshot.remainder is None or GEOSGeometry(snapshot.remainder).empty
    snapshot.covered_km2 = snapshot.requested_km2 * 0.9999997
    snapshot.save(update_fields=["covered_km2"])

    html = (
        client_for(viewer_user)
        .get(reverse("orders:coverage", kwargs={"order_id": order.pk}))
        .content.decode()
    )
    pct = re.search(r'data-testid="covered-pct">([^<]+)<', html).group(1)
    assert pct == "100%"
    assert "Fully covered" in html


def test_a_quoted_price_below_the_list_price_is_labelled_in_the_breakdown(org, viewer_user):
    order = make_tasking_order(org=org, aois=[A], credits=[42_000], charged=39_900)
    html = (
        client_for(viewer_user).get(reverse("orders:detail", kwargs={"order_id": order.pk})).content.decode()
    )
    assert 'data-testid="list-price"' in html
    assert "42,000 cr" in html and "Total: the quoted price" in html

    same = make_tasking_order(org=org, aois=[A], credits=[10_000])
    html = (
        client_for(viewer_user).get(reverse("orders:detail", kwargs={"order_id": same.pk})).content.decode()
    )
    assert 'data-testid="list-price"' not in html and "quoted price" not in html


def test_the_occurrences_help_names_the_limit_not_the_setting(settings):
    from tasking.models import TaskingProduct
    from tasking.schemas import product_schema
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()
    settings.TASKING_SERIES_MAX_OCCURRENCES = 52
    schemas = [product_schema(p) for p in TaskingProduct.objects.select_related("sensor")]
    helps = [
        s["properties"]["occurrences"]["description"] for s in schemas if "occurrences" in s["properties"]
    ]
    assert helps
    for text in helps:
        assert "TASKING_SERIES_MAX_OCCURRENCES" not in text and "2 to 52" in text


def test_percentages_in_the_burndown_and_notifications_have_no_space_before_the_sign():
    w = {
        "name": "Crop",
        "monthlyBudgetCredits": 6_280_000,
        "spentThisMonthCredits": 4_395_919,
        "leftThisMonthCredits": 1_884_081,
        "percentUsed": 70,
    }
    html = render_to_string("orders/approvals/_burndown.html", {"w": w})
    assert "(70%)" in html and " %" not in html
    assert "4,395,919 of 6,280,000 credits" in html

    _, body, _ = _title(Event(type="coverage.updated", payload={"groups": [{"percent": 53.2}]}))
    assert body == "Up to 53% of an area covered"
    _, body, _ = _title(Event(type="watch.matched", payload={"captures": 1, "newCoveragePercent": 100}))
    assert body.startswith("They cover 100.0% of the watched area")


def test_amounts_in_a_cancel_sentence_have_thousands_separators():
    effect = CancelEffect(
        action="settle", credits=660_264, billing_mode=BillingMode.CREDIT, charged_credits=239_736
    )
    assert "(A$2,397.36)" in effect.sentence and "(A$6,602.64)" in effect.sentence
    release = CancelEffect(action="release", credits=900_000, billing_mode=BillingMode.CREDIT)
    assert "(A$9,000.00)" in release.sentence


def test_each_workspace_policy_input_sits_under_its_own_heading(org, admin_user):
    html = client_for(admin_user).get(reverse("orders:policies")).content.decode()
    table = html[html.index('data-testid="workspace-policies"') :]
    head = re.search(r"<thead>(.*?)</thead>", table, re.S).group(1)
    row = re.search(r'<tr data-testid="workspace-row">(.*?)</tr>', table, re.S).group(1)
    assert row.count("<td") == head.count("<th")  # no colspan squeezing two inputs under one heading
    assert 'data-label="Threshold"' in row and 'data-label="Monthly budget"' in row
    form_id = re.search(r'<form [^>]*id="(ws-form-[^"]+)"', row).group(1)
    assert row.count(f'form="{form_id}"') == 2  # both inputs still submit with the row's Save


def test_the_503_page_names_its_icon_so_the_browser_does_not_ask_for_favicon_ico():
    html = render_to_string("503.html", {"unchanged": True})
    assert re.search(r'<link rel="icon" href="/static/img/logo\.svg"', html)
    assert 'href="/static/css/app.css"' in html
    assert "briefly unavailable" in html
    html = render_to_string("500.html")
    assert '<link rel="icon"' in html and 'name="viewport"' in html


def test_order_pages_write_dates_as_the_rest_of_the_product_does(org, viewer_user):
    """'4 Dec 2026 01:28', as the timeline, the dashboard and the archive list do, not '2026-12-04 01:28'."""
    order = make_tasking_order(org=org, aois=[A])
    client = client_for(viewer_user)
    detail = client.get(reverse("orders:detail", kwargs={"order_id": order.pk})).content.decode()
    assert re.search(r"· placed \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d UTC", detail)
    listing = client.get(reverse("orders:list")).content.decode()
    placed = re.search(r'<td data-label="Placed"><time [^>]*>([^<]+)</time>', listing).group(1)
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d", placed), placed


def test_an_api_keys_expiry_reads_like_a_tokens(org, admin_user):
    from geopera_web.accounts.services import api_key_create

    api_key_create(org=org, name="nightly", scopes=["orders:read"], actor=admin_user, expires_in_days=90)
    html = client_for(admin_user).get(reverse("accounts:api_keys")).content.decode()
    assert re.search(r"expires \d{1,2} [A-Z][a-z]{2} \d{4}<", html), "expires as on the tokens page"


def test_the_500_page_never_claims_a_write_was_not_saved(rf):
    from django.contrib.auth.models import AnonymousUser

    from geopera_web.views import server_error

    def page(request) -> str:
        request.user = AnonymousUser()
        response = server_error(request)
        assert response.status_code == 500
        return response.content.decode()

    posted = page(rf.post("/orders/00000000-0000-0000-0000-000000000000/cancel/"))
    assert "may or may not have been saved" in posted and "was lost" not in posted
    read = page(rf.get("/orders/"))
    assert "try again in a moment" in read and "may or may not" not in read


def test_the_wallet_chip_states_what_is_reserved_with_separators(org, admin_user):
    from geopera_web.billing.models import Wallet

    Wallet.objects.filter(org=org).update(reserved_credits=45_600)
    html = client_for(admin_user).get("/").content.decode()
    assert 'title="Available credits (reserved: 45,600 cr)"' in html
