from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """The last sign of life of one background process (a Celery worker node or the beat).

    `/readyz` is ready only while some worker and the beat have beaten within
    `READY_HEARTBEAT_MAX_AGE_SECONDS`. One row per (component, node), overwritten in place."""

    class Component(models.TextChoices):
        WORKER = "worker", "Celery worker"
        BEAT = "beat", "Celery beat"

    component = models.CharField(max_length=16, choices=Component.choices)
    node = models.CharField(max_length=200)
    pid = models.IntegerField()
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["component", "node"], name="ops_heartbeat_one_per_node")
        ]
        indexes = [models.Index(fields=["component", "-seen_at"], name="ops_heartbeat_recent")]

    def __str__(self) -> str:
        return f"{self.component} {self.node} @ {self.seen_at:%H:%M:%S}"
