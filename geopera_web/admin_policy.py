"""Who may do what in the Django admin: one table for the support group, and mixins for the rules
that hold for everyone.

- `SUPPORT_PERMISSIONS` is *exactly* what the support group gets (what the desk needs): sensors,
  products, studies, quotations, deliveries, wallet movements through the audited top-up/adjust views.
  `support_group_sync()` sets the group to that list (removing anything else) after every `migrate`.
- `SuperuserOnlyAdmin`: users, memberships, credentials, groups and permissions. Holds even if a
  permission is granted to a staff user by hand.
- `ReadOnlyAdmin`: rows that change only through a service (orders, charges, ledger entries, coverage
  snapshots, idempotency records, decisions...). Read-only for superusers too.
- `CredentialAdmin`: API keys and user tokens: never added, edited or un-revoked in the admin; a
  superuser may revoke them (an admin action that goes through the revoke service).

Every model registered with the admin has a row in `tests/platform/test_admin_permissions.py`, so a
model registered later without a decision fails the suite.
"""

from __future__ import annotations

import json
import logging

from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.gis.db import models as gis_models
from django.db import models as db_models
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest

logger = logging.getLogger(__name__)
audit_logger = logging.getLogger("geopera.audit")

SUPPORT_GROUP = "Support staff"

# app_label.model -> the actions the support group may take in the admin. Anything not listed: none.
SUPPORT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    # The catalog of what can be bought: the desk keeps it current.
    "tasking.sensor": ("view", "add", "change"),
    "tasking.taskingproduct": ("view", "add", "change", "delete"),
    "orders.dataproduct": ("view", "add", "change"),
    "orders.capture": ("view",),
    # Decisions are written on the support desk pages (services); the admin only shows them.
    "tasking.feasibilitystudy": ("view",),
    "tasking.feasibilityoption": ("view",),
    "tasking.quotation": ("view",),
    "tasking.supportclaim": ("view",),
    "tasking.taskingseries": ("view",),
    "tasking.seriesoccurrence": ("view",),
    # Deliveries: a manual delivery is recorded through the delivery service; status corrections.
    "orders.deliverybatch": ("view",),
    "orders.deliveredcapture": ("view", "add", "change"),
    "orders.coveragesnapshot": ("view",),
    # Orders and money: to answer questions, never to edit.
    "orders.order": ("view",),
    "orders.ordergroup": ("view",),
    "orders.orderevent": ("view",),
    "billing.wallet": ("view", "move_credits"),
    "billing.ledgerentry": ("view",),
    "billing.charge": ("view",),
    "accounts.organization": ("view",),
    "accounts.workspace": ("view",),
    # Login lockouts: see them and unlock an account (an audited admin action).
    "axes.accessattempt": ("view", "unlock_accessattempt"),
    "axes.accesslog": ("view",),
    "axes.accessfailurelog": ("view",),
    # The audit trail of every org (append-only).
    "audit.auditevent": ("view",),
    # Integrations: to answer "why did my endpoint get nothing?" (secrets and header values hidden).
    "events.event": ("view",),
    "events.eventsubscription": ("view",),
    "events.webhookdelivery": ("view",),
    "events.notification": ("view",),
}


def _codename(label: str, action: str) -> tuple[str, str]:
    app_label, model = label.split(".")
    codename = action if "_" in action else f"{action}_{model}"
    return app_label, codename


def _ensure_custom_permissions() -> None:
    """Permissions on models we do not own (axes) are created here, not in a migration."""
    from axes.models import AccessAttempt
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(AccessAttempt)
    Permission.objects.get_or_create(
        content_type=ct, codename="unlock_accessattempt", defaults={"name": "Can unlock a locked-out login"}
    )


def support_permissions() -> list[Permission]:
    _ensure_custom_permissions()
    query = Q(pk__in=[])
    for label, actions in SUPPORT_PERMISSIONS.items():
        for action in actions:
            app_label, codename = _codename(label, action)
            query |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(query))


@transaction.atomic
def support_group_sync() -> Group:
    """The support group with exactly `SUPPORT_PERMISSIONS` (extra permissions are removed)."""
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    wanted = support_permissions()
    current = set(group.permissions.values_list("pk", flat=True))
    if current != {p.pk for p in wanted}:
        group.permissions.set(wanted)
        logger.info("support group permissions set to %d entries", len(wanted))
    return group


