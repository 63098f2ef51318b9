from __future__ import annotations

from django.db import models

from geopera_web.accounts.models import Organization


class IdempotencyRecord(models.Model):
    """The claim of one (org, operation, Idempotency-Key), and the response it produced.

    The row is inserted, and committed, before the operation does any work: the unique constraint
    makes the claim atomic, so of two concurrent requests with the same key exactly one runs.
    """

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", "In flight"
        COMPLETED = "completed", "Completed"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    operation = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_FLIGHT)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "operation", "key"], name="api_idempotency_claim_unique")
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.key} ({self.state})"
