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
