"""projects.*: workspaces and their members through the API: org admins manage every workspace;
operators (even a workspace's `admin` member) and viewers manage none (403 problem: they do not
hold projects:write); another org's workspace or person is a 404; `projects.list` is where an SDK
user finds a workspaceId."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from geopera_web.accounts.models import Workspace, WorkspaceMember
from geopera_web.accounts.selectors import workspace_default
from geopera_web.accounts.services import workspace_create
from tests.conftest import caller_for_key, caller_for_user
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_admin_creates_lists_updates_archives_and_deletes_a_workspace(api_admin, org, admin_user):
    created = api_admin.post(
        "projects.create", {"name": "Bushfire 2027", "description": "NSW", "gcs_region": "asia-southeast1"}
    )
    assert created.status_code == 200, created.content
    project = created.json()
    assert project["organization_id"] == str(org.pk) and project["gcs_region"] == "asia-southeast1"
    assert project["gcs_bucket_name"] is None and project["is_archived"] is False
    # Its creator is its first admin member.
    assert WorkspaceMember.objects.get(workspace_id=project["id"]).user == admin_user

    listed = api_admin.post("projects.list", {}).json()["projects"]
    assert [p["name"] for p in listed] == ["Default workspace", "Bushfire 2027"]
    assert listed[0]["is_default"] is True and listed[1]["member_count"] == 1

    renamed = api_admin.post("projects.update", {"project_id": project["id"], "name": "Bushfire"}).json()
    assert renamed["name"] == "Bushfire" and renamed["description"] == "NSW"

    archived = api_admin.post("projects.archive", {"project_id": project["id"]}).json()
    assert archived["is_archived"] is True
    assert [p["name"] for p in api_admin.post("projects.list", {}).json()["projects"]] == [
        "Default workspace"
    ]
    every = api_admin.post("projects.list", {"include_archived": True}).json()["projects"]
    assert len(every) == 2

    deleted = api_admin.post("projects.delete", {"project_id": project["id"]})
    assert deleted.json() == {"deleted": True, "project_id": project["id"], "storage_freed_bytes": 0}
    assert not Workspace.objects.filter(pk=project["id"]).exists()


def test_names_are_unique_per_org_and_the_default_workspace_stays(api_admin, org):
    api_admin.post("projects.create", {"name": "Ports"})
    dup = api_admin.post("projects.create", {"name": "ports"})
    assert dup.status_code == 409
    default = workspace_default(org=org)
    assert api_admin.post("projects.archive", {"project_id": str(default.pk)}).status_code == 409
    assert api_admin.post("projects.delete", {"project_id": str(default.pk)}).status_code == 409
    assert api_admin.post("projects.create", {"name": "x", "gcs_region": "mars-1"}).status_code == 422


def test_a_workspace_with_orders_is_archived_not_deleted(api_admin, org):
    ws = workspace_create(org=org, name="Busy")
    from orders.models import Order

    Order.objects.create(org=org, workspace=ws, order_type="archive", status="draft", billing_mode="credit")
    refused = api_admin.post("projects.delete", {"project_id": str(ws.pk)})
    assert refused.status_code == 409 and "archive it instead" in refused.json()["detail"]
    assert Workspace.objects.filter(pk=ws.pk).exists()


def test_members_are_added_changed_and_removed(api_admin, org, operator_user):
    ws = workspace_create(org=org, name="Team")
    added = api_admin.post(
        "projects.add_member", {"project_id": str(ws.pk), "user_id": str(operator_user.pk), "role": "viewer"}
    )
    assert added.status_code == 200, added.content
    assert added.json()["role"] == "viewer" and added.json()["org_role"] == "operator"
    again = api_admin.post(
        "projects.add_member", {"project_id": str(ws.pk), "user_id": str(operator_user.pk)}
    )
    assert again.status_code == 409 and again.json()["current_role"] == "viewer"
    changed = api_admin.post(
        "projects.update_member",
        {"project_id": str(ws.pk), "user_id": str(operator_user.pk), "role": "admin"},
    )
    assert changed.json()["role"] == "admin"
    bad_role = api_admin.post(
        "projects.update_member",
        {"project_id": str(ws.pk), "user_id": str(operator_user.pk), "role": "owner"},
    )
    # The document states the three roles: an unknown one is a validation error naming the field.
    assert bad_role.status_code == 422
    assert bad_role.json()["detail"][0]["loc"][-1] == "role"
    removed = api_admin.post(
        "projects.remove_member", {"project_id": str(ws.pk), "user_id": str(operator_user.pk)}
    )
    assert removed.json() == {"ok": True}
    gone = api_admin.post(
        "projects.remove_member", {"project_id": str(ws.pk), "user_id": str(operator_user.pk)}
    )
    assert gone.status_code == 404


WRITE_OPS = [
    "projects.create",
    "projects.update",
    "projects.archive",
    "projects.delete",
    "projects.add_member",
    "projects.update_member",
    "projects.remove_member",
]


def _operator_callers(operator_user, org):
    """The operator through each credential a person has: the session (the pages' fetches, with
    CSRF) and a user token (the SDK's)."""
    from django.test import Client

    from tests.conftest import ApiCaller

    session = Client(enforce_csrf_checks=True)
    session.force_login(operator_user)
    session.get("/")  # sets the CSRF cookie
    token = session.cookies["csrftoken"].value
    return {
        "session": ApiCaller(session, {"X-CSRFToken": token}),
        "user token": caller_for_user(operator_user, org),
    }


@pytest.mark.parametrize("op", WRITE_OPS)
def test_an_operator_manages_no_workspace_not_even_as_its_admin_member(op, org, operator_user, viewer_user):
    """The reference puts workspace management with the project's admins; here that is the org's
    admins: an operator gets a 403 problem+json naming projects:write, by session and by token,
    even as the workspace's `admin` member, and nothing changes."""
    mine = workspace_create(org=org, name="Mine")
    WorkspaceMember.objects.create(workspace=mine, user=operator_user, role="admin")
    WorkspaceMember.objects.create(workspace=mine, user=viewer_user, role="viewer")
    body = {
        "name": "Renamed",
        "project_id": str(mine.pk),
        "user_id": str(viewer_user.pk),
        "role": "admin",
        "description": "changed",
    }
    for how, caller in _operator_callers(operator_user, org).items():
        response = caller.post(op, body)
        assert response.status_code == 403, (how, response.content)
        assert response["Content-Type"].startswith("application/problem+json"), how
        assert response.json()["required_scope"] == "projects:write", how
    mine.refresh_from_db()
    assert (mine.name, mine.description, mine.is_archived) == ("Mine", "", False)
    assert Workspace.objects.filter(org=org).count() == 2
    assert dict(mine.members.values_list("user_id", "role")) == {
        operator_user.pk: "admin",
        viewer_user.pk: "viewer",
    }


def test_operators_do_not_hold_projects_write():
    from geopera_web.accounts.models import ROLE_SCOPES, Role, Scope

    assert Scope.PROJECTS_WRITE not in ROLE_SCOPES[Role.OPERATOR]
    assert Scope.PROJECTS_WRITE not in ROLE_SCOPES[Role.VIEWER]
    assert Scope.PROJECTS_WRITE in ROLE_SCOPES[Role.ADMIN]


@pytest.mark.parametrize(
    "op",
    [
        "projects.create",
        "projects.update",
        "projects.archive",
        "projects.delete",
        "projects.add_member",
        "projects.update_member",
        "projects.remove_member",
    ],
)
def test_viewers_change_no_workspace(op, api_viewer, org, viewer_user):
    ws = workspace_create(org=org, name="Look only")
    WorkspaceMember.objects.create(workspace=ws, user=viewer_user, role="admin")
    body = {"name": "n", "project_id": str(ws.pk), "user_id": str(viewer_user.pk), "role": "admin"}
    response = api_viewer.post(op, body)
    assert response.status_code == 403 and response.json()["required_scope"] == "projects:write"
    assert Workspace.objects.filter(org=org).count() == 2


@pytest.mark.parametrize(
    "op",
    [
        "projects.update",
        "projects.archive",
        "projects.delete",
        "projects.add_member",
        "projects.remove_member",
    ],
)
def test_another_orgs_workspace_is_a_404(op, api_admin, other_org, other_admin):
    theirs = workspace_create(org=other_org, name="Theirs")
    body = {"project_id": str(theirs.pk), "user_id": str(other_admin.pk), "name": "pwned"}
    response = api_admin.post(op, body)
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs" and not theirs.is_archived


def test_a_person_outside_the_org_cannot_be_added(api_admin, org, other_admin):
    ws = workspace_create(org=org, name="Closed")
    response = api_admin.post(
        "projects.add_member", {"project_id": str(ws.pk), "user_id": str(other_admin.pk)}
    )
    assert response.status_code == 404
    assert (
        api_admin.post("projects.add_member", {"project_id": str(ws.pk), "user_id": "abc"}).status_code == 404
    )


def test_an_api_key_with_projects_write_manages_workspaces(org):
    caller = caller_for_key(org, scopes=["projects:write", "orders:read"])
    created = caller.post("projects.create", {"name": "From CI"})
    assert created.status_code == 200
    assert WorkspaceMember.objects.filter(workspace_id=created.json()["id"]).count() == 0
    assert (
        caller_for_key(org, scopes=["orders:read"]).post("projects.create", {"name": "y"}).status_code == 403
    )


def test_projects_list_query_count_does_not_grow(api_admin, org):
    api_admin.post("projects.list", {})
    with CaptureQueriesContext(connection) as few:
        api_admin.post("projects.list", {})
    for i in range(6):
        ws = workspace_create(org=org, name=f"W{i}")
        WorkspaceMember.objects.create(workspace=ws, user=make_user(org=org), role="editor")
    with CaptureQueriesContext(connection) as many:
        assert len(api_admin.post("projects.list", {}).json()["projects"]) == 7
    assert len(many.captured_queries) == len(few.captured_queries)


def test_other_org_sees_none_of_our_workspaces(org, other_admin, other_org):
    workspace_create(org=org, name="Private")
    names = [
        p["name"]
        for p in caller_for_user(other_admin, other_org).post("projects.list", {}).json()["projects"]
    ]
    assert "Private" not in names


def test_an_archived_workspace_takes_no_new_orders(org, operator_user, api_admin):
    from geopera_web.errors import Conflict
    from tests.factories import make_tasking_request

    ws = workspace_create(org=org, name="Closed season")
    api_admin.post("projects.archive", {"project_id": str(ws.pk)})
    with pytest.raises(Conflict) as refused:
        make_tasking_request(org, operator_user, workspace_id=str(ws.pk))
    assert refused.value.slug == "workspace-archived"
    api_admin.post("projects.archive", {"project_id": str(ws.pk), "is_archived": False})
    assert make_tasking_request(org, operator_user, workspace_id=str(ws.pk)).workspace_id == ws.pk
