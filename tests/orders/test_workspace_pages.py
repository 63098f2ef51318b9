"""The org admins' workspace pages (/settings/workspaces/): every workspace with member count, order
count and this month's spend against its budget, in a constant number of queries; a workspace's
members and roles, added / changed / removed through the project services; admins only."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from geopera_web.accounts.models import WorkspaceMember
from geopera_web.accounts.services import workspace_create
from orders.approvals.models import SpendPolicy
from orders.approvals.services import workspace_month_spent
from tests.factories import make_archive_order, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_the_list_shows_counts_and_the_months_spend_against_the_budget(
    admin_client, org, operator_user, viewer_user, sydney_captures
):
    team = workspace_create(org=org, name="Field team")
    WorkspaceMember.objects.create(workspace=team, user=operator_user, role="editor")
    WorkspaceMember.objects.create(workspace=team, user=viewer_user, role="viewer")
    SpendPolicy.objects.create(org=org, workspace=team, monthly_budget_credits=1_000_000)
    order = make_archive_order(org=org, actor=operator_user, scene_ids=["SYD-A"], workspace_id=str(team.pk))
    spent = workspace_month_spent(workspace=team)
    assert spent == order.total_credits > 0
    page = admin_client.get("/settings/workspaces/")
    assert page.status_code == 200
    body = page.content.decode()
    row = body.split("Field team", 1)[1].split("</tr>", 1)[0]
    assert 'data-testid="member-count" data-label="Members">2</td>' in row
    assert 'data-testid="order-count" data-label="Orders">1</td>' in row
    assert f"{spent:,} of 1,000,000 credits" in row
    assert "Default workspace" in body or "default" in body


def test_the_list_does_not_grow_queries_with_workspaces(admin_client, org, operator_user):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get("/settings/workspaces/").status_code == 200
        return len(ctx.captured_queries)

    workspace_create(org=org, name="One")
    few = count()
    for i in range(6):
        ws = workspace_create(org=org, name=f"More {i}")
        WorkspaceMember.objects.create(workspace=ws, user=operator_user, role="viewer")
        SpendPolicy.objects.create(org=org, workspace=ws, monthly_budget_credits=100 * (i + 1))
    assert count() == few


def test_members_are_added_changed_and_removed_on_the_page(admin_client, org, operator_user):
    team = workspace_create(org=org, name="Field team")
    url = f"/settings/workspaces/{team.pk}/"
    page = admin_client.get(url)
    assert page.status_code == 200 and operator_user.email in page.content.decode()  # a candidate
    added = admin_client.post(url + "members/add", {"user_id": operator_user.pk, "role": "viewer"})
    assert added.status_code == 302
    assert WorkspaceMember.objects.get(workspace=team, user=operator_user).role == "viewer"
    again = admin_client.post(
        url + "members/add", {"user_id": operator_user.pk, "role": "editor"}, follow=True
    )
    assert "already a viewer" in again.content.decode()
    bad = admin_client.post(url + f"members/{operator_user.pk}/role", {"role": "owner"}, follow=True)
    assert bad.status_code == 200 and "Unknown workspace role" in bad.content.decode()
    admin_client.post(url + f"members/{operator_user.pk}/role", {"role": "editor"})
    assert WorkspaceMember.objects.get(workspace=team, user=operator_user).role == "editor"
    page = admin_client.get(url).content.decode()
    assert 'data-testid="member-row"' in page and operator_user.email in page
    admin_client.post(url + f"members/{operator_user.pk}/remove")
    assert not WorkspaceMember.objects.filter(workspace=team).exists()


def test_someone_outside_the_org_cannot_be_added(admin_client, org, other_admin):
    team = workspace_create(org=org, name="Field team")
    response = admin_client.post(
        f"/settings/workspaces/{team.pk}/members/add",
        {"user_id": other_admin.pk, "role": "editor"},
        follow=True,
    )
    assert "No member of your organization" in response.content.decode()
    assert not WorkspaceMember.objects.filter(workspace=team).exists()


def test_only_org_admins_reach_the_pages_and_another_orgs_workspace_is_a_404(
    org, operator_user, admin_client, other_org
):
    team = workspace_create(org=org, name="Field team")
    theirs = workspace_create(org=other_org, name="Theirs")
    operator = Client()
    operator.force_login(operator_user)
    assert operator.get("/settings/workspaces/").status_code == 403
    assert operator.get(f"/settings/workspaces/{team.pk}/").status_code == 403
    refused = operator.post(
        f"/settings/workspaces/{team.pk}/members/add", {"user_id": operator_user.pk, "role": "admin"}
    )
    assert refused.status_code == 403 and not WorkspaceMember.objects.exists()
    assert admin_client.get(f"/settings/workspaces/{theirs.pk}/").status_code == 404
    assert (
        admin_client.post(
            f"/settings/workspaces/{theirs.pk}/members/add", {"user_id": operator_user.pk}
        ).status_code
        == 404
    )


def test_the_page_is_linked_from_the_admins_menu(admin_client, org, operator_user):
    assert 'data-testid="nav-workspaces"' in admin_client.get("/").content.decode()
    operator = Client()
    operator.force_login(operator_user)
    assert 'data-testid="nav-workspaces"' not in operator.get("/").content.decode()


def test_a_person_of_many_workspaces_is_fine(admin_client, org):
    people = [make_user(org=org, role="operator") for _ in range(3)]
    team = workspace_create(org=org, name="Busy")
    for p in people:
        WorkspaceMember.objects.create(workspace=team, user=p, role="editor")
    page = admin_client.get(f"/settings/workspaces/{team.pk}/").content.decode()
    assert page.count('data-testid="member-row"') == 3
