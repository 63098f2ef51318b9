"""Admin of deliveries: batches, delivered captures, and manual recording through the service."""

from __future__ import annotations

from django import forms
from django.contrib.gis import admin
from django.db import transaction

from geopera_web.admin_policy import GeometryAsTextAdmin, ReadOnlyAdmin
from geopera_web.errors import ApplicationError, InvalidInput

from ..models import DeliveredCapture, DeliveryBatch, OrderType
from ..tasks import recompute_coverage
from .services import manual_delivery_record, order_deliverable_check
from .uploads import parse_delivery_upload


class ManualDeliveryAdminForm(forms.ModelForm):
    """Adding a delivered capture in the admin = uploading a STAC Item or GeoJSON footprint, through
    the same service as the support desk page (never a raw row)."""

    upload = forms.FileField(help_text="A STAC Item or a GeoJSON Feature / Polygon / MultiPolygon (WGS84).")
    note = forms.CharField(required=False, max_length=200)

    class Meta:
        model = DeliveredCapture
        fields = ["order", "group"]

    def clean(self):
        cleaned = super().clean()
        order, group, upload = cleaned.get("order"), cleaned.get("group"), cleaned.get("upload")
        if order and group and group.order_id != order.pk:
            raise forms.ValidationError("That AOI group belongs to another order.")
        if order is not None:
            try:
                order_deliverable_check(order)
            except ApplicationError as exc:
                raise forms.ValidationError({"order": exc.detail}) from None
        if upload is not None:
            raw = upload.read()
            try:
                parsed = parse_delivery_upload(raw)
            except InvalidInput as exc:
                raise forms.ValidationError({"upload": exc.detail}) from None
            if group and not parsed.footprint.intersects(group.geometry):
                raise forms.ValidationError({"upload": f"The footprint does not overlap AOI “{group}”."})
            if (
                order
                and parsed.scene_id
                and order.delivered_captures.filter(scene_id=parsed.scene_id).exists()
            ):
                raise forms.ValidationError(
                    {"upload": f"Scene {parsed.scene_id} is already recorded for this order."}
                )
            cleaned["raw"] = raw
        return cleaned


class DeliveredCaptureInline(ReadOnlyAdmin, admin.TabularInline):
    model = DeliveredCapture
    extra = 0
    fields = ("scene_id", "group", "status", "acquired_at", "cloud_cover", "source")
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(DeliveryBatch)
class DeliveryBatchAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("ref", "order", "source", "provider", "received_at", "created_by")
    list_filter = ("source", "provider")
    search_fields = ("ref", "order__id", "order__display_name")
    list_select_related = ("order", "created_by")
    raw_id_fields = ("order",)
    readonly_fields = ("order", "ref", "source", "provider", "received_at", "note", "created_by")
    inlines = [DeliveredCaptureInline]


@admin.register(DeliveredCapture)
class DeliveredCaptureAdmin(GeometryAsTextAdmin):
    list_display = (
        "scene_id",
        "order",
        "group",
        "status",
        "acquired_at",
        "delivered_at",
        "cloud_cover",
        "source",
    )
    list_filter = ("status", "source")
    search_fields = ("scene_id", "order__id", "order__display_name", "group__name")
    list_select_related = ("order", "group")
    raw_id_fields = ("order", "group", "batch")
    date_hierarchy = "acquired_at"
    actions = ["recompute_orders_coverage"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a delivery is a record of what arrived (it drives coverage and settlement)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ManualDeliveryAdminForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # A delivered capture is a record of what arrived; only its status can be corrected here.
        return [f.name for f in DeliveredCapture._meta.fields if f.name not in ("status", "status_reason")]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["order", "group", "upload", "note"]
        return super().get_fields(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            if obj.order.order_type == OrderType.TASKING:  # only tasking orders have coverage
                transaction.on_commit(lambda: recompute_coverage.delay(str(obj.order_id)))
            return
        capture = manual_delivery_record(
            order=form.cleaned_data["order"],
            group_id=form.cleaned_data["group"].pk,
            upload=form.cleaned_data["raw"],
            actor=request.user,
            note=form.cleaned_data.get("note") or "recorded in the admin",
        )
        obj.pk, obj.scene_id, obj.order, obj.group = (
            capture.pk,
            capture.scene_id,
            capture.order,
            capture.group,
        )
        obj._state.adding = False

    @admin.action(description="Recompute coverage of the selected captures' orders")
    def recompute_orders_coverage(self, request, queryset) -> None:
        ids = set(queryset.values_list("order_id", flat=True))
        for order_id in ids:
            transaction.on_commit(lambda oid=order_id: recompute_coverage.delay(str(oid)))
        self.message_user(request, f"Coverage recomputation queued for {len(ids)} order(s).")
