"""Tasking configuration: the sensor catalog, the tasking products sold on each sensor, and the
org-scoped template library.

`Sensor` holds the facts of one imaging system (constellation, satellites with NORAD ids, resolution
options, bands, allowed cloud and off-nadir ranges, capture frequencies, file formats, datums). A
`TaskingProduct` links one `orders.DataProduct` (order_type="tasking", which carries the price:
credits per km², minimum and maximum area) to the sensor it tasks; the product's order-form JSON
Schema is generated from those facts (tasking.schemas). `TaskingTemplate` is a reusable set of
acquisition settings that names a sensor; it is validated against the sensor's facts by
tasking.services and soft-deleted so orders made from it can still say where they came from.

The tasking flow's decisions (`FeasibilityStudy`, `Quotation`) are `orders.decisions.AbstractDecision`s:
one decision state machine, registered as kinds in `tasking/decisions.py`.

Field names here are a contract with the tasking-flow code (requests, feasibility, quotations):
add fields only with new migrations, never rename.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from geopera_web.accounts.models import Organization
from orders.decisions import AbstractDecision
from orders.models import DataProduct, OrderType


class SensorType(models.TextChoices):
    OPTICAL = "optical", "Optical (multispectral)"
    HYPERSPECTRAL = "hyperspectral", "Hyperspectral"
    SAR = "sar", "Synthetic aperture radar"


class Feasibility(models.TextChoices):
    # Automatic: the platform can answer from orbit predictions alone. Manual: the provider's
    # tasking desk studies each request (support staff write a feasibility study with options).
    AUTOMATIC = "automatic", "Automatic"
    MANUAL = "manual", "Manual (studied by support)"


class CaptureFrequency(models.TextChoices):
    ONCE = "ONCE", "Once"
    DAILY = "DAILY", "Daily"
    WEEKLY = "WEEKLY", "Weekly"
    MONTHLY = "MONTHLY", "Monthly"


class Sensor(models.Model):
    """One tasking-capable imaging system and its commercial facts. Staff edit these in the admin.

    List-valued facts are JSON arrays of strings (resolutions like "30cm", formats like "GeoTIFF") so
    the order-form schema and template validation can use them as enums directly. `bands` is a list
    of {"name", "min_nm", "max_nm"} for optical sensors or {"name", "frequency_ghz"} for SAR.
    `satellites` is a list of {"name", "norad_id"} (norad_id null when not verified).
    """

    id = models.SlugField(primary_key=True, max_length=60, help_text="Stable wire id, e.g. pleiades-neo.")
    name = models.CharField(max_length=120)
    constellation = models.CharField(max_length=120)
    operator = models.CharField(max_length=120, help_text="Who operates the satellites.")
    sensor_type = models.CharField(max_length=16, choices=SensorType.choices, default=SensorType.OPTICAL)
    description = models.TextField(blank=True, max_length=4000)
    satellites = models.JSONField(default=list, blank=True, help_text='[{"name": ..., "norad_id": 12345}]')
    resolutions = models.JSONField(
        default=list, help_text='Offered resolutions, best first: ["30cm", "1.2m"].'
    )
    bands = models.JSONField(default=list, blank=True)
    spectral_bundles = models.JSONField(
        default=list, blank=True, help_text='Band combinations delivered, e.g. ["pansharpened", "bundle"].'
    )
    acquisition_modes = models.JSONField(default=list, blank=True, help_text='e.g. ["mono", "stereo"].')
    processing_levels = models.JSONField(default=list, blank=True, help_text='e.g. ["primary", "ortho"].')
    radiometric_processing = models.JSONField(default=list, blank=True, help_text='e.g. ["reflectance"].')
    pixel_codings = models.JSONField(default=list, blank=True, help_text='e.g. ["8bits", "12bits"].')
    projections = models.JSONField(default=list, blank=True, help_text="EPSG codes offered, e.g. [4326].")
    capture_frequencies = models.JSONField(default=list, help_text="Subset of ONCE, DAILY, WEEKLY, MONTHLY.")
    file_formats = models.JSONField(default=list, help_text='e.g. ["GeoTIFF", "JPEG2000", "NITF"].')
    datums = models.JSONField(default=list, help_text='e.g. ["WGS84", "GDA2020"].')
    feasibility = models.CharField(max_length=16, choices=Feasibility.choices, default=Feasibility.MANUAL)
    min_cloud_coverage = models.PositiveSmallIntegerField(default=0, help_text="Percent.")
    max_cloud_coverage = models.PositiveSmallIntegerField(
        default=100, help_text="Percent; SAR sees through clouds, so 100."
    )
    min_off_nadir = models.PositiveSmallIntegerField(default=0, help_text="Degrees (incidence for SAR).")
    max_off_nadir = models.PositiveSmallIntegerField(default=30, help_text="Degrees (incidence for SAR).")
    swath_km = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.001), MaxValueValidator(10_000)]
    )
    revisit_days = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.001), MaxValueValidator(365)],
        help_text="Best revisit of the constellation.",
    )
    min_window_days = models.PositiveSmallIntegerField(
        default=1, help_text="Shortest acquisition window the provider accepts."
    )
    sources = models.TextField(
        blank=True, max_length=10_000, help_text="Where these facts come from, and what is unverified."
    )
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_cloud_coverage__lte=models.F("max_cloud_coverage"))
                & models.Q(max_cloud_coverage__lte=100),
                name="tasking_sensor_cloud_range",
            ),
            models.CheckConstraint(
                condition=models.Q(min_off_nadir__lte=models.F("max_off_nadir"))
                & models.Q(max_off_nadir__lte=90),
                name="tasking_sensor_off_nadir_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The JSON facts have the shapes the order forms are built from (a form error otherwise)."""
        from geopera_web import catalog_facts as facts

        checks: dict[str, Any] = {
            "satellites": lambda: facts.satellites(self.satellites),
            "bands": lambda: facts.bands(self.bands),
            "projections": lambda: facts.epsg_codes(self.projections),
            "capture_frequencies": lambda: facts.labels(
                self.capture_frequencies, required=True, allowed=CaptureFrequency.values
            ),
        }
        for name in ("resolutions", "file_formats", "datums"):  # the forms default to the first
            checks[name] = lambda name=name: facts.labels(getattr(self, name), required=True)
        for name in (
            "spectral_bundles",
            "acquisition_modes",
            "processing_levels",
            "radiometric_processing",
            "pixel_codings",
        ):
            checks[name] = lambda name=name: facts.labels(getattr(self, name))
        facts.collect(checks)

    @property
    def norad_ids(self) -> list[int]:
        return [s["norad_id"] for s in self.satellites if s.get("norad_id")]


