from __future__ import annotations

from geopera_web.demo import DemoWorld, seeders
from tasking.demo import DEMO_TEMPLATES, seed_tasking_config
from tasking.models import TaskingTemplate
from tests.factories import make_org, make_user


def test_demo_seeder_is_registered_and_idempotent():
    assert any(name == "tasking-config" and order == 30 for order, name, _ in seeders())
    acme, blue = make_org(name="Acme Demo"), make_org(name="Blue Demo")
    users = {"acme_operator": make_user(org=acme), "blue_admin": make_user(org=blue, role="admin")}
    world = DemoWorld(orgs={"acme": acme, "blue": blue}, users=users, log=lambda _: None)
    seed_tasking_config(world)
    seed_tasking_config(world)
    assert TaskingTemplate.objects.filter(org=acme).count() == len(DEMO_TEMPLATES["acme"])
    assert TaskingTemplate.objects.filter(org=blue).count() == len(DEMO_TEMPLATES["blue"])
    assert TaskingTemplate.objects.filter(name="Weekly crop check — Pléiades Neo 30cm", org=acme).exists()


def test_the_series_demo_shows_a_running_weekly_series(db):
    from geopera_web.billing.models import LedgerEntry, Wallet
    from tasking.demo import SERIES_DEMO_WEEKS, seed_tasking_series
    from tasking.models import TaskingSeries
    from tests.tasking.series_helpers import assert_ledger_matches_wallet

    assert any(name == "tasking-series" for _, name, _ in seeders())
    acme = make_org(name="Acme Demo", credits=50_000)
    users = {
        "acme_admin": make_user(org=acme, role="admin"),
        "acme_operator": make_user(org=acme, role="operator"),
        "staff": make_user(org=None, staff=True),
    }
    world = DemoWorld(orgs={"acme": acme}, users=users, log=lambda _: None)
    seed_tasking_series(world)
    entries = LedgerEntry.objects.count()
    seed_tasking_series(world)
    assert LedgerEntry.objects.count() == entries and TaskingSeries.objects.count() == 1
    series = TaskingSeries.objects.get()
    assert (series.frequency, series.state, series.occurrence_count) == (
        "WEEKLY",
        "running",
        SERIES_DEMO_WEEKS,
    )
    occ = list(series.occurrences.select_related("order").order_by("index"))
    assert [o.order.status if o.order else o.state for o in occ] == [
        "fulfilled",
        "partially_fulfilled",
        "active",
        "planned",
        "planned",
    ]
    assert occ[2].order.groups.count() == 2 and occ[2].rolled_in_km2 > 0  # the short one's remainder
    assert all(o.order.coverage_snapshots.exists() for o in occ[:3])
    assert Wallet.objects.get(org=acme).available_credits >= 0
    assert_ledger_matches_wallet(acme)


def test_the_per_occurrence_series_demo_has_an_occurrence_waiting_in_the_inbox(db):
    from orders.inbox import decisions_pending_queryset
    from tasking.demo import PER_PASS_DEMO_WEEKS, seed_tasking_series_per_occurrence
    from tasking.models import Quotation, TaskingSeries

    assert any(name == "tasking-series-per-occurrence" for _, name, _ in seeders())
    acme = make_org(name="Acme Demo", credits=50_000)
    users = {
        "acme_admin": make_user(org=acme, role="admin"),
        "acme_operator": make_user(org=acme, role="operator"),
        "staff": make_user(org=None, staff=True),
    }
    world = DemoWorld(orgs={"acme": acme}, users=users, log=lambda _: None)
    seed_tasking_series_per_occurrence(world)
    seed_tasking_series_per_occurrence(world)  # idempotent
    series = TaskingSeries.objects.get()
    assert (series.pricing, series.state, series.total_credits) == ("occurrence", "running", 0)
    occ = list(series.occurrences.order_by("index"))
    assert [o.state for o in occ] == ["quoted"] + ["planned"] * (PER_PASS_DEMO_WEEKS - 1)
    quote = Quotation.objects.get(order_id=occ[0].order_id)
    assert quote.decision == "PENDING" and quote.credits > 0
    assert str(quote.id) in {str(r["id"]) for r in decisions_pending_queryset(org=acme)}
