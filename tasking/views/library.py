"""Pages of the template library: search, create/edit (from scratch, from an order or from the
request form), delete with undo, restore, duplicate."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from geopera_web.accounts.decorators import org_required, role_required
from geopera_web.errors import Conflict, InvalidInput, NotFound

from ..forms import TemplateForm
from ..models import Sensor, TaskingTemplate
from ..schemas import (
    params_from_form,
    product_schema,
    template_fields_from_params,
)
from ..selectors import (
    sensor_list,
    tasking_product_get,
    template_get,
    template_list,
)
from ..services import (
    TEMPLATE_FIELDS,
    template_delete,
    template_duplicate,
    template_from_order_initial,
    template_restore,
    template_save,
)

MANAGERS = ("admin", "operator")


def _coming(request: HttpRequest, title: str, what: list[str]) -> HttpResponse:
    return render(request, "placeholder.html", {"title": title, "what": what})


# --- template library ----------------------------------------------------------------------------


def _library_context(request: HttpRequest) -> dict[str, Any]:
    # GET for the page and its search; POST for the actions that re-render the results (they
    # include the filter form so the list keeps its filters).
    source = request.POST if request.method == "POST" else request.GET
    q = source.get("q", "").strip()
    sensor_id = source.get("sensor", "").strip()
    templates = list(template_list(org=request.org, q=q, sensor_id=sensor_id))
    return {
        "templates": templates,
        "q": q,
        "sensor_filter": sensor_id,
        "sensors": list(sensor_list()),
        "total_active": TaskingTemplate.objects.filter(org=request.org, deleted_at__isnull=True).count(),
    }


def _results(request: HttpRequest, *, status: int = 200, toast: dict[str, Any] | None = None) -> HttpResponse:
    """The library's result region (cards), optionally with an out-of-band toast."""
    context = {**_library_context(request), "toast": toast}
    return render(request, "tasking/templates.html#results", context, status=status)


@require_GET
@org_required
def templates_page(request: HttpRequest) -> HttpResponse:
    """The org's template library: search and sensor filter (htmx, reflected in the URL), cards with
    the key settings, usage, and actions for managers."""
    if request.htmx and request.htmx.target == "template-results":
        return _results(request)
    return render(request, "tasking/templates.html", _library_context(request))


def _form_context(
    form: TemplateForm, *, template: TaskingTemplate | None, from_order: str = ""
) -> dict[str, Any]:
    return {"form": form, "template": template, "sensor": form.sensor_obj, "from_order": from_order}


def _sensor_for(sensor_id: str | None, sensors: list[Sensor]) -> Sensor | None:
    return next((s for s in sensors if s.id == sensor_id), sensors[0] if sensors else None)


def _template_form_view(request: HttpRequest, template: TaskingTemplate | None) -> HttpResponse:
    sensors = list(sensor_list())
    from_order = request.GET.get("from_order", "")
    from_request = template is None and request.method == "POST" and request.POST.get("from_request") == "1"
    if request.method == "POST" and not from_request:
        sensor = _sensor_for(request.POST.get("sensor"), sensors)
        form = TemplateForm(request.POST, sensors=sensors, sensor=sensor)
        if form.is_valid():
            data = {k: form.cleaned_data.get(k, default) for k, default in TEMPLATE_FIELDS.items()}
            try:
                saved, created = template_save(
                    org=request.org,
                    actor=request.user,
                    data=data,
                    template_id=template.id if template else None,
                )
            except (InvalidInput, NotFound, Conflict) as exc:
                form.add_service_errors(exc.extra.get("errors") or [{"loc": [], "msg": exc.detail}])
            else:
                messages.success(request, f"Template “{saved.name}” {'created' if created else 'saved'}.")
                return redirect(f"{reverse('tasking:templates')}#template-{saved.id}")
        status = 422
    else:
        if template is not None:
            initial = {k: getattr(template, k) for k in TEMPLATE_FIELDS if k != "sensor"}
            initial["sensor"] = template.sensor_id
        elif from_order:
            initial = template_from_order_initial(org=request.org, order_id=from_order)
        elif from_request:
            # "Save as template" on the request page: the settings in the form, not yet placed.
            product = tasking_product_get(product_id=request.POST.get("data_product_id", ""))
            params = params_from_form(product_schema(product), request.POST)
            initial = template_fields_from_params(sensor=product.sensor, params=params)
            initial["name"] = (params.get("displayName") or "")[:200]
        else:
            initial = {"sensor": request.GET.get("sensor") or (sensors[0].id if sensors else "")}
        sensor = _sensor_for(initial.get("sensor"), sensors)
        if template is None and sensor is not None and "resolution" not in initial:
            initial.update(
                resolution=sensor.resolutions[0],
                capture_frequency="ONCE"
                if "ONCE" in sensor.capture_frequencies
                else sensor.capture_frequencies[0],
                datum=sensor.datums[0],
                file_format=sensor.file_formats[0],
                max_cloud_coverage=min(20, sensor.max_cloud_coverage),
                max_nadir_angle=max(sensor.min_off_nadir, min(30, sensor.max_off_nadir)),
            )
        form = TemplateForm(initial=initial, sensors=sensors, sensor=sensor)
        status = 200
    return render(
        request,
        "tasking/template_form.html",
        _form_context(form, template=template, from_order=from_order),
        status=status,
    )


