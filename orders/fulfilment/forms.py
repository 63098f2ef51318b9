"""Forms of the orders pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from ..models import Order


class ManualDeliveryForm(forms.Form):
    group = forms.ChoiceField(label="AOI")
    file = forms.FileField(
        label="STAC Item or GeoJSON footprint",
        help_text="A STAC Item (.json) with its assets, or a GeoJSON Feature / Polygon / MultiPolygon "
        "in WGS84 longitude, latitude.",
    )
    acquired_at = forms.DateTimeField(
        required=False,
        label="Acquired at (UTC)",
        help_text="Leave empty to use the STAC Item's datetime (or now).",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    note = forms.CharField(required=False, max_length=200)

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [(str(g.pk), str(g)) for g in order.groups.order_by("position")]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.DELIVERY_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {settings.DELIVERY_UPLOAD_MAX_BYTES // 1024 // 1024} MB."
            )
        return upload