class SeriesPricing(models.TextChoices):
    """How a recurring series of a tasking product is decided (`tasking.series`)."""

    SERIES = "series", "Priced for the series (one quotation, each occurrence charged its share)"
    OCCURRENCE = "occurrence", "Decided per occurrence (each occurrence quoted when it is due)"


class TaskingProduct(models.Model):
    """A tasking `orders.DataProduct` (the price) bound to the sensor it tasks (the facts).

    The product id is the wire `data_product_id` of orders.get_schema and orders.tasking.*.
    `resolutions` narrows the sensor's offer for this product (empty = all of the sensor's).
    `series_pricing`: a product whose acquisitions cannot be priced for a whole series in advance
    (each pass prices its own) is decided per occurrence.
    """

    data_product = models.OneToOneField(
        DataProduct,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="tasking",
        limit_choices_to={"order_type": OrderType.TASKING},
    )
    sensor = models.ForeignKey(Sensor, on_delete=models.PROTECT, related_name="products")
    resolutions = models.JSONField(default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    series_pricing = models.CharField(
        max_length=16,
        choices=SeriesPricing.choices,
        default=SeriesPricing.SERIES,
        help_text="How a recurring series of this product is decided: one quotation for the whole "
        "series, or a quotation for each occurrence when it is due (its price depends on that pass).",
    )

    class Meta:
        ordering = ["sensor__position", "position", "data_product_id"]

    def __str__(self) -> str:
        return f"{self.data_product} ({self.sensor})"

    def clean(self) -> None:
        """`resolutions` narrows the sensor's offer: a list of resolutions the sensor has."""
        from geopera_web import catalog_facts as facts

        sensor = Sensor.objects.filter(pk=self.sensor_id).first() if self.sensor_id else None
        offered = sensor.resolutions if sensor is not None and isinstance(sensor.resolutions, list) else None
        facts.collect({"resolutions": lambda: facts.labels(self.resolutions, allowed=offered)})

    @property
    def id(self) -> str:
        return self.data_product_id

    @property
    def offered_resolutions(self) -> list[str]:
        return list(self.resolutions or self.sensor.resolutions)


class TaskingTemplate(models.Model):
    """A reusable set of tasking settings for one org (fields as the reference's TemplateSaveInput).

    Deleting sets `deleted_at` (soft delete): the list hides it, but orders made from it keep
    {"template_id", "template_name"} in Order.metadata and can still look it up. Names are unique
    (case-insensitively) among an org's active templates only, so a deleted name can be reused.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tasking_templates")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    capture_asap = models.BooleanField(default=True)
    sensor = models.ForeignKey(Sensor, on_delete=models.PROTECT, related_name="templates")
    resolution = models.CharField(max_length=20)
    capture_frequency = models.CharField(max_length=16, choices=CaptureFrequency.choices)
    datum = models.CharField(max_length=20)
    file_format = models.CharField(max_length=20)
    # Ground control points for orthorectification (a paid option with some providers).
    has_control = models.BooleanField(default=False)
    max_cloud_coverage = models.PositiveSmallIntegerField(default=0, help_text="Percent.")
    max_nadir_angle = models.PositiveSmallIntegerField(default=0, help_text="Degrees.")
    usage_count = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                "org",
                Lower("name"),
                condition=models.Q(deleted_at__isnull=True),
                name="tasking_template_active_name_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(max_cloud_coverage__lte=100), name="tasking_template_cloud_le_100"
            ),
            models.CheckConstraint(
                condition=models.Q(max_nadir_angle__lte=90), name="tasking_template_nadir_le_90"
            ),
        ]
        indexes = [
            models.Index(
                fields=["org", "-updated_at"],
                condition=models.Q(deleted_at__isnull=True),
                name="tasking_template_org_active",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


# --- tasking flow: feasibility studies, options, quotations --------------------------------------


class FeasibilityStudy(AbstractDecision):
    """Support's (or the orbit predictor's) answer to "can this tasking order be acquired?".

    Created already uploaded (PENDING: waiting for the org's decision) with one or more options.
    The org accepts exactly one option, or rejects the study; nobody deciding by `deadline` lets
    the beat task expire it. `decision` only moves through the one decision state machine
    (`orders.decisions.decision_transition`: row lock, update_fields, an order event).
    """

    class Source(models.TextChoices):
        SUPPORT = "support", "Support desk"
        AUTOMATIC = "automatic", "Automatic (orbit prediction)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Denormalised from the order so every org-scoped read is one indexed filter.
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="feasibility_studies")
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="feasibility_studies")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.SUPPORT)
    notes = models.TextField(blank=True)
    deadline = models.DateTimeField(help_text="The org must decide before this instant.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_option = models.ForeignKey(
        "FeasibilityOption", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "feasibility studies"
        indexes = [
            models.Index(fields=["org", "decision", "-created_at"], name="tasking_study_org_decision"),
            models.Index(fields=["decision", "deadline"], name="tasking_study_deadline"),
        ]

    def __str__(self) -> str:
        return f"Feasibility study {str(self.id)[:8]} ({self.decision})"


class FeasibilityOption(models.Model):
    """One way to acquire the order: a window, expected captures, an off-nadir limit, maybe a price.

    A priced option is a one-step accept (it charges and activates the order); an unpriced one
    sends the order on to a quotation.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    study = models.ForeignKey(FeasibilityStudy, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=500)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    expected_captures = models.PositiveIntegerField(default=1)
    expected_revisits = models.PositiveIntegerField(default=0, help_text="Passes over the AOI in the window.")
    max_off_nadir = models.FloatField(help_text="Degrees.")
    price_credits = models.BigIntegerField(null=True, blank=True, help_text="Empty: a quotation follows.")
    valid_until = models.DateTimeField()

    class Meta:
        ordering = ["study", "position"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_end__gt=models.F("window_start")),
                name="tasking_option_window_order",
            ),
            models.CheckConstraint(
                condition=models.Q(price_credits__isnull=True) | models.Q(price_credits__gte=0),
                name="tasking_option_price_nonneg",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def is_priced(self) -> bool:
        return self.price_credits is not None


class Quotation(AbstractDecision):
    """The final price of a tasking order, which an org admin accepts (charging it) or rejects."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="quotations")
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="quotations")
    credits = models.BigIntegerField()
    valid_until = models.DateTimeField()
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["org", "decision", "-created_at"], name="tasking_quote_org_decision"),
            models.Index(fields=["decision", "valid_until"], name="tasking_quote_valid_until"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(credits__gte=0), name="tasking_quote_credits_nonneg")
        ]

    def __str__(self) -> str:
        return f"Quotation {str(self.id)[:8]} ({self.credits} cr, {self.decision})"

    @property
    def deadline(self):  # the inbox treats studies and quotations alike
        return self.valid_until


class SupportClaim(models.Model):
    """Which support staff member works on a tasking order at the desk, so two people do not write
    the same study. One claim per order (the order is the primary key); claims and releases go
    through `tasking.desk` only, under the order's row lock."""

    order = models.OneToOneField(
        "orders.Order", primary_key=True, on_delete=models.CASCADE, related_name="support_claim"
    )
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    claimed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["staff", "claimed_at"], name="tasking_claim_staff")]

    def __str__(self) -> str:
        return f"{self.order_id} claimed by {self.staff_id}"


