"""Demo audit rows: a support top-up and a role change in Acme's trail (idempotent)."""

from __future__ import annotations

from geopera_web.demo import DemoWorld


def seed_audit(world: DemoWorld) -> None:
    from .models import AuditEvent
    from .services import audit_record

    acme = world.orgs.get("acme")
    if acme is None or AuditEvent.objects.filter(org=acme, summary__details__demo=True).exists():
        return
    staff, admin = world.users.get("staff"), world.users.get("acme_admin")
    audit_record(
        action="wallet.topup",
        actor=staff,
        org=acme,
        target=acme.wallet if hasattr(acme, "wallet") else None,
        credits=50_000,
        memo="Welcome credits",
        demo=True,
    )
    operator = world.users.get("acme_operator")
    audit_record(
        action="membership.set",
        actor=admin,
        org=acme,
        before={"role": "viewer"},
        after={"role": "operator"},
        user=getattr(operator, "email", ""),
        demo=True,
    )
    world.log("audit: 2 demo audit events for Acme")