def support_group_sync_after_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    """post_migrate receiver: runs once, after the last app's permissions exist."""
    from django.apps import apps

    if app_config is None or app_config is not list(apps.get_app_configs())[-1]:
        return
    support_group_sync()


def _is_superuser(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_superuser)


class SuperuserOnlyAdmin:
    """Only superusers see or touch these rows, whatever permissions a staff user holds."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_superuser(request) and super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return _is_superuser(request) and super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return _is_superuser(request) and super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return _is_superuser(request) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return _is_superuser(request) and super().has_delete_permission(request, obj)  # type: ignore[misc]


class ReadOnlyAdmin:
    """Shown, never written: every change to these rows goes through a service."""

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def audit(
    request: HttpRequest, action: str, *, org: object = None, target: object = None, **details: object
) -> None:
    """Record a staff/admin action: a row in the audit trail (`geopera_web.audit`, in the caller's
    transaction) and one line in the `geopera.audit` log. `org` is the Organization acted on,
    `target` the row acted on."""
    from geopera_web.audit.services import audit_record

    user = request.user
    if org is not None:
        details = {"org_name": str(org), **details}
    audit_record(action=action, actor=user, org=org, target=target, **details)
    audit_logger.warning(
        "audit action=%s actor=%s actor_id=%s %s",
        action,
        getattr(user, "email", "?"),
        getattr(user, "pk", "?"),
        " ".join(f"{k}={v!r}" for k, v in details.items()),
    )


def _admin_audit(request: HttpRequest, verb: str, obj: object, message: object) -> None:
    from geopera_web.audit.services import audit_record

    audit_record(
        action=f"admin.{verb}",
        actor=request.user,
        org_id=getattr(obj, "org_id", None),
        target=obj,  # type: ignore[arg-type]
        model=obj._meta.label_lower,  # type: ignore[attr-defined]
        object=str(obj)[:200],
        change=message,
    )


class AuditedAdmin:
    """Every add, change and delete made through this admin is in the audit trail too
    ("admin.add" / "admin.change" / "admin.delete": the model, the object, Django's change
    message), in the transaction of the change. Every writable admin uses it (or audits in its
    own save_model); `tests/platform/test_audit_trail.py` fails on one that does not."""

    def log_addition(self, request: HttpRequest, obj: object, message: object):
        entry = super().log_addition(request, obj, message)  # type: ignore[misc]
        _admin_audit(request, "add", obj, message)
        return entry

    def log_change(self, request: HttpRequest, obj: object, message: object):
        entry = super().log_change(request, obj, message)  # type: ignore[misc]
        _admin_audit(request, "change", obj, message)
        return entry

    def log_deletions(self, request: HttpRequest, queryset):
        entries = super().log_deletions(request, queryset)  # type: ignore[misc]
        for obj in queryset:
            _admin_audit(request, "delete", obj, "")
        return entries


class GeometryAsTextAdmin(AuditedAdmin, admin.ModelAdmin):
    """Geometry fields as WKT/GeoJSON text. Django's GIS admin widget loads OpenLayers from a CDN and
    starts it with an inline script: neither is allowed here (no CDN at run time, CSP without inline
    script). Maps of these rows are on the product's own pages."""

    formfield_overrides = {
        gis_models.GeometryField: {"widget": forms.Textarea(attrs={"rows": 6, "cols": 80})}
    }


class SafeJSONFormField(forms.JSONField):
    """The admin's JSON field: what PostgreSQL's jsonb cannot hold (NaN/Infinity, NUL, a lone
    surrogate, absurd nesting) is a form error, and a refused value is shown back ASCII-escaped (a
    lone surrogate cannot even be written into the page as UTF-8)."""

    def to_python(self, value):
        from geopera_web import catalog_facts

        value = super().to_python(value)
        try:
            catalog_facts.json_safe(value)
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.messages, code="invalid") from None
        return value

    def bound_data(self, data, initial):
        if self.disabled:
            return initial
        return forms.fields.InvalidJSONInput(data) if data is not None else None

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value.encode("ascii", "backslashreplace").decode("ascii")
        return json.dumps(value, ensure_ascii=True, cls=self.encoder)


class SafeJSONAdmin:
    """Mixin: every JSONField of the model (and its inlines that use it) through `SafeJSONFormField`."""

    formfield_overrides = {db_models.JSONField: {"form_class": SafeJSONFormField}}
