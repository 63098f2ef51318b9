"""Support staff record deliveries by hand (the support desk's delivery page)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from geopera_web.accounts.decorators import staff_required
from geopera_web.errors import ApplicationError

from ..selectors import order_get_for_support
from .forms import ManualDeliveryForm
from .services import manual_delivery_record, order_is_deliverable


@require_http_methods(["GET", "POST"])
@staff_required
def support_delivery_new(request: HttpRequest, order_id: UUID) -> HttpResponse:
    """Support staff record a delivery by hand: a STAC Item or GeoJSON footprint for one AOI."""
    order = order_get_for_support(order_id=order_id)
    form = ManualDeliveryForm(request.POST or None, request.FILES or None, order=order)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                capture = manual_delivery_record(
                    order=order,
                    group_id=form.cleaned_data["group"],
                    upload=form.cleaned_data["file"].read(),
                    actor=request.user,
                    acquired_at=form.cleaned_data.get("acquired_at"),
                    note=form.cleaned_data.get("note", ""),
                )
            except ApplicationError as exc:
                form.add_error("file" if exc.status == 400 else None, exc.detail)
                status = exc.status
            else:
                messages.success(
                    request, f"Recorded {capture.scene_id} for {capture.group}. Coverage is being updated."
                )
                return redirect(request.path)
        status = status if status != 200 else 400
    deliveries = order.delivered_captures.select_related("group").order_by("-delivered_at", "scene_id")[:50]
    return render(
        request,
        "orders/support_delivery_new.html",
        {"order": order, "form": form, "deliveries": deliveries, "deliverable": order_is_deliverable(order)},
        status=status,
    )
