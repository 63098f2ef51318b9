"""Workspace member roles mean something for orders: a `viewer` member of a workspace may read its
orders but cannot place, cancel or change them — through the API (403 problem+json
`workspace-viewer`) and the pages (403 page / toast) alike, because the shared placement and order
services check it. Editors and admins may; people who are not members are not restricted; org
admins never are; nothing is written when refused."""

from __future__ import annotations

import pytest
from django.test import Client

from geopera_web.accounts.models import Workspace, WorkspaceMember
from geopera_web.accounts.services import workspace_create
from orders.cart.models import CartItem
from orders.models import Order
from tasking.services import sensor_catalog_seed
from tests.factories import MANUAL_PRODUCT, make_tasking_request, tasking_params
from tests.geometry import fc, square

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def team(org) -> Workspace:
    return workspace_create(org=org, name="Field team")


def member(workspace: Workspace, user, role: str) -> None:
    WorkspaceMember.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})


def archive_body(workspace: Workspace, *ids: str) -> dict:
    return {
        "dataProduct": "optical-50cm",
        "workspaceId": str(workspace.pk),
        "featureCollection": {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "id": i, "geometry": None, "properties": {}} for i in ids],
        },
    }


def tasking_body(workspace: Workspace) -> dict:
    return {
        "workspaceId": str(workspace.pk),
        "dataProduct": MANUAL_PRODUCT,
        "params": tasking_params(),
        "featureCollection": fc(square()),
    }


def assert_viewer_refusal(response) -> None:
    assert response.status_code == 403, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith("/workspace-viewer")
    assert "viewer" in body["detail"] and "Field team" in body["detail"]


# --- the API ---------------------------------------------------------------------------------------


def test_a_viewer_member_cannot_place_archive_or_tasking_orders(
    api_operator, operator_user, team, org, sydney_captures
):
    sensor_catalog_seed()
    member(team, operator_user, "viewer")
    assert_viewer_refusal(api_operator.post("orders.place", archive_body(team, "SYD-A")))
    assert_viewer_refusal(api_operator.post("orders.place", tasking_body(team)))
    assert_viewer_refusal(api_operator.post("orders.tasking.place", tasking_body(team), route=True))
    assert not Order.objects.filter(org=org).exists()
    # The same person places in a workspace where they are not a viewer.
    default = org.workspaces.get(is_default=True)
    assert api_operator.post("orders.place", archive_body(default, "SYD-A")).status_code == 200


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_editors_and_admin_members_place(api_operator, operator_user, team, org, sydney_captures, role):
    member(team, operator_user, role)
    response = api_operator.post("orders.place", archive_body(team, "SYD-A"))
    assert response.status_code == 200, response.content
    assert Order.objects.get(org=org).workspace_id == team.pk


def test_org_admins_are_never_restricted_by_a_viewer_membership(
    api_admin, admin_user, team, org, sydney_captures
):
    member(team, admin_user, "viewer")
    assert api_admin.post("orders.place", archive_body(team, "SYD-A")).status_code == 200


def test_a_viewer_member_cannot_cancel_or_retag_the_workspaces_orders(api_operator, operator_user, team, org):
    sensor_catalog_seed()
    order = make_tasking_request(org, operator_user, workspace_id=str(team.pk))
    member(team, operator_user, "viewer")
    assert_viewer_refusal(api_operator.post("orders.cancel", {"order_id": str(order.pk)}))
    assert_viewer_refusal(api_operator.post("orders.update", {"order_id": str(order.pk), "tags": ["x"]}))
    order.refresh_from_db()
    assert order.status == "pending" and order.tags == []
    # Reading stays open to viewers.
    assert api_operator.post("orders.get", {"order_id": str(order.pk)}).status_code == 200
    member(team, operator_user, "editor")
    assert api_operator.post("orders.update", {"order_id": str(order.pk), "tags": ["x"]}).status_code == 200
    assert api_operator.post("orders.cancel", {"order_id": str(order.pk)}).status_code == 200


