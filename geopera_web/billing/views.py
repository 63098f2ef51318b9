from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from geopera_web.accounts.decorators import org_required, role_required
from geopera_web.dashboard import billing_panels

from .ledger_rows import charge_rows, ledger_csv_lines, ledger_rows
from .selectors import charge_list, invoice_month_total, ledger_list, wallet_get


@require_GET
@org_required
def overview(request: HttpRequest) -> HttpResponse:
    """Balance, holds, and every movement. Admins see it all; others see balances only."""
    ledger_page = Paginator(ledger_list(org=request.org), 25).get_page(request.GET.get("page"))
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
            "ledger_query": urlencode({"charges_page": charges_page.number})
            if charges_page.number > 1
            else "",
            "charges_query": urlencode({"page": ledger_page.number}) if ledger_page.number > 1 else "",
            "invoice_total": invoice_month_total(org=request.org)
            if request.org.billing_mode == "enterprise"
            else None,
            "show_movements": request.membership.role == "admin",
            "panels": billing_panels(request),
        },
    )


@require_GET
@role_required("admin")
def ledger_csv(request: HttpRequest) -> StreamingHttpResponse:
    """Every ledger movement of the org as CSV (admins, like the ledger on the page)."""
    rows = ledger_rows(ledger_list(org=request.org).iterator(chunk_size=500), org=request.org)
    response = StreamingHttpResponse(ledger_csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="geopera-ledger-{request.org.pk}.csv"'
    return response
