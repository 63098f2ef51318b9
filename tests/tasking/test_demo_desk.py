"""seed_demo's support desk: a few dozen requests of more orgs in every desk state, some claimed by
two staff members, one AOI over the antimeridian; seeding again adds nothing."""

from __future__ import annotations

import pytest

from geopera_web.demo import DemoWorld, seeders
from orders.models import Order
from tasking.demo import DESK_STAGES, seed_support_desk
from tasking.desk import DeskFilters, desk_page
from tasking.models import SupportClaim
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_demo_desk_fills_every_state_and_pages_and_is_idempotent():
    assert any(name == "support-desk" for _, name, _ in seeders())
    staff = make_user(org=None, staff=True)
    world = DemoWorld(orgs={}, users={"staff": staff}, log=lambda _: None)
    seed_support_desk(world)
    seed_support_desk(world)
    desk_orders = Order.objects.filter(metadata__demo__startswith="desk-")
    assert desk_orders.count() == len(DESK_STAGES) >= 30
    subs = set(desk_orders.values_list("sub_status", flat=True))
    assert subs == {"FEASIBILITY_WAITING_UPLOAD", "QUOTATION_WAITING_UPLOAD", "FEASIBILITY_WAITING_RESPONSE"}
    claims = SupportClaim.objects.all()
    assert claims.count() >= 6 and claims.values("staff").distinct().count() == 2
    assert desk_page(filters=DeskFilters(state="all"), staff=staff).paginator.num_pages >= 2
    assert len(desk_page(filters=DeskFilters(state="expiring"), staff=staff).object_list) == 3
    fiji = desk_orders.get(display_name__contains="antimeridian").groups.get()
    xmin, _, xmax, _ = fiji.geometry.extent
    assert (xmin, xmax) == (-180.0, 180.0)  # stored split at ±180, as RFC 7946 asks


def test_demo_desk_orgs_are_made_by_the_org_service_with_their_wallets():
    from geopera_web.accounts.models import Organization
    from geopera_web.billing.models import Wallet
    from tasking.demo import DESK_ORGS

    world = DemoWorld(orgs={}, users={"staff": make_user(org=None, staff=True)}, log=lambda _: None)
    seed_support_desk(world)
    orgs = Organization.objects.filter(name__in=[name for _, name, _, _, _ in DESK_ORGS])
    assert orgs.count() == len(DESK_ORGS)
    for org in orgs:
        assert Wallet.objects.filter(org=org).count() == 1, org.name
        assert org.workspaces.filter(is_default=True).count() == 1, org.name