def test_an_api_key_is_bound_by_its_scopes_not_by_memberships(org, team, operator_user, sydney_captures):
    from tests.conftest import caller_for_key

    sensor_catalog_seed()
    member(team, operator_user, "viewer")
    key = caller_for_key(org)
    assert key.post("orders.tasking.place", tasking_body(team), route=True).status_code == 202


# --- the pages ------------------------------------------------------------------------------------


@pytest.fixture
def operator_client(operator_user) -> Client:
    client = Client()
    client.force_login(operator_user)
    return client


def test_pages_refuse_a_viewer_member_too(operator_client, operator_user, team, org, sydney_captures):
    sensor_catalog_seed()
    order = make_tasking_request(org, operator_user, workspace_id=str(team.pk))
    member(team, operator_user, "viewer")
    # Cart: the Place button with the team's workspace.
    operator_client.post("/archive/cart/toggle/", {"capture_id": "SYD-A"})
    placed = operator_client.post(
        "/archive/cart/place/",
        {"idempotency_key": "v-1", "projectId": str(team.pk), "licenseType": "standard"},
    )
    assert placed.status_code == 403
    assert "viewer" in placed.content.decode()
    assert CartItem.objects.count() == 1 and Order.objects.filter(org=org).count() == 1
    # Cancel and tags on the order page (htmx: a toast).
    cancel = operator_client.post(f"/orders/{order.pk}/cancel/", headers=HX)
    assert cancel.status_code == 403 and "viewer" in cancel.content.decode()
    tags = operator_client.post(f"/orders/{order.pk}/tags/", {"tags": "x"}, headers=HX)
    assert tags.status_code == 403
    order.refresh_from_db()
    assert order.status == "pending" and order.tags == []
    # The order page still opens for them, without the controls they may not use.
    page = operator_client.get(f"/orders/{order.pk}/")
    assert page.status_code == 200
    assert f"/orders/{order.pk}/cancel/" not in page.content.decode()


def _picker_ids(html: str, select_id: str) -> set[str]:
    import re

    start = html.index(f'id="{select_id}"')
    block = html[start : html.index("</select>", start)]
    return set(re.findall(r'<option value="([0-9a-f-]{36})"', block))


def test_the_cart_and_tasking_pickers_list_only_workspaces_the_person_may_place_in(
    operator_client, operator_user, admin_user, team, org, sydney_captures
):
    sensor_catalog_seed()
    editing = workspace_create(org=org, name="Editing team")
    member(team, operator_user, "viewer")
    member(editing, operator_user, "editor")
    default = Workspace.objects.get(org=org, is_default=True)
    operator_client.post("/archive/cart/toggle/", {"capture_id": "SYD-A"})
    cart = operator_client.get("/archive/cart/").content.decode()
    assert _picker_ids(cart, "cart-workspace") == {str(default.pk), str(editing.pk)}
    tasking = operator_client.get("/tasking/new/").content.decode()
    assert _picker_ids(tasking, "workspace") == {str(default.pk), str(editing.pk)}
    # An org admin who is a viewer member is not restricted, so sees every workspace.
    member(team, admin_user, "viewer")
    admin = Client()
    admin.force_login(admin_user)
    admin.post("/archive/cart/toggle/", {"capture_id": "SYD-A"})
    every = {str(default.pk), str(editing.pk), str(team.pk)}
    assert _picker_ids(admin.get("/archive/cart/").content.decode(), "cart-workspace") == every
    assert _picker_ids(admin.get("/tasking/new/").content.decode(), "workspace") == every


def test_a_viewer_of_every_workspace_gets_no_picker_and_is_told_why(
    operator_client, operator_user, org, team
):
    sensor_catalog_seed()
    for ws in Workspace.objects.filter(org=org):
        member(ws, operator_user, "viewer")
    tasking = operator_client.get("/tasking/new/").content.decode()
    assert 'data-testid="no-workspace"' in tasking and 'name="workspace_id"' not in tasking
