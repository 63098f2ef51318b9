"""Watchers of a watch and a remainder that follows coverage: any member of the watch's org may
watch it (the creator is its first watcher); an import of captures over a watched area tells
exactly the watchers of the watches it matches, per each person's preferences, in statements that
do not grow with the number of watches or watchers; a remainder watch's area shrinks as deliveries
cover the order, so captures over the part now covered alert no one."""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from geopera_web.events.models import Event, Notification
from geopera_web.events.notifications import events_notify, preference_set
from orders.catalog.services import archive_products_ensure, catalog_import
from orders.coverage.services import coverage_recompute
from orders.geometry import geodesic_area_km2
from orders.models import Watch, WatchAlert, WatchWatcher
from orders.watches.services import watch_create, watch_watcher_set, watches_match
from tests.factories import deliver, make_tasking_order, make_user
from tests.geometry import box, geojson_box

from .watch_helpers import AREA, collection_text, item
from .watch_helpers import make_watch as _watch

pytestmark = pytest.mark.django_db


def import_(*items: dict, capture) -> None:
    with capture(execute=True):
        catalog_import(text=collection_text(*items))


@pytest.fixture
def catalog(db):
    archive_products_ensure()


@pytest.fixture
def people(org, other_org):
    return {
        "op": make_user(org=org, role="operator", email="op@acme.example"),
        "admin": make_user(org=org, role="admin", email="boss@acme.example"),
        "viewer": make_user(org=org, role="viewer", email="reader@acme.example"),
        "quiet": make_user(org=org, role="operator", email="quiet@acme.example"),
        "elsewhere": make_user(org=org, role="operator", email="elsewhere@acme.example"),
        "other": make_user(org=other_org, role="operator", email="op@other.example"),
        "other2": make_user(org=other_org, role="admin", email="boss@other.example"),
    }


def _told(kind="watch.matched") -> set[tuple[str, str]]:
    """(person's e-mail, watch name) of every in-app line of `kind`."""
    return {
        (n.user.email, n.event.payload["watchName"])
        for n in Notification.objects.filter(kind=kind, dismissed_at=None).select_related("user", "event")
    }


def test_an_import_tells_exactly_the_watchers_of_the_matching_watches_by_their_preferences(
    catalog, org, other_org, people, django_capture_on_commit_callbacks
):
    matched = _watch(org, people["op"], name="Harbour")
    for who in ("admin", "viewer", "quiet"):
        watch_watcher_set(org=org, user=people[who], watch_id=matched.pk, watching=True)
    # Preferences: the viewer reads it in the app only; "quiet" turned both channels off.
    preference_set(user=people["viewer"], event_type="watch.matched", in_app=True, email="off")
    preference_set(user=people["quiet"], event_type="watch.matched", in_app=False, email="off")
    cloudy = _watch(org, people["elsewhere"], name="Clear sky only", max_cloud_cover=1)  # not matched
    watch_watcher_set(org=org, user=people["admin"], watch_id=cloudy.pk, watching=True)
    _watch(org, people["elsewhere"], aoi=geojson_box(115.8, -32.0, 115.9, -31.9), name="Perth")
    theirs = _watch(other_org, people["other"], name="Theirs")  # another org over the same place
    watch_watcher_set(org=other_org, user=people["other2"], watch_id=theirs.pk, watching=True)

    import_(item("NEW-1"), capture=django_capture_on_commit_callbacks)

    assert set(WatchAlert.objects.values_list("watch__name", flat=True)) == {"Harbour", "Theirs"}
    assert _told() == {
        ("op@acme.example", "Harbour"),
        ("boss@acme.example", "Harbour"),
        ("reader@acme.example", "Harbour"),
        ("op@other.example", "Theirs"),
        ("boss@other.example", "Theirs"),
    }
    # E-mail is on by default for a watch (they asked to be told); the viewer and "quiet" turned it off.
    assert sorted(m.to[0] for m in mail.outbox) == [
        "boss@acme.example",
        "boss@other.example",
        "op@acme.example",
        "op@other.example",
    ]
    alert = WatchAlert.objects.get(watch=matched)
    line = Notification.objects.get(user=people["admin"], kind="watch.matched")
    assert line.link == f"/watches/alerts/{alert.pk}/" and "Harbour" in line.title
    boss_mail = next(m for m in mail.outbox if m.to == ["boss@acme.example"])
    assert f"{django_settings.SITE_URL.rstrip('/')}/watches/alerts/{alert.pk}/" in boss_mail.body
    # Nobody outside the matching watches' watchers heard anything.
    assert not Notification.objects.filter(user=people["elsewhere"], kind="watch.matched").exists()


