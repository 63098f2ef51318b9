from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from geopera_web.accounts.models import Membership, Organization, Role, User, UserToken, Workspace
from geopera_web.accounts.services import support_group_ensure, user_token_create, user_token_revoke
from geopera_web.billing.selectors import wallet_get
from geopera_web.billing.services import wallet_create, wallet_topup
from geopera_web.demo import DemoWorld, seeders

DEMO_PASSWORD = "demo-pass-2026"

ORGS = {
    "acme": {
        "name": "Acme Agriculture",
        "billing_mode": "credit",
        "credits": 2_500_000,
        "workspaces": ["Crop monitoring", "Water & irrigation"],
    },
    "blue": {
        "name": "Blue Harbour Ports",
        "billing_mode": "enterprise",
        "credits": 0,
        "workspaces": ["Port operations"],
    },
    "kite": {"name": "Kite Survey Co", "billing_mode": "card", "credits": 0, "workspaces": []},
}
PEOPLE = [
    # key, email, first, last, org, role
    ("acme_admin", "admin@acme.test", "Alice", "Nguyen", "acme", Role.ADMIN),
    ("acme_operator", "operator@acme.test", "Omar", "Haddad", "acme", Role.OPERATOR),
    ("acme_viewer", "viewer@acme.test", "Vera", "Lind", "acme", Role.VIEWER),
    ("blue_admin", "admin@blueharbour.test", "Ben", "Okafor", "blue", Role.ADMIN),
    ("blue_operator", "operator@blueharbour.test", "Priya", "Raman", "blue", Role.OPERATOR),
    ("kite_admin", "admin@kite.test", "Kai", "Moana", "kite", Role.ADMIN),
]


class Command(BaseCommand):
    help = "Load realistic demo data (idempotent: running it again changes nothing already there)."

    def handle(self, *args, **opts):
        log = self.stdout.write
        with transaction.atomic():
            orgs = {key: self._org(key, spec) for key, spec in ORGS.items()}
            users = {
                key: self._person(email, first, last, orgs[org], role)
                for key, email, first, last, org, role in PEOPLE
            }
            # Alice also belongs to Blue Harbour, to show the org switcher.
            Membership.objects.get_or_create(
                user=users["acme_admin"], org=orgs["blue"], defaults={"role": Role.VIEWER}
            )
            users["staff"] = self._person("support@geopera.test", "Sam", "Support", None, None, staff=True)
            self._tokens(users["acme_operator"], orgs["acme"])
        world = DemoWorld(orgs=orgs, users=users, log=log)
        for _, name, seeder in seeders():
            log(f"Seeding {name}…")
            seeder(world)
        log(self.style.SUCCESS("Demo data ready."))

    def _org(self, key: str, spec: dict) -> Organization:
        org, created = Organization.objects.get_or_create(
            name=spec["name"], defaults={"billing_mode": spec["billing_mode"]}
        )
        if created:
            Workspace.objects.create(org=org, name="Default workspace", is_default=True)
        wallet_create(org=org)  # every org has its wallet from the start (reads never write)
        if created and key == "kite":
            org.payment_method = "pm_card_visa"
            org.save(update_fields=["payment_method"])
        for name in spec["workspaces"]:
            Workspace.objects.get_or_create(org=org, name=name)
        if spec["credits"] and not wallet_get(org=org).available_credits and created:
            wallet_topup(org=org, credits=spec["credits"], memo="Demo opening balance")
        return org

    def _tokens(self, user: User, org: Organization) -> None:
        """Tokens on the operator's own page: one in use, one revoked (secrets are not printed)."""
        if UserToken.objects.filter(user=user).exists():
            return
        token, _ = user_token_create(user=user, org=org, name="Nightly export script", ttl_days=90)
        UserToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        old, _ = user_token_create(user=user, org=org, name="Old laptop", ttl_days=30)
        user_token_revoke(user=user, token_id=old.pk)

    def _person(self, email, first, last, org, role, staff=False) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email,
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                is_staff=staff,
            )
        if staff:
            user.groups.add(support_group_ensure())
        if org is not None:
            Membership.objects.get_or_create(user=user, org=org, defaults={"role": role})
        return user
