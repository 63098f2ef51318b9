from django.urls import path

from . import views, workspace_views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("switch-org/", views.switch_org, name="switch_org"),
    path("settings/api-keys/", views.api_keys, name="api_keys"),
    path("settings/api-keys/new", views.api_key_new, name="api_key_new"),
    path("settings/api-keys/<uuid:key_id>/revoke", views.api_key_delete, name="api_key_revoke"),
    path("settings/tokens/", views.tokens, name="tokens"),
    path("settings/tokens/new", views.token_new, name="token_new"),
    path("settings/tokens/<uuid:token_id>/revoke", views.token_revoke, name="token_revoke"),
    path("settings/workspaces/", workspace_views.workspaces, name="workspaces"),
    path("settings/workspaces/<uuid:workspace_id>/", workspace_views.workspace_detail, name="workspace"),
    path(
        "settings/workspaces/<uuid:workspace_id>/members/add",
        workspace_views.workspace_member_add_view,
        name="workspace_member_add",
    ),
    path(
        "settings/workspaces/<uuid:workspace_id>/members/<int:user_id>/role",
        workspace_views.workspace_member_update_view,
        name="workspace_member_update",
    ),
    path(
        "settings/workspaces/<uuid:workspace_id>/members/<int:user_id>/remove",
        workspace_views.workspace_member_remove_view,
        name="workspace_member_remove",
    ),
]
