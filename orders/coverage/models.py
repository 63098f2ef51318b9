"""Coverage history of an order's AOI groups (covered vs remainder, one row per change)."""

from __future__ import annotations

from django.contrib.gis.db import models


class CoverageSnapshot(models.Model):
    """Covered vs remainder of one AOI group at one moment (a history: one row per change).

    `fingerprint` identifies the inputs (the AOI and every contributing footprint): a recompute
    whose fingerprint equals the latest snapshot's writes nothing. Empty geometries are NULL.
    """

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="coverage_snapshots")
    group = models.ForeignKey(
        "orders.OrderGroup", on_delete=models.CASCADE, related_name="coverage_snapshots"
    )
    computed_at = models.DateTimeField()
    covered = models.MultiPolygonField(srid=4326, null=True, blank=True)
    remainder = models.MultiPolygonField(srid=4326, null=True, blank=True)
    requested_km2 = models.FloatField()
    covered_km2 = models.FloatField()
    remainder_km2 = models.FloatField()
    percent = models.FloatField(help_text="Covered share of the AOI, 0–100.")
    captures_delivered = models.PositiveIntegerField(default=0)
    last_delivery_at = models.DateTimeField(null=True, blank=True)
    fingerprint = models.CharField(max_length=64)

    class Meta:
        ordering = ["group", "-computed_at", "-id"]
        get_latest_by = "computed_at"
        indexes = [
            models.Index(fields=["group", "-computed_at", "-id"], name="orders_coverage_group_latest"),
            models.Index(fields=["order", "computed_at"], name="orders_coverage_order_time"),
        ]

    def __str__(self) -> str:
        return f"{self.group}: {self.percent:.1f}% at {self.computed_at:%Y-%m-%d %H:%M}"

    @property
    def remainder_percent(self) -> float:
        return 100.0 * self.remainder_km2 / self.requested_km2 if self.requested_km2 else 0.0