def test_watchers_are_resolved_in_the_same_statements_however_many_watches_and_watchers(
    catalog, org, people, django_capture_on_commit_callbacks
):
    extra = [make_user(org=org, role="operator") for _ in range(5)]

    def run(n_watches: int, n_watchers: int, scene: str) -> int:
        Watch.objects.all().delete()
        for i in range(n_watches):
            w = _watch(org, people["op"], name=f"w{i}")
            for u in extra[:n_watchers]:
                watch_watcher_set(org=org, user=u, watch_id=w.pk, watching=True)
        since = timezone.now()
        catalog_import(text=collection_text(item(scene)))
        with django_capture_on_commit_callbacks(execute=False):  # the fan-out is run below, counted
            alerts = watches_match(since=since)
        assert len(alerts) == n_watches
        ids = list(Event.objects.filter(type="watch.matched", notified_at=None).values_list("pk", flat=True))
        with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=False):
            created = events_notify(ids)
        assert len(created) == n_watches * (1 + n_watchers)
        return len(ctx.captured_queries)

    assert run(1, 0, "Q-1") == run(4, 5, "Q-4")


def test_joining_leaving_and_who_may_open_an_alert(
    catalog, org, other_org, people, viewer_user, django_capture_on_commit_callbacks
):
    watch = _watch(org, people["op"], name="Harbour")
    assert list(WatchWatcher.objects.filter(watch=watch).values_list("user", flat=True)) == [people["op"].pk]
    admin = Client()
    admin.force_login(people["admin"])
    assert admin.post(f"/watches/{watch.pk}/watch/", {"watch": "1"}).status_code == 302
    assert admin.post(f"/watches/{watch.pk}/watch/", {"watch": "1"}).status_code == 302  # idempotent
    assert WatchWatcher.objects.filter(watch=watch).count() == 2
    viewer = Client()
    viewer.force_login(viewer_user)  # a viewer may be told too (being told spends nothing)
    assert viewer.post(f"/watches/{watch.pk}/watch/", {"watch": "1"}).status_code == 302
    stranger = Client()
    stranger.force_login(people["other"])
    assert stranger.post(f"/watches/{watch.pk}/watch/", {"watch": "1"}).status_code == 404
    assert not WatchWatcher.objects.filter(user=people["other"]).exists()
    page = admin.get("/watches/").content.decode()
    assert "Stop watching" in page and people["admin"].username in page

    import_(item("NEW-2"), capture=django_capture_on_commit_callbacks)
    alert = WatchAlert.objects.get()
    url = f"/watches/alerts/{alert.pk}/"
    assert admin.get(url).status_code == 200  # a watcher opens it
    assert admin.post(url).status_code == 302
    assert admin.post(f"/watches/{watch.pk}/watch/", {"watch": "0"}).status_code == 302
    assert admin.get(url).status_code == 404  # once they stop watching it is not theirs
    bystander = Client()
    bystander.force_login(people["elsewhere"])
    assert bystander.get(url).status_code == 404
    assert stranger.get(url).status_code == 404


def test_a_capture_that_only_touches_the_watched_area_alerts_no_one(
    catalog, org, people, django_capture_on_commit_callbacks
):
    _watch(org, people["op"])  # min new coverage 0
    import_(item("EDGE", bounds=(151.20, -34.00, 151.30, -33.80)), capture=django_capture_on_commit_callbacks)
    assert not WatchAlert.objects.exists() and not mail.outbox


# --- the remainder follows the order's coverage ----------------------------------------------------


