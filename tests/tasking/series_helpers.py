"""Helpers for the recurring-acquisition tests: a weekly series placed, studied, quoted, accepted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from geopera_web.billing.models import LedgerEntry, Wallet
from tasking.models import TaskingSeries
from tasking.services import feasibility_decide, quotation_decide, tasking_order_place
from tests.factories import MANUAL_PRODUCT, iso, make_quotation, make_study, study_option, tasking_params
from tests.geometry import fc, square

SERIES_PRICE = 40_000


def series_params(*, start_in_days: float = 3, weeks: int = 4, **overrides: Any) -> dict[str, Any]:
    start = timezone.now().replace(microsecond=0) + timedelta(days=start_in_days)
    params = {
        "displayName": "Weekly harbour watch",
        "acquisitionStart": iso(start),
        "acquisitionEnd": iso(start + timedelta(days=7)),
        "captureFrequency": "WEEKLY",
        "occurrences": weeks,
        **overrides,
    }
    return tasking_params(**{k: v for k, v in params.items() if v is not None})


def place_series(org, actor, **overrides: Any):
    return tasking_order_place(
        org=org,
        actor=actor,
        data_product_id=MANUAL_PRODUCT,
        params=series_params(**overrides),
        feature_collection=fc(square()),
    )


def accepted_series(
    org, operator, admin, staff, *, price: int = SERIES_PRICE, **overrides: Any
) -> TaskingSeries:
    """A weekly series of 4 (first window in 3 days) whose quote of `price` an admin accepted."""
    order = place_series(org, operator, **overrides)
    study = make_study(order, staff, options=[study_option(None)])
    feasibility_decide(org=org, actor=admin, study_id=study.id, option_id=study.options.get().id)
    quotation = make_quotation(order, staff, credits=price)
    quotation_decide(org=org, actor=admin, quotation_id=quotation.id, decision="ACCEPTED")
    return TaskingSeries.objects.get(parent=order)


def advance_through(series: TaskingSeries, last_index: int, *, after=timedelta(0)) -> None:
    """Run the sweep at the start of each occurrence up to `last_index`, as beat would."""
    from tasking.series import series_advance

    for occ in series.occurrences.filter(index__lte=last_index).order_by("index"):
        series_advance(now=occ.window_start + after)


def assert_ledger_matches_wallet(org) -> None:
    wallet = Wallet.objects.get(org=org)
    sums = LedgerEntry.objects.filter(org=org).aggregate(a=Sum("available_delta"), r=Sum("reserved_delta"))
    assert (sums["a"] or 0, sums["r"] or 0) == (wallet.available_credits, wallet.reserved_credits)
