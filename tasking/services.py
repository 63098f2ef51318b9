"""Writes of the tasking configuration: seeding the sensor catalog, and the template library.

Template rules live here (not in views or API handlers): a template is validated against the
sensor it names; names are unique case-insensitively among an org's ACTIVE templates (the
database enforces it with a partial unique index; we turn its IntegrityError into a friendly 409);
delete is soft; only org admins and operators (or an org API key with orders:write) change them.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from geopera_web.accounts.models import Membership, Organization, Role, User
from geopera_web.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from orders.models import DataProduct, OrderType

from .catalog import SENSORS
from .models import Sensor, TaskingProduct, TaskingTemplate
from .selectors import template_get, template_get_including_deleted

MANAGER_ROLES = (Role.ADMIN, Role.OPERATOR)

# The TemplateSaveInput fields a template stores, with the reference's defaults.
TEMPLATE_FIELDS: dict[str, Any] = {
    "name": None,
    "description": "",
    "capture_asap": True,
    "resolution": None,
    "sensor": None,
    "capture_frequency": None,
    "datum": None,
    "file_format": None,
    "has_control": False,
    "max_cloud_coverage": 0,
    "max_nadir_angle": 0,
}


# --- sensor catalog ------------------------------------------------------------------------------

_SENSOR_FACTS = [
    f.name for f in Sensor._meta.get_fields() if f.concrete and f.name not in {"created_at", "updated_at"}
]


@transaction.atomic
def sensor_catalog_seed(*, update: bool = False) -> dict[str, int]:
    """Create the catalog's sensors and tasking products (tasking.catalog.SENSORS) that are missing.

    Idempotent. Existing rows are left alone (staff may have edited them in the admin) unless
    `update=True`, which rewrites them from the catalog. Returns counts of created/updated rows.
    """
    created = updated = 0
    for position, entry in enumerate(SENSORS):
        facts = {k: v for k, v in entry.items() if k in _SENSOR_FACTS and k != "id"}
        facts["position"] = position
        sensor = Sensor.objects.filter(id=entry["id"]).first()
        if sensor is None:
            sensor = Sensor.objects.create(id=entry["id"], **facts)
            created += 1
        elif update:
            for key, value in facts.items():
                setattr(sensor, key, value)
            sensor.save()
            updated += 1
        p = entry["product"]
        product_facts = {
            "name": p["name"],
            "order_type": OrderType.TASKING,
            "collection": f"{entry['id']}-tasking",
            "host": "geopera-sim",
            "description": entry["description"],
            "credits_per_km2": p["credits_per_km2"],
            "min_area_km2": p["min_area_km2"],
            "max_area_km2": p["max_area_km2"],
        }
        data_product = DataProduct.objects.filter(id=p["id"]).first()
        if data_product is None:
            data_product = DataProduct.objects.create(id=p["id"], **product_facts)
            created += 1
        elif update:
            DataProduct.objects.filter(id=p["id"]).update(**product_facts)
            updated += 1
        TaskingProduct.objects.get_or_create(data_product=data_product, defaults={"sensor": sensor})
    return {"created": created, "updated": updated}


# --- templates -----------------------------------------------------------------------------------


def _ensure_can_manage(*, org: Organization, actor: User | None) -> None:
    """Admins and operators manage templates; viewers only read them. `actor=None` is an org API key
    that already passed the orders:write scope check."""
    if actor is None:
        return
    if not Membership.objects.filter(org=org, user=actor, role__in=MANAGER_ROLES).exists():
        raise PermissionDenied("Only admin or operator members of the organization may change templates.")


def _err(field: str, msg: str, type_: str) -> dict[str, Any]:
    return {"loc": ["body", field], "msg": msg, "type": type_}


def _offered(field: str, value: Any, offered: list[Any], sensor: Sensor) -> dict[str, Any] | None:
    if value in offered:
        return None
    return _err(
        field,
        f"{field} {value!r} is not offered by {sensor.name}; choose one of {', '.join(map(str, offered))}.",
        "value_error.not_offered",
    )


def template_validate(*, data: dict[str, Any]) -> tuple[Sensor, dict[str, Any]]:
    """Check template fields against the sensor they name; returns (sensor, cleaned fields).

    Raises InvalidInput (422) listing every offending field: unknown `sensor`; a `resolution`,
    `capture_frequency`, `datum` or `file_format` the sensor does not offer; a `max_cloud_coverage`
    or `max_nadir_angle` outside the sensor's range; a missing or too long `name`.
    """
    cleaned = {k: data.get(k, default) for k, default in TEMPLATE_FIELDS.items()}
    cleaned["description"] = (cleaned["description"] or "").strip()
    cleaned["name"] = (cleaned["name"] or "").strip()
    errors: list[dict[str, Any]] = []
    if not cleaned["name"]:
        errors.append(_err("name", "name is required.", "missing"))
    elif len(cleaned["name"]) > 255:
        errors.append(_err("name", "name must be at most 255 characters.", "string_too_long"))
    for field in ("resolution", "capture_frequency", "datum", "file_format", "sensor"):
        if not cleaned[field]:
            errors.append(_err(field, f"{field} is required.", "missing"))
    sensor = Sensor.objects.filter(id=str(cleaned["sensor"] or ""), is_active=True).first()
    if cleaned["sensor"] and sensor is None:
        errors.append(
            _err(
                "sensor",
                f"sensor {cleaned['sensor']!r} is not in the sensor catalog; list them with orders.tasking.sensors.",
                "value_error.unknown_sensor",
            )
        )
    if sensor is not None:
        for field, offered in (
            ("resolution", sensor.resolutions),
            ("capture_frequency", sensor.capture_frequencies),
            ("datum", sensor.datums),
            ("file_format", sensor.file_formats),
        ):
            if cleaned[field] and (e := _offered(field, cleaned[field], offered, sensor)):
                errors.append(e)
        for field, low, high, unit in (
            ("max_cloud_coverage", sensor.min_cloud_coverage, sensor.max_cloud_coverage, "%"),
            ("max_nadir_angle", sensor.min_off_nadir, sensor.max_off_nadir, "°"),
        ):
            value = cleaned[field]
            if not isinstance(value, int) or isinstance(value, bool):
                errors.append(_err(field, f"{field} must be a whole number.", "type_error.integer"))
            elif not low <= value <= high:
                errors.append(
                    _err(
                        field,
                        f"{field} must be between {low} and {high}{unit} for {sensor.name} (got {value}).",
                        "value_error.out_of_range",
                    )
                )
    if errors:
        raise InvalidInput("The template does not fit the sensor catalog.", status=422, errors=errors)
    cleaned["sensor"] = sensor
    cleaned["capture_asap"] = bool(cleaned["capture_asap"])
    cleaned["has_control"] = bool(cleaned["has_control"])
    return sensor, cleaned  # type: ignore[return-value]


def _name_taken(org: Organization, name: str) -> Conflict:
    return Conflict(
        f"A template named {name!r} already exists in your organization; choose another name.",
        slug="template-name-taken",
        errors=[_err("name", f"A template named {name!r} already exists.", "value_error.duplicate")],
    )


def _save_unique(template: TaskingTemplate, **kwargs: Any) -> None:
    """Save inside a savepoint so the partial unique index's IntegrityError (a concurrent save with
    the same name) becomes a 409 without breaking the caller's transaction."""
    try:
        with transaction.atomic():
            template.save(**kwargs)
    except IntegrityError as exc:
        if "tasking_template_active_name_unique" in str(exc):
            raise _name_taken(template.org, template.name) from exc
        raise


