"""A watch is an AOI (often a tasking order's remainder) + archive filters. When new captures are
imported, one PostGIS statement finds every watch they match (`services.watches_match`), writes a
`WatchAlert` per watch with its `WatchMatch` rows, and the watch's watchers are told."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField

from geopera_web.accounts.models import Organization


class Watch(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="watches")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="watches"
    )
    name = models.CharField(max_length=200)
    aoi = models.MultiPolygonField(srid=4326)
    aoi_km2 = models.FloatField()
    # The tasking order whose remainder this watches ("Watch the remainder"), if any.
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="watches"
    )
    max_cloud_cover = models.FloatField(null=True, blank=True)
    max_off_nadir = models.FloatField(null=True, blank=True)
    collections = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    # An import must cover at least this share of the AOI (together, its matching captures) to alert.
    min_new_coverage_percent = models.FloatField(default=0)
    # A remainder watch follows its order's coverage: `aoi` is rewritten from the latest coverage
    # snapshots whenever they are written (`watch_remainders_follow`); once nothing is left to
    # watch, `covered_at` is set (`aoi` keeps the last remainder, for display) and it never matches.
    remainder_updated_at = models.DateTimeField(null=True, blank=True)
    covered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["org", "-created_at"], name="orders_watch_org_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_new_coverage_percent__gte=0)
                & models.Q(min_new_coverage_percent__lte=100),
                name="orders_watch_min_cov_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WatchWatcher(models.Model):
    """A member of the watch's org who is told of its matches (the creator is one from the start;
    anyone of the org may join or leave, `services.watch_watcher_set`)."""

    id = models.BigAutoField(primary_key=True)
    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="watchers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["watch", "user"], name="orders_watchwatcher_once")]

    def __str__(self) -> str:
        return f"{self.user_id} watches {self.watch_id}"


class WatchAlert(models.Model):
    """One import's matches for one watch: what its watchers are told about, and what the link opens."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="alerts")
    created_at = models.DateTimeField()
    new_coverage_percent = models.FloatField()
    capture_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.watch}: {self.capture_count} capture(s), {self.new_coverage_percent:.1f} %"


class WatchMatch(models.Model):
    id = models.BigAutoField(primary_key=True)
    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="matches")
    alert = models.ForeignKey(WatchAlert, on_delete=models.CASCADE, related_name="matches")
    capture = models.ForeignKey("orders.Capture", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            # A capture alerts a watch once, however many imports (or match runs) see it.
            models.UniqueConstraint(fields=["watch", "capture"], name="orders_watchmatch_once"),
        ]