# --- recurring acquisitions: a series of occurrences under one parent order ----------------------


class TaskingSeries(models.Model):
    """A recurring tasking request (issue 14, capability 2). The `parent` is a normal tasking order
    that carries the one feasibility study and quotation, priced for the whole series (decided per
    occurrence, `pricing`: accepting the schedule only, each occurrence quoted on its own); each
    occurrence becomes its own child order (own window, AOIs, coverage and charge) when
    `tasking.series.series_advance` (beat) reaches it. Written only by `tasking.series`."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for the quote to be accepted"
        RUNNING = "running", "Running"
        CANCELLED = "cancelled", "Cancelled"
        ENDED = "ended", "Ended"
        CLOSED = "closed", "Closed without starting"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tasking_series")
    parent = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="series")
    frequency = models.CharField(max_length=16, choices=CaptureFrequency.choices)
    occurrence_count = models.PositiveSmallIntegerField()
    until = models.DateTimeField(null=True, blank=True, help_text="The end date asked for, if any.")
    roll_remainder = models.BooleanField(
        default=False, help_text="An occurrence that ends short passes its uncovered remainder to the next."
    )
    pricing = models.CharField(
        max_length=16,
        choices=SeriesPricing.choices,
        default=SeriesPricing.SERIES,
        help_text="The product's series_pricing when the series was placed (it does not change after).",
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.WAITING)
    total_credits = models.BigIntegerField(default=0, help_text="The accepted price of the whole series.")
    accepted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "tasking series"
        indexes = [models.Index(fields=["state"], name="tasking_series_state")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(occurrence_count__gte=1), name="tasking_series_count_pos"
            ),
            models.CheckConstraint(
                condition=models.Q(total_credits__gte=0), name="tasking_series_credits_nonneg"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} series of {self.occurrence_count} ({self.parent})"

    @property
    def per_occurrence(self) -> bool:
        """Decided per occurrence: each one is quoted when it is due, the series has no price."""
        return self.pricing == SeriesPricing.OCCURRENCE


class SeriesOccurrence(models.Model):
    """One acquisition of a series: its window, its share of the series price (or, decided per
    occurrence, its own quoted price), and (once ordered) its child order. PLANNED → ORDERED (child
    created and charged, under this row's lock) or MISSED (could not be ordered: window passed,
    money refused) or CANCELLED (the series was cancelled before it started). Decided per
    occurrence: PLANNED → QUOTED (a PENDING child with its own quotation in the inbox) → ORDERED
    (the quotation accepted and charged) or DECLINED (rejected, expired or its order cancelled)."""

    class State(models.TextChoices):
        PLANNED = "planned", "Scheduled"
        QUOTED = "quoted", "Waiting for a decision"
        ORDERED = "ordered", "Ordered"
        MISSED = "missed", "Missed"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    series = models.ForeignKey(TaskingSeries, on_delete=models.CASCADE, related_name="occurrences")
    index = models.PositiveSmallIntegerField(help_text="0-based position in the series.")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    credits = models.BigIntegerField(
        default=0,
        help_text="Its share of the series price, or (decided per occurrence) its estimate, then its quote.",
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.PLANNED)
    order = models.OneToOneField(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="series_occurrence"
    )
    note = models.CharField(max_length=500, blank=True, help_text="Why it was missed, what was rolled in.")
    rolled_in_km2 = models.FloatField(
        default=0.0, help_text="Remainder area rolled in from the previous one."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["series", "index"]
        constraints = [
            models.UniqueConstraint(fields=["series", "index"], name="tasking_occurrence_series_index"),
            models.CheckConstraint(
                condition=models.Q(window_end__gt=models.F("window_start")), name="tasking_occurrence_window"
            ),
            models.CheckConstraint(
                condition=models.Q(credits__gte=0), name="tasking_occurrence_credits_nonneg"
            ),
        ]
        indexes = [models.Index(fields=["state", "window_start"], name="tasking_occurrence_due")]

    def __str__(self) -> str:
        return f"Occurrence {self.index + 1} of {self.series_id}"