@transaction.atomic
def template_save(
    *, org: Organization, actor: User | None, data: dict[str, Any], template_id: object = None
) -> tuple[TaskingTemplate, bool]:
    """Create a template, or update the org's active template `template_id`. Returns (template, created).

    Preconditions: the caller has orders:write. Raises PermissionDenied for viewers, NotFound for a
    template that is not the org's (or deleted), InvalidInput 422 for fields the sensor does not
    allow, Conflict 409 when another active template of the org has the same name.
    """
    _ensure_can_manage(org=org, actor=actor)
    existing = template_get(org=org, template_id=template_id, for_update=True) if template_id else None
    _, cleaned = template_validate(data=data)
    clash = TaskingTemplate.objects.filter(org=org, deleted_at__isnull=True, name__iexact=cleaned["name"])
    if existing is not None:
        clash = clash.exclude(id=existing.id)
    if clash.exists():
        raise _name_taken(org, cleaned["name"])
    if existing is None:
        template = TaskingTemplate(org=org, created_by=actor, updated_by=actor, **cleaned)
        _save_unique(template)
        return template, True
    for key, value in cleaned.items():
        setattr(existing, key, value)
    existing.updated_by = actor
    _save_unique(existing, update_fields=[*cleaned.keys(), "updated_by", "updated_at"])
    return existing, False


