"""Watching a remainder: an import of captures is matched against every watch in one statement
after commit, and exactly the matching watchers are told, with a link that fills their cart."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.cart.pricing import archive_quote
from orders.catalog.services import archive_products_ensure, catalog_import
from orders.models import Cart, CartItem, Watch, WatchAlert, WatchMatch
from orders.watches.services import watch_create, watches_match
from tests.factories import make_org, make_user
from tests.geometry import box, geojson_box

from .watch_helpers import AREA, collection_text, item
from .watch_helpers import make_watch as _watch

pytestmark = pytest.mark.django_db

FAR = geojson_box(115.80, -32.00, 115.90, -31.90)  # Perth: nothing imported there


@pytest.fixture
def catalog(db):
    archive_products_ensure()


@pytest.fixture
def people(org, other_org):
    return {
        "op": make_user(org=org, role="operator", email="op@acme.example"),
        "admin": make_user(org=org, role="admin", email="boss@acme.example"),
        "bystander": make_user(org=org, role="operator", email="bystander@acme.example"),
        "other": make_user(org=other_org, role="operator", email="op@other.example"),
    }


def test_import_notifies_exactly_the_matching_watchers(
    catalog, org, other_org, people, django_capture_on_commit_callbacks
):
    half = _watch(org, people["op"], name="half")  # the import covers half of it
    _watch(org, people["admin"], name="clear only", max_cloud_cover=10)  # the capture is 30 % cloud
    _watch(org, people["admin"], name="wants most", min_new_coverage_percent=80)  # 50 % is not enough
    _watch(org, people["admin"], name="spot only", collections=["spot"])
    _watch(org, people["bystander"], aoi=FAR, name="perth")
    theirs = _watch(other_org, people["other"], name="other org's")  # another org watching the same place

    with django_capture_on_commit_callbacks(execute=True):
        report = catalog_import(text=collection_text(item("NEW-1", cloud=30.0)))
    assert report.created == 1

    alerts = {a.watch.name: a for a in WatchAlert.objects.select_related("watch")}
    assert set(alerts) == {"half", "other org's"}
    assert 49 < alerts["half"].new_coverage_percent < 51
    assert alerts["half"].capture_count == 1
    assert sorted(tuple(m.to) for m in mail.outbox) == [("op@acme.example",), ("op@other.example",)]
    message = next(m for m in mail.outbox if m.to == ["op@acme.example"])
    assert f"/watches/alerts/{alerts['half'].pk}/" in message.body and "“half”" in message.subject
    assert alerts["other org's"].watch_id == theirs.pk
    assert WatchMatch.objects.filter(watch=half).count() == 1


def test_a_capture_alerts_a_watch_once_and_old_captures_never(
    catalog, org, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        catalog_import(text=collection_text(item("OLD-1")))  # before the watch existed
    _watch(org, people["op"])
    with django_capture_on_commit_callbacks(execute=True):
        catalog_import(text=collection_text(item("OLD-1", cloud=6.0)))  # an update, not a new capture
    assert not WatchAlert.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        catalog_import(text=collection_text(item("NEW-2")))
    since = timezone.now() - dt.timedelta(days=1)
    assert watches_match(since=since) == []  # a second run finds them matched already
    assert WatchAlert.objects.count() == 1 and len(mail.outbox) == 1


def test_minimum_new_coverage_counts_the_captures_of_one_import_together(
    catalog, org, people, django_capture_on_commit_callbacks
):
    _watch(org, people["op"], min_new_coverage_percent=90)
    with django_capture_on_commit_callbacks(execute=True):
        catalog_import(
            text=collection_text(
                item("LEFT", bounds=(151.00, -34.00, 151.10, -33.80)),
                item("RIGHT", bounds=(151.10, -34.00, 151.20, -33.80)),
            )
        )
    alert = WatchAlert.objects.get()
    assert alert.capture_count == 2 and alert.new_coverage_percent > 99


def test_seed_catalog_bulk_load_is_matched_too(catalog, org, people, django_capture_on_commit_callbacks):
    _watch(org, people["op"], aoi=geojson_box(100, -45, 160, -5))  # all of Australia
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_catalog", "--count", "30", "--seed", "3", stdout=StringIO())
    alert = WatchAlert.objects.get()
    assert alert.capture_count >= 1 and len(mail.outbox) == 1


def test_the_match_is_one_statement_whatever_the_number_of_watches(catalog, org, people):
    def run(n_watches: int, scene: str) -> int:
        WatchAlert.objects.all().delete()
        Watch.objects.all().delete()
        for i in range(n_watches):
            _watch(org, people["op"], name=f"w{i}")
        since = timezone.now()
        catalog_import(text=collection_text(item(scene)))
        with CaptureQueriesContext(connection) as ctx:
            alerts = watches_match(since=since)
        assert len(alerts) == n_watches
        return len(ctx.captured_queries)

    assert run(1, "Q-1") == run(8, "Q-8")


def test_alert_link_get_changes_nothing_and_confirms_what_and_at_what_price(
    catalog, org, other_org, people, django_capture_on_commit_callbacks
):
    watch = _watch(org, people["op"], name="half")
    with django_capture_on_commit_callbacks(execute=True):
        catalog_import(text=collection_text(item("NEW-3")))
    alert = WatchAlert.objects.get()
    client = Client()
    client.force_login(people["op"])
    for _ in range(2):  # a GET (the e-mail's link, a mail scanner's prefetch) adds nothing
        response = client.get(f"/watches/alerts/{alert.pk}/")
        assert response.status_code == 200
        assert not CartItem.objects.exists()
        assert not Cart.objects.filter(user=people["op"], aoi__isnull=False).exists()
    html = response.content.decode()
    expected = archive_quote(captures=[{"id": "NEW-3", "geometry": json.loads(watch.aoi.json)}]).total_credits
    assert expected > 0 and response.context["quote"].total_credits == expected
    assert 'data-capture-id="NEW-3"' in html and f"{expected:,}" in html
    assert "clipped to the watched area" in html and 'name="csrfmiddlewaretoken"' in html


def test_alert_post_adds_clipped_once_needs_csrf_and_is_the_watchers_alone(
    catalog, org, other_org, people, django_capture_on_commit_callbacks
):
    _watch(org, people["op"], name="half")
    with django_capture_on_commit_callbacks(execute=True):
        catalog_import(text=collection_text(item("NEW-3")))
    alert = WatchAlert.objects.get()
    url = f"/watches/alerts/{alert.pk}/"
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(people["op"])
    assert checked.post(url).status_code == 403  # no CSRF token: refused, nothing added
    assert not CartItem.objects.exists()

    client = Client()
    client.force_login(people["op"])
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/archive/?") and "select=NEW-3" in response["Location"]
    item_ = CartItem.objects.get(cart__user=people["op"])
    assert item_.capture.scene_id == "NEW-3" and item_.clip_geometry is not None
    again = client.post(url)  # posting twice does not duplicate
    assert again.status_code == 302 and CartItem.objects.filter(cart__user=people["op"]).count() == 1
    assert "already in your cart" in client.get(url).content.decode()

    for who in ("other", "bystander", "admin"):  # another org's, or a colleague's: 404
        outsider = Client()
        outsider.force_login(people[who])
        assert outsider.get(url).status_code == 404
        assert outsider.post(url).status_code == 404
        assert not CartItem.objects.filter(cart__user=people[who]).exists()


def test_watch_pages_roles_and_tenancy(catalog, org, other_org, people, viewer_user):
    mine = _watch(org, people["op"], name="Harbour")
    theirs = _watch(other_org, people["other"], name="Theirs")
    op = Client()
    op.force_login(people["op"])
    page = op.get("/watches/")
    html = page.content.decode()
    assert page.status_code == 200 and "Harbour" in html and "Theirs" not in html
    created = op.post(
        "/watches/new/",
        {
            "name": "Drawn",
            "aoi": json.dumps(geojson_box(151.2, -33.9, 151.3, -33.8)),
            "max_cloud_cover": "20",
            "min_new_coverage_percent": "10",
            "collections": ["pleiades"],
        },
    )
    assert created.status_code == 302 and Watch.objects.filter(org=org, name="Drawn").exists()
    bad = op.post("/watches/new/", {"name": "Bad", "aoi": "{not json", "max_cloud_cover": "20"})
    assert bad.status_code == 400 and "aoi" in bad.content.decode().lower()
    nan = op.post("/watches/new/", {"name": "Bad", "aoi": json.dumps(AREA), "max_cloud_cover": "nan"})
    assert nan.status_code == 400
    assert op.post(f"/watches/{theirs.pk}/delete/").status_code == 404
    viewer = Client()
    viewer.force_login(viewer_user)
    assert viewer.get("/watches/").status_code == 200
    assert viewer.post(f"/watches/{mine.pk}/delete/").status_code == 403
    assert viewer.post("/watches/new/", {"name": "x", "aoi": json.dumps(AREA)}).status_code == 403
    assert op.post(f"/watches/{mine.pk}/delete/").status_code == 302
    assert not Watch.objects.filter(pk=mine.pk).exists() and Watch.objects.filter(pk=theirs.pk).exists()


def test_watch_list_query_count_is_constant(catalog, org, people, django_assert_max_num_queries):
    for i in range(6):
        _watch(org, people["op"], name=f"w{i}")
    client = Client()
    client.force_login(people["op"])
    client.get("/watches/")
    with CaptureQueriesContext(connection) as few:
        client.get("/watches/")
    for i in range(6):
        _watch(org, people["op"], name=f"more{i}")
    with CaptureQueriesContext(connection) as many:
        client.get("/watches/")
    assert len(many.captured_queries) == len(few.captured_queries)


# --- watching a tasking order's remainder from its coverage page ---------------------------------


@pytest.fixture
def half_covered(org, catalog):
    from orders.coverage.services import coverage_recompute
    from tests.factories import deliver, make_tasking_order

    order = make_tasking_order(org=org, aois=[(151.0, -33.0, 151.1, -32.9)], names=["Pokolbin"])
    deliver(order, order.groups.get(), [(150.9, -33.1, 151.05, -32.8)], ref="b1")
    coverage_recompute(order_id=order.pk)
    return order


def test_watch_the_remainder_then_the_coverage_page_shows_what_the_archive_could_cover_and_its_price(
    half_covered, org, other_org, people, viewer_user, django_capture_on_commit_callbacks
):
    from orders.geometry import geodesic_area_km2

    url = f"/orders/{half_covered.pk}/coverage/"
    op = Client()
    op.force_login(people["op"])
    html = op.get(url).content.decode()
    assert 'data-testid="watch-remainder"' in html
    viewer = Client()
    viewer.force_login(viewer_user)
    assert 'data-testid="watch-remainder"' not in viewer.get(url).content.decode()

    form = op.get(f"/watches/new/?order={half_covered.pk}")
    assert form.status_code == 200 and "Remainder of" in form.content.decode()
    assert (
        op.post(
            "/watches/new/", {"order": str(half_covered.pk), "min_new_coverage_percent": "50"}
        ).status_code
        == 302
    )
    watch = Watch.objects.get(org=org)
    assert watch.order_id == half_covered.pk
    assert watch.aoi_km2 == pytest.approx(geodesic_area_km2(box(151.05, -33.0, 151.1, -32.9)), rel=1e-3)
    assert "no new capture covers the remainder yet" in op.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        catalog_import(text=collection_text(item("REM-1", bounds=(151.04, -33.05, 151.2, -32.85))))
    page = op.get(url)
    outlook = page.context["watch_outlook"]
    assert outlook["percent"] > 99.9 and outlook["captures"] == 1
    expected = archive_quote(captures=[{"id": "REM-1", "geometry": json.loads(watch.aoi.json)}]).total_credits
    assert outlook["credits"] == expected > 0
    assert 'data-testid="watch-open"' in page.content.decode()

    # Another org's order cannot be watched, or even shown in the form.
    stranger = Client()
    stranger.force_login(people["other"])
    assert stranger.get(f"/watches/new/?order={half_covered.pk}").status_code == 404
    assert stranger.post("/watches/new/", {"order": str(half_covered.pk)}).status_code == 404


def test_watches_demo_leaves_a_watch_with_a_match_idempotently(catalog):
    from geopera_web.demo import DemoWorld, seeders
    from orders.demo import seed_coverage, seed_watches
    from orders.watches.selectors import watch_outlook

    assert any(name == "watches" for _, name, _ in seeders())
    acme = make_org(name="Acme Demo", credits=100_000)
    users = {
        "acme_admin": make_user(org=acme, role="admin"),
        "acme_operator": make_user(org=acme, role="operator", email="demo-op@acme.example"),
    }
    world = DemoWorld(orgs={"acme": acme}, users=users, log=lambda _: None)
    seed_coverage(world)
    seed_watches(world)
    seed_watches(world)
    watch = Watch.objects.get(org=acme)
    assert watch.order.metadata["demo"] == "coverage-downs"
    assert WatchAlert.objects.filter(watch=watch).count() == 1
    assert set(watch.watchers.values_list("user", flat=True)) == {
        users["acme_operator"].pk,
        users["acme_admin"].pk,
    }
    outlook = watch_outlook(watch=watch)
    assert outlook["percent"] > 99 and outlook["credits"] > 0


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"min_new_coverage_percent": "150"}, "between 0 and 100"),
        ({"max_off_nadir": "-3"}, "between 0 and 90"),
        ({"aoi": json.dumps({"type": "FeatureCollection", "features": [{}, {}]})}, "2 features"),
        ({"aoi": json.dumps({"type": "Point", "coordinates": [151, -33]})}, "aoi"),
        ({"aoi": ""}, "Draw or upload an area"),
        ({"order": "not-a-uuid", "aoi": ""}, None),  # an order that is nobody's: 404
    ],
)
def test_hostile_watch_input_is_a_clear_4xx_and_saves_nothing(catalog, people, fields, says):
    op = Client()
    op.force_login(people["op"])
    response = op.post("/watches/new/", {"name": "x", "aoi": json.dumps(AREA), **fields})
    if says is None:
        assert response.status_code == 404
    else:
        assert response.status_code == 400 and says in response.content.decode()
    assert not Watch.objects.exists()


def test_an_unknown_collection_is_a_404_naming_it_for_every_caller(catalog, org, people):
    """The service refuses it (UnknownCollection, a 404 as the reference answers for ids), before
    anything else is checked: the form shows it again with the collection named, as the API does."""
    from orders.watches.services import UnknownCollection

    op = Client()
    op.force_login(people["op"])
    response = op.post(
        "/watches/new/", {"name": "x", "aoi": json.dumps(AREA), "collections": ["pleiades", "nope"]}
    )
    assert response.status_code == 404 and "Unknown collection(s): nope" in response.content.decode()
    assert "<form" in response.content.decode()  # the form again, not a bare 404 page
    with pytest.raises(UnknownCollection) as refused:
        watch_create(org=org, user=people["op"], name="x", aoi={}, collections=["nope"])
    assert refused.value.status == 404
    assert not Watch.objects.exists()
