"""The archive catalog and what can be bought: data products (with their price) and captures.

The catalog is the reseller's shared archive metadata, not tenant data: no org owns a Capture or
a DataProduct. Tables keep the `orders_` prefix (app label `orders`; `orders/models.py` imports
these so Django and the migrations find them).
"""

from __future__ import annotations

import uuid

from django.contrib.gis.db import models
from django.contrib.postgres.indexes import BrinIndex, GistIndex
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Func

from geopera_web import catalog_facts

MAX_AREA_KM2 = 510_000_000.0  # the Earth's surface: an area beyond it is a typo


class OrderType(models.TextChoices):
    ARCHIVE = "archive", "Archive"
    TASKING = "tasking", "Tasking"


class DataProduct(models.Model):
    """Something that can be bought, with its price: credits per km² over a minimum billable area.

    Archive products price catalog captures; tasking products price new acquisitions (the tasking
    app links them to sensors and gives them an order-form schema).
    """

    id = models.SlugField(primary_key=True, max_length=80)
    name = models.CharField(max_length=200)
    order_type = models.CharField(max_length=16, choices=OrderType.choices)
    collection = models.CharField(
        max_length=100,
        validators=[catalog_facts.identifier],
        help_text="Catalog collection (STAC) this product sells.",
    )
    host = models.CharField(
        max_length=100,
        default="geopera-sim",
        validators=[catalog_facts.identifier],
        help_text="Provider that fulfils it.",
    )
    description = models.TextField(blank=True, max_length=4000)
    credits_per_km2 = models.PositiveIntegerField()
    min_area_km2 = models.FloatField(
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_AREA_KM2)],
        help_text="Smaller areas are billed as this area.",
    )
    max_area_km2 = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.001), MaxValueValidator(MAX_AREA_KM2)],
        help_text="Largest area one group may have.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order_type", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (
            self.max_area_km2 is not None
            and self.min_area_km2 is not None
            and self.min_area_km2 > self.max_area_km2
        ):
            raise ValidationError(
                {
                    "min_area_km2": "The minimum billable area is larger than the largest area a group may have."
                }
            )


class TilePoint(Func):
    """The one point that places a footprint on the map's density grid: a point on its surface
    (always inside it, unlike a centroid of an L-shaped or antimeridian-split footprint), latitude
    clamped to Web Mercator's ±85.0511° so that every capture lies in exactly one tile at every
    zoom, in EPSG:3857 (the tiles' coordinates)."""

    template = (
        "ST_Transform(ST_SetSRID(ST_MakePoint(ST_X(ST_PointOnSurface(%(expressions)s)), "
        "LEAST(GREATEST(ST_Y(ST_PointOnSurface(%(expressions)s)), -85.0511), 85.0511)), 4326), 3857)"
    )
    output_field = models.PointField(srid=3857)


class TileKeyNext(Func):
    """The next vector-tile feature id (MVT ids are unsigned integers; a capture's id is a UUID)."""

    template = "nextval('orders_capture_tile_key_seq')"
    arity = 0
    output_field = models.BigIntegerField()


class Capture(models.Model):
    """A scene in the archive catalog (STAC-like)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    scene_id = models.CharField(max_length=200, help_text="The provider's scene id (the STAC item id).")
    collection = models.CharField(max_length=100)
    host = models.CharField(max_length=100, default="geopera-sim")
    data_product = models.ForeignKey(DataProduct, on_delete=models.PROTECT, related_name="captures")
    footprint = models.MultiPolygonField(srid=4326)
    acquired_at = models.DateTimeField()
    cloud_cover = models.FloatField(help_text="Percent, 0–100.")
    off_nadir = models.FloatField(help_text="Degrees.")
    gsd = models.FloatField(help_text="Ground sample distance, metres.")
    sun_elevation = models.FloatField(null=True, blank=True, help_text="Degrees.")
    platform = models.CharField(max_length=100)
    quicklook_url = models.URLField(max_length=500, blank=True)
    thumbnail_url = models.URLField(max_length=500, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # For the map's vector tiles (orders/catalog/tiles.py): the feature id, and the point that puts
    # the capture in one density cell. Nullable only because bulk loads stage rows in a
    # `LIKE orders_capture` temp table, where a generated column is a plain one.
    tile_key = models.BigIntegerField(db_default=TileKeyNext(), editable=False)
    tile_point = models.GeneratedField(
        expression=TilePoint("footprint"),
        output_field=models.PointField(srid=3857, spatial_index=False),
        db_persist=True,
        null=True,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["collection", "scene_id"], name="orders_capture_scene_unique"),
        ]
        indexes = [
            models.Index(fields=["-acquired_at", "-id"], name="orders_capture_keyset"),
            models.Index(fields=["collection", "-acquired_at"], name="orders_capture_coll_time"),
            models.Index(fields=["scene_id"], name="orders_capture_scene"),
            # Captures arrive in created_at order: a tiny BRIN index finds "imported since" for
            # the watches' bulk match without scanning the catalog.
            BrinIndex(fields=["created_at"], name="orders_capture_created_brin"),
            GistIndex(fields=["tile_point"], name="orders_capture_tile_point"),
        ]

    def __str__(self) -> str:
        return f"{self.collection}/{self.scene_id}"
