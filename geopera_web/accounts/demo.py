"""Demo data for the integrator's surface: workspace members (so projects.* has people to show),
an archived workspace, and an API key with an expiry and its own rate limit. Idempotent."""

from __future__ import annotations

from geopera_web.demo import DemoWorld

from .models import ApiKey, Workspace, WorkspaceMember
from .services import api_key_create

DEMO_KEY_NAME = "Nightly ingest (demo)"


def seed_integrator(world: DemoWorld) -> None:
    acme = world.orgs["acme"]
    admin, operator, viewer = (world.users[k] for k in ("acme_admin", "acme_operator", "acme_viewer"))
    members = {
        "Crop monitoring": [(admin, "admin"), (operator, "admin"), (viewer, "viewer")],
        "Water & irrigation": [(admin, "admin"), (operator, "editor")],
    }
    for name, people in members.items():
        ws = Workspace.objects.filter(org=acme, name=name).first()
        if ws is None:
            continue
        for user, role in people:
            WorkspaceMember.objects.get_or_create(
                workspace=ws, user=user, defaults={"role": role, "added_by": admin}
            )
    archived, created = Workspace.objects.get_or_create(
        org=acme,
        name="2025 pilot",
        defaults={"description": "Last season's trial fields.", "is_archived": True},
    )
    if created:
        WorkspaceMember.objects.create(workspace=archived, user=admin, role="admin", added_by=admin)
    if not ApiKey.objects.filter(org=acme, name=DEMO_KEY_NAME).exists():
        # The secret is not printed: mint your own on the API keys page or with api_keys.create.
        api_key_create(
            org=acme,
            name=DEMO_KEY_NAME,
            scopes=["orders:read", "billing:read", "usage:read", "provenance:read"],
            actor=admin,
            rate_limit=120,
            expires_in_days=90,
        )
    world.log("  workspace members, an archived workspace and a demo API key for Acme")


def seed_workspace_budgets(world: DemoWorld) -> None:
    """Monthly budgets for Acme's two working workspaces, set from what they committed this month so
    the workspace and policy pages show a burn-down (one comfortable, one near its limit). Runs after
    the orders are seeded; leaves a budget someone already set alone."""
    from orders.approvals.models import SpendPolicy
    from orders.approvals.services import spend_policy_update, workspace_month_spent

    acme, admin = world.orgs["acme"], world.users["acme_admin"]
    for name, share in (("Crop monitoring", 0.7), ("Water & irrigation", 0.9)):
        ws = Workspace.objects.filter(org=acme, name=name).first()
        if (
            ws is None
            or SpendPolicy.objects.filter(workspace=ws, monthly_budget_credits__isnull=False).exists()
        ):
            continue
        spent = workspace_month_spent(workspace=ws)
        budget = max(100_000, round(spent / share / 10_000) * 10_000)
        spend_policy_update(org=acme, actor=admin, workspace_id=str(ws.pk), monthly_budget_credits=budget)
    world.log("  workspace budgets for Acme (see /settings/workspaces/)")
