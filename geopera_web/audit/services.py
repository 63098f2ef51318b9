"""`audit_record`: write one audit event inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from geopera_web.ops.request_id import request_id_var

from .models import AuditEvent


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def audit_record(
    *,
    action: str,
    actor: Any = None,
    org: Any = None,
    org_id: Any = None,
    target: models.Model | None = None,
    before: dict | None = None,
    after: dict | None = None,
    **details: Any,
) -> AuditEvent:
    """Record `action` by `actor` (a user, an `Actor`, or None for the system) on `target` in `org` (or the org
    whose id is `org_id`, so a caller holding only the id costs no query). Call it in the
    transaction that makes the change: it is rolled back with it and commits with it."""
    from geopera_web.accounts.models import Organization
    from geopera_web.actor import Actor

    if isinstance(actor, Actor):  # a service's resolved actor: its user, or the API key's label
        user, label = actor.user, actor.label
    else:
        user = actor if getattr(actor, "is_authenticated", False) else None
        label = (getattr(user, "email", "") or str(user)) if user else "system"
    summary: dict[str, Any] = {}
    if before is not None:
        summary["before"] = _plain(before)
    if after is not None:
        summary["after"] = _plain(after)
    if details:
        summary["details"] = _plain(details)
    rid = request_id_var.get()
    # One INSERT (no savepoint): it is atomic by itself, and it rides the caller's transaction.
    return AuditEvent.objects.create(
        actor=user,
        actor_label=label[:200],
        org_id=org.pk if isinstance(org, Organization) else org_id,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        summary=summary,
        request_id="" if rid == "-" else rid,
    )
