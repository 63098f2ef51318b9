"""Organizations, workspaces, people and their credentials.

Every customer-facing row in the product belongs to exactly one Organization. A Membership gives a
user a role in an org; the role decides the scopes a browser session carries. API keys belong to an
org (not a person) and carry explicit scopes; user tokens act as their user inside one org.
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Scope(models.TextChoices):
    CATALOG_READ = "catalog:read", "Search the catalog"
    ITEMS_READ = "items:read", "Read delivered items and product schemas"
    ORDERS_READ = "orders:read", "Read orders, estimates and decisions"
    ORDERS_WRITE = "orders:write", "Place, change and cancel orders"
    # The integrator's surface (shared/reference/geopera-openapi-integrations.json).
    BILLING_READ = "billing:read", "Read the credit balance, the ledger and invoices"
    USAGE_READ = "usage:read", "Read this billing period's usage"
    PROVENANCE_READ = "provenance:read", "Read the lineage of orders and delivered captures"
    PROJECTS_WRITE = "projects:write", "Create and manage workspaces and their members"
    ADMIN_READ = "admin:read", "Read administrative detail (an order's tasking groups)"
    API_KEYS_READ = "api_keys:read", "List the organization's API keys"
    API_KEYS_WRITE = "api_keys:write", "Mint and revoke API keys"
    EVENT_SUBSCRIPTIONS_READ = "event_subscriptions:read", "Read webhook subscriptions and deliveries"
    EVENT_SUBSCRIPTIONS_WRITE = "event_subscriptions:write", "Manage and test webhook subscriptions"
    NOTIFICATIONS_READ = "notifications:read", "Read one's notifications"
    NOTIFICATIONS_WRITE = "notifications:write", "Mark one's notifications read or dismissed"
    ADMIN_WRITE = "admin:write", "Administrative actions (drain the webhook queue)"


ALL_SCOPES: tuple[str, ...] = tuple(Scope.values)
# A key never mints or lists keys (that would let a leaked key make itself a successor): the
# api_keys scopes belong to org admins' sessions and user tokens only.
API_KEY_SCOPES: tuple[str, ...] = tuple(s for s in ALL_SCOPES if not s.startswith("api_keys:"))
_READ_SCOPES = frozenset(
    {
        Scope.CATALOG_READ,
        Scope.ITEMS_READ,
        Scope.ORDERS_READ,
        Scope.BILLING_READ,
        Scope.USAGE_READ,
        Scope.PROVENANCE_READ,
        Scope.NOTIFICATIONS_READ,
        Scope.NOTIFICATIONS_WRITE,
    }
)


class BillingMode(models.TextChoices):
    CREDIT = "credit", "Prepaid credits"
    CARD = "card", "Card at checkout"
    ENTERPRISE = "enterprise", "Monthly invoice"


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    OPERATOR = "operator", "Operator"
    ADMIN = "admin", "Admin"


# Scopes are the coarse gate; operations add role rules on top (e.g. only org admins read the
# ledger; an operator manages a workspace only as that workspace's admin).
ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.VIEWER: _READ_SCOPES,
    # Workspaces and their members are the org admins' (the reference's "project admin/owner"):
    # operators place and manage orders, never workspaces.
    Role.OPERATOR: _READ_SCOPES | {Scope.ORDERS_WRITE},
    Role.ADMIN: frozenset(ALL_SCOPES),
}


class EmailUserManager(UserManager):
    """Users log in with their email; `username` mirrors it for Django's admin and contrib apps."""

    def _create_user(self, username, email, password, **extra_fields):  # type: ignore[override]
        email = self.normalize_email(email or username)
        return super()._create_user(email, email, password, **extra_fields)

    def create_user(self, email=None, password=None, **extra_fields):  # type: ignore[override]
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):  # type: ignore[override]
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, email, password, **extra_fields)


class User(AbstractUser):
    """A person. `is_staff` marks the reseller's support staff (feasibility desk, Django admin)."""

    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = EmailUserManager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    billing_mode = models.CharField(max_length=16, choices=BillingMode.choices, default=BillingMode.CREDIT)
    # Card-mode orgs keep a payment method reference with the gateway (never card numbers here).
    payment_method = models.CharField(
        max_length=100, blank=True, help_text="Gateway payment-method token (card billing mode)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Region(models.TextChoices):
    """Where a workspace asks its deliveries to be kept (the reference's `GcsRegion`)."""

    AU_SE1 = "australia-southeast1", "Australia (Sydney)"
    ASIA_SE1 = "asia-southeast1", "Asia (Singapore)"
    US_W1 = "us-west1", "US West (Oregon)"
    EU_W1 = "europe-west1", "Europe (Belgium)"


class Workspace(models.Model):
    """A project inside an org (the API's `projectId` / `workspaceId`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="workspaces")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    region = models.CharField(max_length=32, choices=Region.choices, default=Region.AU_SE1)
    is_default = models.BooleanField(default=False)
    # Archived: hidden from the default list and closed to new orders (409); its orders stay readable.
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["org", "name"], name="accounts_workspace_org_name_unique"),
            models.UniqueConstraint(
                fields=["org"], condition=models.Q(is_default=True), name="accounts_workspace_one_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.org})"


class WorkspaceMember(models.Model):
    """A person's role in one workspace (the reference's project members). Org admins manage
    workspaces and their members. The role decides what the person may do with the workspace's
    orders: a `viewer` reads them but cannot place, cancel or change them; `editor` and `admin` may
    (`services.workspace_order_check`). People who are not members are not restricted by it."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        EDITOR = "editor", "Editor"
        VIEWER = "viewer", "Viewer"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey("User", on_delete=models.CASCADE, related_name="workspace_memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    added_by = models.ForeignKey("User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workspace", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="accounts_workspacemember_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} as {self.role}"


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OPERATOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["org__name"]
        constraints = [models.UniqueConstraint(fields=["user", "org"], name="accounts_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.org} as {self.role}"

    @property
    def scopes(self) -> frozenset[str]:
        return ROLE_SCOPES[self.role]


class ApiKey(models.Model):
    """A machine credential of an org. Only a SHA-256 hash of the secret is stored."""

    PREFIX = "gpra_"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    # The first characters of the key, shown in the UI so people can tell keys apart.
    display_prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Null: the key never expires (until revoked).
    expires_at = models.DateTimeField(null=True, blank=True)
    # Requests per minute for this key, under the server-wide limit; null: the server-wide limit.
    rate_limit = models.PositiveIntegerField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.display_prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class UserToken(models.Model):
    """A bearer token that acts as its user inside one org (scripts, the CLI). Stored hashed."""

    PREFIX = "gput_"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100, blank=True, default="")
    display_prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Null only for tokens minted before expiry existed: they expire USER_TOKEN_TTL_DAYS after creation.
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"token {self.display_prefix}… for {self.user}"

    @property
    def effective_expires_at(self) -> datetime.datetime:
        if self.expires_at is not None:
            return self.expires_at
        return self.created_at + datetime.timedelta(days=settings.USER_TOKEN_TTL_DAYS)

    @property
    def is_expired(self) -> bool:
        return self.effective_expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired
