"""Order event kinds: one builder per kind, no free strings, the timeline shows each kind's label,
and the data migration that gave every stored row a kind (forwards and backwards)."""

from __future__ import annotations

import inspect

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from orders import events
from orders.models import OrderEvent
from tests.conftest import DEMO_PASSWORD

from .coverage_helpers import make_tasking_order

AOI = (151.0, -33.0, 151.1, -32.9)
Kind = OrderEvent.Kind


def _builders():
    return {
        name: fn for name, fn in inspect.getmembers(events, inspect.isfunction) if name.startswith("event_")
    }


def test_every_kind_has_its_own_builder():
    # Kind FOO_BAR is written by event_foo_bar ("placed" by event_order_placed).
    expected = {k: f"event_{k.value}" for k in Kind} | {Kind.PLACED: "event_order_placed"}
    missing = {k for k, name in expected.items() if name not in _builders()}
    assert not missing


@pytest.mark.django_db
def test_builders_write_their_kind_and_free_strings_are_refused(org):
    order = make_tasking_order(org=org, aois=[AOI])
    event = events.event_tags_changed(order=order, actor=None, added=["flood"], removed=["old"])
    assert event.kind == Kind.TAGS_CHANGED and event.get_kind_display() == "Tags changed"
    assert event.message == "Tags added: flood; Tag removed: old" and event.actor_label == "system"
    with pytest.raises(TypeError):
        events._record(order=order, kind="feasibility_maybe")


@pytest.mark.django_db
def test_the_timeline_shows_labels_not_slugs(org, operator_user):
    order = make_tasking_order(org=org, aois=[AOI])
    events.event_provider_placed(order=order, provider="geopera-sim", ref="sim-task-1")
    client = Client()
    assert client.login(username=operator_user.email, password=DEMO_PASSWORD)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert "Sent to the provider for acquisition" in html
    assert ">provider_placed<" not in html
    assert 'data-kind="provider_placed"' in html  # the slug stays for styling and tests


# --- the data migration -------------------------------------------------------------------------

BEFORE = ("orders", "0004_order_page_key_unique")
AFTER = ("orders", "0005_orderevent_kind_choices")


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_kind_migration_maps_unknown_kinds_to_notes_and_back(org):
    order = make_tasking_order(org=org, aois=[AOI])
    try:
        old = _migrate(BEFORE)
        OldEvent = old.get_model("orders", "OrderEvent")
        known = OldEvent.objects.create(order_id=order.pk, kind="placed", message="kept", data={"x": 1})
        legacy = OldEvent.objects.create(order_id=order.pk, kind="Shipped by hand", data={"by": "sam"})

        new = _migrate(AFTER)
        NewEvent = new.get_model("orders", "OrderEvent")
        assert NewEvent.objects.get(pk=known.pk).kind == "placed"
        mapped = NewEvent.objects.get(pk=legacy.pk)
        assert (mapped.kind, mapped.data) == ("note", {"by": "sam", "legacy_kind": "Shipped by hand"})
        stored = set(NewEvent.objects.filter(order_id=order.pk).values_list("kind", flat=True))
        assert stored <= set(Kind.values)

        back = _migrate(BEFORE).get_model("orders", "OrderEvent")
        restored = back.objects.get(pk=legacy.pk)
        assert (restored.kind, restored.data) == ("Shipped by hand", {"by": "sam"})
        assert back.objects.get(pk=known.pk).data == {"x": 1}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
