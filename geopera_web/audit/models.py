from __future__ import annotations

from django.conf import settings
from django.db import models


class AppendOnly(Exception):
    """An audit event was about to be changed or deleted."""


def _shown(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "—" if value in (None, "") else str(value)


class AuditEvent(models.Model):
    """One privileged action. `summary` holds what changed (`before`/`after` when known) and the
    action's details; `actor_label` survives the user's deletion."""

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    org = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    action = models.CharField(max_length=80, db_index=True)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["org", "-created_at"], name="audit_org_recent")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnly("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("audit events are append-only")

    def changes(self) -> list[tuple[str, str | None, str]]:
        """(field, before, after) for each field the summary records, as a person reads them."""
        before, after = self.summary.get("before") or {}, self.summary.get("after") or {}
        keys = list(dict.fromkeys([*before, *after]))
        return [
            (k.replace("_", " "), _shown(before[k]) if k in before else None, _shown(after.get(k)))
            for k in keys
        ]

    def details(self) -> list[tuple[str, str]]:
        items = (self.summary.get("details") or {}).items()
        return [(k.replace("_", " "), _shown(v)) for k, v in items if v not in (None, "")]