@require_http_methods(["GET", "POST"])
@role_required(*MANAGERS)
def template_new(request: HttpRequest) -> HttpResponse:
    """Create a template; `?from_order=<uuid>` prefills from a tasking order ("Save as template")."""
    return _template_form_view(request, None)


@require_http_methods(["GET", "POST"])
@role_required(*MANAGERS)
def template_edit(request: HttpRequest, template_id: str) -> HttpResponse:
    return _template_form_view(request, template_get(org=request.org, template_id=template_id))


@require_GET
@role_required(*MANAGERS)
def template_sensor_fields(request: HttpRequest) -> HttpResponse:
    """htmx: the sensor-dependent part of the template form, re-rendered for the chosen sensor
    (keeps the values still offered, resets the others to the sensor's first option)."""
    sensors = list(sensor_list())
    sensor = _sensor_for(request.GET.get("sensor"), sensors)
    initial: dict[str, Any] = {}
    if sensor is not None:
        for field, offered in (
            ("resolution", sensor.resolutions),
            ("capture_frequency", sensor.capture_frequencies),
            ("datum", sensor.datums),
            ("file_format", sensor.file_formats),
        ):
            value = request.GET.get(field)
            initial[field] = value if value in offered else offered[0]
        for field, low, high, default in (
            ("max_cloud_coverage", sensor.min_cloud_coverage, sensor.max_cloud_coverage, 20),
            ("max_nadir_angle", sensor.min_off_nadir, sensor.max_off_nadir, 30),
        ):
            try:
                value = int(request.GET.get(field, default))
            except ValueError:
                value = default
            initial[field] = min(max(value, low), high)
    form = TemplateForm(initial=initial, sensors=sensors, sensor=sensor)
    return render(request, "tasking/template_form.html#sensor-fields", {"form": form, "sensor": sensor})


@require_POST
@role_required(*MANAGERS)
def template_delete_view(request: HttpRequest, template_id: str) -> HttpResponse:
    """Soft-delete; htmx gets the card removed and a toast with Undo (no-JS: back to the library)."""
    template = template_delete(org=request.org, actor=request.user, template_id=template_id)
    if not request.htmx:
        messages.success(request, f"Template “{template.name}” deleted.")
        return redirect("tasking:templates")
    return render(
        request, "tasking/templates.html#deleted", {**_library_context(request), "template": template}
    )


@require_POST
@role_required(*MANAGERS)
def template_restore_view(request: HttpRequest, template_id: str) -> HttpResponse:
    template = template_restore(org=request.org, actor=request.user, template_id=template_id)
    if not request.htmx:
        messages.success(request, f"Template “{template.name}” restored.")
        return redirect("tasking:templates")
    response = _results(request, toast={"level": "success", "message": f"“{template.name}” is back."})
    response["HX-Retarget"] = "#template-results"
    response["HX-Reswap"] = "outerHTML"
    return response


@require_POST
@role_required(*MANAGERS)
def template_duplicate_view(request: HttpRequest, template_id: str) -> HttpResponse:
    copy = template_duplicate(org=request.org, actor=request.user, template_id=template_id)
    if not request.htmx:
        return redirect("tasking:template_edit", template_id=copy.id)
    return _results(request, toast={"level": "success", "message": f"Duplicated as “{copy.name}”."})