def test_the_remainder_follows_coverage_so_an_import_over_the_now_covered_part_alerts_no_one(
    catalog, org, people, django_capture_on_commit_callbacks
):
    order = make_tasking_order(org=org, aois=[(151.0, -33.0, 151.1, -32.9)], names=["Pokolbin"])
    group = order.groups.get()
    deliver(order, group, [(150.9, -33.1, 151.05, -32.8)], ref="b1")  # the west half
    coverage_recompute(order_id=order.pk)
    watch = watch_create(org=org, user=people["op"], name="", order_id=order.pk)
    first_km2 = watch.aoi_km2
    assert first_km2 == pytest.approx(geodesic_area_km2(box(151.05, -33.0, 151.1, -32.9)), rel=1e-3)

    deliver(order, group, [(151.0, -33.1, 151.08, -32.8)], ref="b2")  # now up to 151.08
    coverage_recompute(order_id=order.pk)
    watch.refresh_from_db()
    assert watch.aoi_km2 == pytest.approx(geodesic_area_km2(box(151.08, -33.0, 151.1, -32.9)), rel=1e-3)
    assert watch.remainder_updated_at is not None and watch.covered_at is None

    # Over the part the second delivery covered (it overlapped the remainder as it was at creation).
    import_(
        item("COVERED-PART", bounds=(151.055, -32.99, 151.075, -32.91)),
        capture=django_capture_on_commit_callbacks,
    )
    assert not WatchAlert.objects.exists() and not mail.outbox
    # Over what is still left: an alert, measured against the smaller remainder.
    import_(
        item("STILL-LEFT", bounds=(151.085, -33.0, 151.1, -32.9)), capture=django_capture_on_commit_callbacks
    )
    alert = WatchAlert.objects.get()
    assert alert.capture_count == 1 and 70 < alert.new_coverage_percent < 80

    client = Client()
    client.force_login(people["op"])
    outlook = client.get(f"/orders/{order.pk}/coverage/").context["watch_outlook"]
    assert outlook["captures"] == 1 and 70 < outlook["percent"] < 80

    deliver(order, group, [(151.0, -33.1, 151.2, -32.8)], ref="b3")  # everything
    coverage_recompute(order_id=order.pk)
    watch.refresh_from_db()
    assert watch.covered_at is not None
    import_(item("AFTER", bounds=(151.0, -33.0, 151.1, -32.9)), capture=django_capture_on_commit_callbacks)
    assert WatchAlert.objects.count() == 1  # a covered remainder is watched no more
    assert "nothing is left to watch" in client.get(f"/orders/{order.pk}/coverage/").content.decode()


def test_an_unchanged_recompute_leaves_the_watch_alone(catalog, org, people):
    order = make_tasking_order(org=org, aois=[(151.0, -33.0, 151.1, -32.9)])
    deliver(order, order.groups.get(), [(150.9, -33.1, 151.05, -32.8)], ref="b1")
    coverage_recompute(order_id=order.pk)
    watch = watch_create(org=org, user=people["op"], name="", order_id=order.pk)
    before = watch.remainder_updated_at
    coverage_recompute(order_id=order.pk)  # nothing new: no snapshot, no rewrite
    watch.refresh_from_db()
    assert watch.remainder_updated_at == before


def test_watches_per_org_is_a_setting_read_per_call(catalog, org, people, settings):
    settings.WATCHES_MAX_PER_ORG = 2
    _watch(org, people["op"], name="a")
    _watch(org, people["op"], name="b")
    client = Client()
    client.force_login(people["op"])
    refused = client.post("/watches/new/", {"name": "c", "aoi": json.dumps(AREA)})
    assert refused.status_code == 400 and "WATCHES_MAX_PER_ORG" in refused.content.decode()
    assert Watch.objects.count() == 2


# --- the data migration ---------------------------------------------------------------------------

BEFORE = [("orders", "0016_capture_relative_quicklooks")]
AFTER = [("orders", "0017_watch_watchers")]


def _migrate(target):
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_migration_makes_every_existing_creator_the_first_watcher(org, operator_user):
    from django.core.management import call_command

    try:
        old = _migrate(BEFORE)
        OldWatch = old.get_model("orders", "Watch")
        geom = box(151.0, -34.0, 151.2, -33.8)
        kept = OldWatch.objects.create(
            org_id=org.pk, created_by_id=operator_user.pk, name="a", aoi=geom, aoi_km2=1
        )
        orphan = OldWatch.objects.create(org_id=org.pk, created_by_id=None, name="b", aoi=geom, aoi_km2=1)
        new = _migrate(AFTER)
        Watcher = new.get_model("orders", "WatchWatcher")
        assert list(Watcher.objects.values_list("watch_id", "user_id")) == [(kept.pk, operator_user.pk)]
        assert not Watcher.objects.filter(watch_id=orphan.pk).exists()
    finally:
        call_command("migrate", verbosity=0)


def test_watch_matched_preference_defaults_to_email_and_can_be_turned_off(people):
    from geopera_web.events.notifications import preferences_for

    row = next(r for r in preferences_for(user=people["op"]) if r["event_type"] == "watch.matched")
    assert row["email"] == "immediate" and row["in_app"] is True
    preference_set(user=people["op"], event_type="watch.matched", in_app=True, email="daily")
    row = next(r for r in preferences_for(user=people["op"]) if r["event_type"] == "watch.matched")
    assert row["email"] == "daily"
