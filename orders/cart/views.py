"""The cart panel of the archive page (htmx) and its Place button."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from geopera_web import jsonbounds
from geopera_web.accounts.decorators import org_required, role_required
from geopera_web.accounts.models import BillingMode, Membership
from geopera_web.accounts.selectors import workspace_list_orderable
from geopera_web.api.idempotency import run_idempotent
from geopera_web.api.views import json_response
from geopera_web.billing.gateways import TestGateway, get_gateway
from geopera_web.billing.selectors import wallet_get
from geopera_web.errors import ApplicationError, Conflict, InvalidInput, PaymentRequired

from ..api import order_to_wire
from ..approvals.services import approval_required, policy_effective
from ..selectors import order_get_detail
from ..services import LICENSE_TYPES as ORDER_LICENSE_TYPES
from .pricing import archive_quote
from .selectors import cart_get, cart_items
from .services import (
    cart_item_clip,
    cart_payload,
    cart_place,
    cart_remove,
    cart_set_aoi,
    cart_set_split,
    cart_toggle,
)


def _panel_context(
    request: HttpRequest,
    *,
    key: str | None = None,
    notice: str = "",
    payment: dict | None = None,
    form: dict | None = None,
    review: bool = False,
) -> dict:
    """Everything the cart panel shows, in a constant number of queries: the items, the server's
    estimate for them, the wallet after the order, and a fresh Idempotency-Key for this click-through."""
    org, user = request.org, request.user
    cart = cart_get(org=org, user=user)
    items = cart_items(cart=cart)
    split = bool(cart and cart.split_by_date)
    quote = archive_quote(captures=cart_payload(items), split_by_date=split)
    errors = {e.capture_id: e for e in quote.errors}
    wallet = wallet_get(org=org)
    total = quote.total_credits
    groups_fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(g.geometry.json),
                "properties": {"captures": g.capture_ids, "credits": g.credits, "name": g.name},
            }
            for g in quote.groups
            if g.geometry is not None
        ],
    }
    state = {
        "captureIds": [i.capture.scene_id for i in items],
        "clipped": [i.capture.scene_id for i in items if i.is_clipped],
        "billed": groups_fc,
        "hasAoi": bool(cart and cart.aoi),
        "totalCredits": total,
    }
    role = request.membership.role
    # Only where this person may place (a viewer of a workspace would be refused there).
    workspaces = list(workspace_list_orderable(org=org, user=request.user, org_role=role))
    form = form or {}
    afford = _affordability(org=org, role=role, total=total, available=wallet.available_credits)
    return {
        "cart_panel": True,
        "cart": cart,
        "items": [{"item": i, "error": errors.get(i.capture.scene_id)} for i in items],
        "quote": quote,
        "split_by_date": split,
        "has_aoi": bool(cart and cart.aoi),
        "billing_mode": org.billing_mode,
        "wallet": wallet,
        "balance_after": wallet.available_credits - total,
        "workspaces": workspaces,
        "license_types": LICENSE_TYPES,
        "idempotency_key": key or str(uuid.uuid4()),
        "cart_state": state,
        "can_place": role in ("admin", "operator"),
        "notice": notice,
        "payment": payment,
        "form": form,
        "afford": afford,
        # The review step: what will be bought, under which licence, in which workspace, for what.
        "review": _review(request, form=form, workspaces=workspaces, quote=quote)
        if review and items
        else None,
    }


def _affordability(*, org: Any, role: str, total: int, available: int) -> dict[str, Any]:
    """Can this cart be paid for, and if not, why and what the person looking can do about it.
    Only a prepaid (credit) wallet can be short; card holds and invoices are settled elsewhere."""
    if org.billing_mode != BillingMode.CREDIT or total <= available:
        return {"ok": True}
    short = total - available
    if role == "admin":
        step = f"Ask support for a top-up of at least {short:,} credits (A${short / 100:,.2f})."
    else:
        admins = [
            str(m.user) for m in Membership.objects.filter(org=org, role="admin").select_related("user")[:3]
        ]
        step = (
            f"Ask an admin ({', '.join(admins) or 'your organization’s admins'}) to arrange a top-up "
            f"of at least {short:,} credits."
        )
    return {
        "ok": False,
        "short": short,
        "reason": f"Not enough credits: this order costs {total:,} cr and {available:,} cr are available "
        f"({short:,} cr short).",
        "next_step": step,
    }


def _review(request: HttpRequest, *, form: dict, workspaces: list, quote: Any) -> dict[str, Any]:
    workspace = next((w for w in workspaces if str(w.id) == form.get("projectId")), None) or next(
        (w for w in workspaces if w.is_default), workspaces[0] if workspaces else None
    )
    license_type = form.get("licenseType") or "standard"
    # The same rule the placement applies: above the threshold, the Place button asks an admin.
    approval = workspace is not None and approval_required(
        org=request.org, workspace=workspace, actor=request.user, credits=quote.total_credits
    )
    return {
        "needs_approval": approval,
        "threshold": policy_effective(org=request.org, workspace=workspace).threshold if approval else None,
        "workspace": workspace,
        "license_type": license_type,
        "license_label": ORDER_LICENSE_TYPES.get(license_type, license_type),
        "captures": sum(len(g.capture_ids) for g in quote.groups),
    }


LICENSE_TYPES = list(ORDER_LICENSE_TYPES.items())


def _panel(request: HttpRequest, status: int = 200, **kwargs) -> HttpResponse:
    return render(request, "orders/_cart_panel.html", _panel_context(request, **kwargs), status=status)


@require_GET
@org_required
def cart_panel(request: HttpRequest) -> HttpResponse:
    return _panel(request)


@require_POST
@org_required
def cart_toggle_view(request: HttpRequest) -> HttpResponse:
    cart_toggle(org=request.org, user=request.user, capture_id=request.POST.get("capture_id", ""))
    return _panel(request)


@require_POST
@org_required
def cart_remove_view(request: HttpRequest, capture_id: str) -> HttpResponse:
    cart_remove(org=request.org, user=request.user, capture_id=capture_id)
    return _panel(request)


@require_POST
@org_required
def cart_aoi_view(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("geometry") or ""
    try:
        geometry = jsonbounds.loads(raw) if raw.strip() else None
    except ValueError:
        raise InvalidInput("The area of interest is not valid JSON.") from None
    cart_set_aoi(org=request.org, user=request.user, geometry=geometry)
    return _panel(request)


@require_POST
@org_required
def cart_clip_view(request: HttpRequest, capture_id: str) -> HttpResponse:
    clip = request.POST.get("clip") in ("1", "true", "on")
    cart_item_clip(org=request.org, user=request.user, capture_id=capture_id, clip=clip)
    return _panel(request)


@require_POST
@org_required
def cart_split_view(request: HttpRequest) -> HttpResponse:
    split = request.POST.get("splitByDate") in ("1", "true", "on")
    cart_set_split(org=request.org, user=request.user, split_by_date=split)
    return _panel(request)


def _place(
    request: HttpRequest, *, key: str, workspace_id: str, license_type: str, approval_note: str = ""
) -> HttpResponse:
    """Place the cart under `key` through the platform's idempotency store, shared with the API's
    orders.archive.place: a double click or a retry after 3-D Secure replays, never re-places."""
    form = {"projectId": workspace_id, "licenseType": license_type, "approvalNote": approval_note}
    # The fingerprint is the form, not the cart: the key is minted with each panel render (i.e. per
    # cart state), and the cart is emptied by the first placement, so a replay must not depend on it.
    body = {"via": "cart", "projectId": workspace_id or None, "licenseType": license_type}
    if approval_note:
        body["approvalNote"] = approval_note

    def execute() -> HttpResponse:
        order = cart_place(
            org=request.org,
            user=request.user,
            workspace_id=workspace_id or None,
            license_type=license_type,
            idempotency_key=key,
            approval_note=approval_note,
        )
        return json_response(order_to_wire(order_get_detail(org=request.org, order_id=order.pk)), status=202)

    try:
        response = run_idempotent(
            org=request.org, operation="orders.archive.place", key=key, body=body, execute=execute
        )
    except PaymentRequired as exc:
        payment = {
            "message": exc.detail,
            "client_secret": exc.extra.get("client_secret", ""),
            "slug": exc.slug,
        }
        return _panel(request, status=402, key=key, payment=payment, form=form)
    except Conflict as exc:
        if exc.slug == "idempotency-key-in-flight":
            return _panel(request, key=key, notice="in-flight", form=form)
        return _panel(request, status=409, key=key, notice=exc.detail, form=form)
    except ApplicationError as exc:
        return _panel(request, status=exc.status, key=key, notice=exc.detail, form=form)
    order_id = json.loads(response.content)["id"]
    # The order page greets its arrival with what was just bought and what happens next.
    url = reverse("orders:detail", args=[order_id]) + "?placed=1"
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_POST
@role_required("admin", "operator")
def cart_review_view(request: HttpRequest) -> HttpResponse:
    """The step before Place: the panel with a confirmation dialog stating exactly what happens."""
    form = {
        "projectId": request.POST.get("projectId", ""),
        "licenseType": request.POST.get("licenseType", ""),
    }
    if form["licenseType"] not in ORDER_LICENSE_TYPES:
        form["licenseType"] = "standard"
    return _panel(request, key=_key_from(request), form=form, review=True)


def _key_from(request: HttpRequest) -> str:
    key = request.POST.get("idempotency_key", "").strip()
    return key or str(uuid.uuid4())


@require_POST
@role_required("admin", "operator")
def cart_place_view(request: HttpRequest) -> HttpResponse:
    return _place(
        request,
        key=_key_from(request),
        workspace_id=request.POST.get("projectId", ""),
        license_type=request.POST.get("licenseType") or "standard",
        approval_note=request.POST.get("approvalNote", "").strip(),
    )


@require_POST
@role_required("admin", "operator")
def cart_challenge_view(request: HttpRequest) -> HttpResponse:
    """Stands in for the bank's 3-D Secure page (test gateway only), then retries the placement
    with the SAME Idempotency-Key, as a real checkout does after the challenge."""
    if not isinstance(get_gateway(), TestGateway):
        raise Http404
    TestGateway.complete_challenge(request.POST.get("client_secret", ""))
    return _place(
        request,
        key=_key_from(request),
        workspace_id=request.POST.get("projectId", ""),
        license_type=request.POST.get("licenseType") or "standard",
    )
