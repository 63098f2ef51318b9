from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from geopera_web.accounts.decorators import org_required, role_required
from geopera_web.dashboard import billing_panels
from geopera_web.errors import parse_uuid

from .ledger_rows import charge_rows, ledger_csv_lines, ledger_rows
from .selectors import charge_list, invoice_month_total, ledger_list, wallet_get


@require_GET
@org_required
def overview(request: HttpRequest) -> HttpResponse:
    """Balance, holds, and every movement. Admins see it all; others see balances only.
    `?order=<id>` narrows the ledger to one order's movements (an order's timeline links here)."""
    order_filter = _order_filter(request)
    ledger = ledger_list(org=request.org, order_id=order_filter[0] if order_filter else None)
    ledger_page = Paginator(ledger, 25).get_page(request.GET.get("page"))
    # Offset paging (a COUNT and one page): an org's charges grow with its orders.
    charges_page = Paginator(charge_list(org=request.org), 20).get_page(request.GET.get("charges_page"))
    return render(
        request,
        "billing/overview.html",
        {
            "wallet": wallet_get(org=request.org),
            "ledger_page": ledger_page,
            "ledger_rows": ledger_rows(ledger_page.object_list, org=request.org),
            "charges": charge_rows(charges_page.object_list, org=request.org),
            "charges_page": charges_page,
            # Each pager keeps the other's page.
            "ledger_query": _query(order_filter, charges_page=charges_page.number),
            "charges_query": _query(order_filter, page=ledger_page.number),
            "order_filter": order_filter,
            "invoice_total": invoice_month_total(org=request.org)
            if request.org.billing_mode == "enterprise"
            else None,
            "show_movements": request.membership.role == "admin",
            "panels": billing_panels(request),
        },
    )


def _query(order_filter: tuple[str, str] | None, **pages: int) -> str:
    """What a pager keeps: the order filter and the other table's page (when past the first)."""
    keep = {"order": order_filter[0]} if order_filter else {}
    return urlencode(keep | {k: v for k, v in pages.items() if v > 1})


def _order_filter(request: HttpRequest) -> tuple[str, str] | None:
    """(id, name) of the order in `?order=`; another org's or an unknown order is a 404."""
    raw = request.GET.get("order")
    if not raw:
        return None
    from orders.models import Order  # the page renders orders' names; the platform owns no order

    oid = parse_uuid(raw)
    name = (
        Order.objects.filter(org=request.org, pk=oid).values_list("display_name", flat=True).first()
        if oid
        else None
    )
    if name is None:
        raise Http404("Order not found.")
    return str(oid), name or "this order"


@require_GET
@role_required("admin")
def ledger_csv(request: HttpRequest) -> StreamingHttpResponse:
    """Every ledger movement of the org as CSV (admins, like the ledger on the page)."""
    rows = ledger_rows(ledger_list(org=request.org).iterator(chunk_size=500), org=request.org)
    response = StreamingHttpResponse(ledger_csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="geopera-ledger-{request.org.pk}.csv"'
    return response
