"""What the orders app contributes to the platform: its demo seeders (in `orders/demo.py`) and the
dashboard's recent-orders panel."""

from __future__ import annotations

from geopera_web.dashboard import register_billing_panel, register_panel
from geopera_web.demo import register_seeder
from geopera_web.events.notifications import register_recipients

from .demo import (
    seed_approvals,
    seed_archive_orders,
    seed_catalog_demo,
    seed_coverage,
    seed_order_watchers,
    seed_watches,
)

register_seeder(order=20, name="catalog", seeder=seed_catalog_demo)
register_seeder(order=40, name="archive-orders", seeder=seed_archive_orders)
register_seeder(order=60, name="coverage", seeder=seed_coverage)
register_seeder(order=70, name="approvals", seeder=seed_approvals)
register_seeder(order=80, name="watches", seeder=seed_watches)
register_seeder(order=85, name="order-watchers", seeder=seed_order_watchers)


def _watch_matched_recipients(events: list) -> dict:
    from .watches.services import watch_matched_recipients

    return watch_matched_recipients(events)


register_recipients("watch.matched", _watch_matched_recipients)


def _recent_orders_panel(request) -> dict:
    """The org's latest orders, with coverage for those acquiring (two queries)."""
    from .coverage.selectors import coverage_summary_for_orders
    from .selectors import order_list
    from .states import order_states_attach, waiting_counts

    recent = order_states_attach(order_list(org=request.org).order_by("-created_at")[:6])
    acquiring = [o.pk for o in recent if o.status in ("active", "fulfilled", "partially_fulfilled")]
    return {
        "recent_orders": recent,
        "coverage": coverage_summary_for_orders(org=request.org, order_ids=acquiring),
        "waiting": waiting_counts(org=request.org),
    }


register_panel(order=10, template="orders/_dashboard_panel.html", context=_recent_orders_panel)


def _budget_panel(request) -> dict:
    """This month's spend of every workspace against its budget (the Billing page's burn-down)."""
    from .approvals.selectors import policies_overview

    return {"overview": policies_overview(org=request.org)}


register_billing_panel(order=10, template="orders/approvals/_billing_panel.html", context=_budget_panel)
