"""The template form. It only shapes the input (types, widgets, the sensor's options as choices);
every rule lives in tasking.services.template_validate, whose 422 errors are mapped onto fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse

from .models import Sensor

_FREQUENCY_TITLES = {"ONCE": "Once", "DAILY": "Daily", "WEEKLY": "Weekly", "MONTHLY": "Monthly"}


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=255)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    sensor = forms.CharField(widget=forms.Select)
    resolution = forms.CharField(widget=forms.Select)
    capture_frequency = forms.CharField(label="Capture frequency", widget=forms.Select)
    datum = forms.CharField(widget=forms.Select)
    file_format = forms.CharField(label="File format", widget=forms.Select)
    max_cloud_coverage = forms.IntegerField(label="Max cloud cover (%)", initial=0)
    max_nadir_angle = forms.IntegerField(label="Max off-nadir angle (°)", initial=0)
    capture_asap = forms.BooleanField(label="Capture as soon as possible", required=False, initial=True)
    has_control = forms.BooleanField(label="Use ground control points", required=False)

    def __init__(
        self, *args: Any, sensors: list[Sensor], sensor: Sensor | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sensor_obj = sensor
        self.fields["sensor"].widget.choices = [(s.id, s.name) for s in sensors]
        # Changing the sensor re-renders its options from the catalog (server-side, htmx), keeping
        # the values the new sensor still offers.
        self.fields["sensor"].widget.attrs.update(
            {
                "hx-get": reverse("tasking:template_sensor_fields"),
                "hx-target": "#sensor-fields",
                "hx-swap": "outerHTML",
                "hx-include": "#sensor-fields",
                "hx-trigger": "change",
            }
        )
        if sensor is not None:
            w = self.fields
            w["resolution"].widget.choices = [(r, r) for r in sensor.resolutions]
            w["capture_frequency"].widget.choices = [
                (f, _FREQUENCY_TITLES.get(f, f)) for f in sensor.capture_frequencies
            ]
            w["datum"].widget.choices = [(d, d) for d in sensor.datums]
            w["file_format"].widget.choices = [(f, f) for f in sensor.file_formats]
            for name, low, high in (
                ("max_cloud_coverage", sensor.min_cloud_coverage, sensor.max_cloud_coverage),
                ("max_nadir_angle", sensor.min_off_nadir, sensor.max_off_nadir),
            ):
                w[name].widget.attrs.update({"min": low, "max": high})
                w[name].help_text = f"{low}–{high} for {sensor.name}"
            if sensor.sensor_type == "sar":
                w["max_nadir_angle"].label = "Max incidence angle (°)"

    def add_service_errors(self, errors: list[dict[str, Any]]) -> None:
        """Attach a service's [{"loc": [..., field], "msg"}] errors to the named fields."""
        for e in errors:
            loc = e.get("loc") or []
            field = str(loc[-1]) if loc else None
            self.add_error(field if field in self.fields else None, e.get("msg", "Invalid value."))