@transaction.atomic
def template_delete(*, org: Organization, actor: User | None, template_id: object) -> TaskingTemplate:
    """Soft-delete an active template: it leaves the library (and frees its name) but stays in the
    database, so orders made from it still name it and the deletion can be undone."""
    _ensure_can_manage(org=org, actor=actor)
    template = template_get(org=org, template_id=template_id, for_update=True)
    template.deleted_at = timezone.now()
    template.deleted_by = actor
    template.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    return template


@transaction.atomic
def template_restore(*, org: Organization, actor: User | None, template_id: object) -> TaskingTemplate:
    """Undo a soft delete. 409 if an active template took the name meanwhile."""
    _ensure_can_manage(org=org, actor=actor)
    template = template_get_including_deleted(org=org, template_id=template_id, for_update=True)
    if template.deleted_at is None:
        return template
    if TaskingTemplate.objects.filter(org=org, deleted_at__isnull=True, name__iexact=template.name).exists():
        raise _name_taken(org, template.name)
    template.deleted_at = None
    template.deleted_by = None
    _save_unique(template, update_fields=["deleted_at", "deleted_by", "updated_at"])
    return template


@transaction.atomic
def template_duplicate(*, org: Organization, actor: User | None, template_id: object) -> TaskingTemplate:
    """Copy an active template as "<name> (copy)", "<name> (copy 2)", … (fresh usage counters)."""
    _ensure_can_manage(org=org, actor=actor)
    source = template_get(org=org, template_id=template_id)
    active = {
        n.lower()
        for n in TaskingTemplate.objects.filter(org=org, deleted_at__isnull=True).values_list(
            "name", flat=True
        )
    }
    base = f"{source.name[:240]} (copy"
    name, n = f"{base})", 2
    while name.lower() in active:
        name, n = f"{base} {n})", n + 1
    copy = TaskingTemplate(
        org=org,
        created_by=actor,
        updated_by=actor,
        name=name,
        **{k: getattr(source, k) for k in TEMPLATE_FIELDS if k != "name"},
    )
    _save_unique(copy)
    return copy


def template_mark_used(*, org: Organization, template_id: object) -> TaskingTemplate:
    """Count one use of an active template (call it when a tasking request is made from it, inside
    the caller's transaction). The increment is a single UPDATE, so concurrent uses all count."""
    template = template_get(org=org, template_id=template_id)
    now = timezone.now()
    TaskingTemplate.objects.filter(id=template.id).update(usage_count=F("usage_count") + 1, last_used_at=now)
    template.refresh_from_db(fields=["usage_count", "last_used_at"])
    return template


def template_from_order_initial(*, org: Organization, order_id: object) -> dict[str, Any]:
    """Template fields prefilled from a tasking order's params ("Save as template")."""
    from orders.selectors import order_get

    from .schemas import template_fields_from_params

    order = order_get(org=org, order_id=order_id)
    product = getattr(order.data_product, "tasking", None) if order.data_product_id else None
    if product is None:
        raise NotFound("That order has no tasking product to make a template from.")
    initial = template_fields_from_params(sensor=product.sensor, params=order.params or {})
    initial["name"] = (order.display_name or (order.params or {}).get("displayName") or "")[:200]
    initial["description"] = f"Saved from order {order.display_name or str(order.id)[:8]}."
    return initial
