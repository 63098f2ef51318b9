"""Sweeps of the tasking app (registered with `geopera_web.ops.sweeper` in `TaskingConfig.ready`)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from geopera_web.ops.sweeper import enqueue


def sweep_automatic_studies(limit: int = 100) -> int:
    """Automatic-feasibility orders still waiting for a study that was never generated (the task was
    lost: broker down at commit, worker killed mid-task past its redeliveries) nor referred to
    support: generate it again. `automatic_study_generate` does nothing for an order that moved on."""
    from orders.models import Order, OrderEvent

    from .models import Feasibility, FeasibilityStudy
    from .tasks import generate_automatic_study

    cutoff = timezone.now() - timedelta(seconds=settings.SWEEP_GRACE_SECONDS)
    ids = (
        Order.objects.filter(
            status=Order.Status.PENDING,
            sub_status="FEASIBILITY_WAITING_UPLOAD",
            data_product__tasking__sensor__feasibility=Feasibility.AUTOMATIC,
            updated_at__lt=cutoff,
        )
        .exclude(pk__in=FeasibilityStudy.objects.values("order_id"))
        .exclude(
            pk__in=OrderEvent.objects.filter(kind=OrderEvent.Kind.FEASIBILITY_REFERRED).values("order_id")
        )
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(enqueue(generate_automatic_study, str(pk)) for pk in ids)
