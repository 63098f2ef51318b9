"""Every write of the tasking app, in transactions:

- the sensor catalog seed (`sensor_catalog_seed`) and the template library (`template_*`: validated
  against the sensor a template names; names unique case-insensitively among an org's active
  templates, enforced by a partial unique index whose IntegrityError becomes a 409; soft delete;
  only admins and operators, or an org API key with orders:write, change them);
- tasking requests (`tasking_draft_save`, `tasking_order_place`);
- feasibility studies and quotations (`study_upload`, `feasibility_decide`, `study_reject`,
  `quotation_upload`, `quotation_decide`), their expiry (`decisions_expire_stale`) and the automatic
  planner (`automatic_study_generate`). The sub-status walk of a tasking order is documented
  above `SUB_STATUS_TRANSITIONS`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from geopera_web.accounts.models import Membership, Organization, Role, User, Workspace
from geopera_web.accounts.selectors import workspace_default, workspace_get_open
from geopera_web.accounts.services import workspace_order_check
from geopera_web.actor import ActorLike, actor_of
from geopera_web.audit.services import audit_record
from geopera_web.billing.services import charge_authorize
from geopera_web.errors import Conflict, InvalidInput, NotFound, PermissionDenied, parse_uuid
from geopera_web.ops.sweeper import enqueue
from orders.approvals.models import SpendApproval, SpendPolicy
from orders.approvals.services import approval_request, budget_enforce, policy_effective
from orders.decisions import (
    AbstractDecision,
    deadline_check,
    decision_ensure_open,
    decision_kind,
    decision_kinds,
    decision_transition,
)
from orders.events import event_draft_created, event_draft_saved, event_feasibility_referred
from orders.models import DataProduct, Order, OrderGroup, OrderType
from orders.services import display_name_clean, order_tags_clean, order_transition

from .aoi import AoiCheck, check_features, require_valid
from .catalog import SENSORS
from .models import (
    Feasibility,
    FeasibilityOption,
    FeasibilityStudy,
    Quotation,
    Sensor,
    TaskingProduct,
    TaskingTemplate,
)
from .selectors import template_get, template_get_including_deleted
from .series import recurrence_from_params, series_create
from .tasks import generate_automatic_study, notify_pending_decision

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

    Raises NotFound (404) for a `sensor` not in the catalog, else InvalidInput (422) listing every
    offending field: a `resolution`,
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
        # A sensor named by id that is not in the catalog is a 404, as the reference answers for
        # every object named by id; the other fields are checked against a sensor that exists.
        msg = f"sensor {cleaned['sensor']!r} is not in the sensor catalog; list them with orders.tasking.sensors."
        raise NotFound(msg, slug="unknown-sensor", errors=[_err("sensor", msg, "value_error.unknown_sensor")])
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


# =================================================================================================
# Tasking flow: requests (drafts, placement), feasibility studies, quotations, decisions, expiry.
#
# Order sub-status walk (UP42's names), each step an order event through order_transition:
#   PENDING/FEASIBILITY_WAITING_UPLOAD   --study uploaded-->            FEASIBILITY_WAITING_RESPONSE
#   FEASIBILITY_WAITING_RESPONSE         --unpriced option accepted-->  QUOTATION_WAITING_UPLOAD
#   FEASIBILITY_WAITING_RESPONSE         --priced option accepted-->    ACTIVE/QUOTATION_ACCEPTED
#   QUOTATION_WAITING_UPLOAD             --quotation uploaded-->        QUOTATION_WAITING_RESPONSE
#   QUOTATION_WAITING_RESPONSE           --accepted-->                  ACTIVE/QUOTATION_ACCEPTED
#   QUOTATION_WAITING_RESPONSE           --rejected-->                  REJECTED/QUOTATION_REJECTED
#   ...WAITING_RESPONSE                  --deadline passed (beat)-->    EXPIRED
# Lock order everywhere: the study/quotation row, then the wallet (charge_authorize), then the order.
# =================================================================================================

SUB = Order.SubStatus
SUB_STATUS_TRANSITIONS: dict[str, set[str]] = {
    SUB.FEASIBILITY_WAITING_UPLOAD: {SUB.FEASIBILITY_WAITING_RESPONSE},
    SUB.FEASIBILITY_WAITING_RESPONSE: {SUB.QUOTATION_WAITING_UPLOAD, SUB.QUOTATION_ACCEPTED},
    SUB.QUOTATION_WAITING_UPLOAD: {SUB.QUOTATION_WAITING_RESPONSE},
    SUB.QUOTATION_WAITING_RESPONSE: {SUB.QUOTATION_ACCEPTED, SUB.QUOTATION_REJECTED},
    SUB.QUOTATION_ACCEPTED: set(),
    SUB.QUOTATION_REJECTED: set(),
}


def _tasking_step(
    *,
    order: Order,
    to_sub: str,
    to_status: str | None = None,
    actor: ActorLike,
    message: str,
    data: dict | None = None,
) -> Order:
    """Move a PENDING tasking order one step along SUB_STATUS_TRANSITIONS (409 otherwise)."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.status != Order.Status.PENDING or to_sub not in SUB_STATUS_TRANSITIONS.get(
        locked.sub_status, set()
    ):
        raise Conflict(
            f"The order is {locked.status}"
            + (f"/{locked.sub_status}" if locked.sub_status else "")
            + f"; it cannot move to {to_sub}.",
            current_status=locked.status,
            current_sub_status=locked.sub_status,
        )
    return order_transition(
        order=locked,
        to=to_status or locked.status,
        sub_status=to_sub,
        actor=actor,
        message=message,
        data=data,
    )


def _ensure_org_admin(*, org: Organization, actor: ActorLike) -> None:
    """Deciding spends the org's money: a signed-in admin of that org, never staff acting for it."""
    user = actor_of(actor).user
    if user is None:
        raise PermissionDenied("Only an admin of the organization may decide.", required_roles=["admin"])
    if not Membership.objects.filter(org=org, user=user, role=Role.ADMIN).exists():
        raise PermissionDenied("Only admins of the organization may decide.", required_roles=["admin"])


def _ensure_may_accept(*, org: Organization, actor: ActorLike) -> bool:
    """Accepting a price spends the org's money. Admins may; operators may only where the org has
    a spend policy with an approval threshold (up to it they spend, above it they ask an admin,
    see `_operator_acceptance`). Returns whether the actor is an admin; 403 for anyone else."""
    user = actor_of(actor).user
    role = (
        Membership.objects.filter(org=org, user=user).values_list("role", flat=True).first() if user else None
    )
    if role == Role.ADMIN:
        return True
    if (
        role == Role.OPERATOR
        and SpendPolicy.objects.filter(org=org, approval_threshold_credits__isnull=False).exists()
    ):
        return False
    raise PermissionDenied("Only admins of the organization may decide.", required_roles=["admin"])


def _operator_acceptance(
    *,
    org: Organization,
    actor: ActorLike,
    order: Order,
    credits: int | None,
    action: str,
    target_id: object,
    note: str,
    payload: dict[str, Any],
) -> SpendApproval | None:
    """An operator accepting a price: None when they may spend it themselves (at or under the
    workspace's effective threshold, or nothing is charged now); a pending approval for an admin
    when it is above. 403 where no threshold applies to the order's workspace."""
    policy = policy_effective(org=org, workspace=order.workspace)
    if policy.threshold is None:
        raise PermissionDenied(
            "Only admins may accept prices in this workspace (no spend policy threshold applies).",
            required_roles=["admin"],
        )
    if credits is None or credits <= policy.threshold:
        return None
    return approval_request(
        org=org,
        workspace=order.workspace,
        order=order,
        action=action,
        credits=credits,
        actor=actor,
        note=note,
        target_id=target_id,
        payload=payload,
    )


def _ensure_order_waiting(order: Order, *, noun: str) -> None:
    """A decision whose order has ended (cancelled — e.g. with its series —, rejected, expired) is
    not decided: 409 before an approval request or any money. Its order row is read, not locked
    (the step that moves it locks it and checks again)."""
    status = Order.objects.filter(pk=order.pk).values_list("status", flat=True).first()
    if status != Order.Status.PENDING:
        shown = Order.Status(status).label.lower() if status else "gone"
        raise Conflict(
            f"The order is {shown}; this {noun} can no longer be decided.",
            current_status=status,
        )


def _ensure_staff(actor: ActorLike) -> None:
    who = actor_of(actor)
    if not who.is_system and not who.is_staff:
        raise PermissionDenied("Only support staff may do this.")


def _product_for(data_product_id: str) -> TaskingProduct:
    from .selectors import tasking_product_get

    return tasking_product_get(product_id=data_product_id)


def _workspace_for(*, org: Organization, workspace_id: object) -> Workspace:
    if workspace_id in (None, ""):
        return workspace_default(org=org)
    ws = workspace_get_open(org=org, workspace_id=workspace_id)
    if ws is None:
        raise NotFound("Workspace not found.", slug="unknown-workspace")
    return ws


def _replace_groups(*, order: Order, checks: list[AoiCheck], product: TaskingProduct) -> int:
    order.groups.all().delete()
    total = 0
    for check in checks:
        if check.geometry is None:
            continue
        OrderGroup.objects.create(
            order=order,
            position=check.index,
            name=check.name or f"AOI {check.index + 1}",
            data_product=product.data_product,
            geometry=check.geometry,
            area_km2=check.area_km2 or 0.0,
            billed_area_km2=check.billed_area_km2 or check.area_km2 or 0.0,
            credits=check.credits or 0,
        )
        total += check.credits or 0
    return total


@transaction.atomic
def tasking_order_place(
    *,
    org: Organization,
    actor: ActorLike,
    data_product_id: str,
    params: dict[str, Any] | None,
    feature_collection: Any,
    workspace_id: object = None,
    display_name: str = "",
    tags: list[str] | None = None,
    draft_id: object = None,
    template_id: object = None,
    idempotency_key: str = "",
) -> Order:
    """Place a tasking request: validate params (schema) and every AOI (422 naming the feature),
    create (or promote the draft to) Order(tasking, PENDING, FEASIBILITY_WAITING_UPLOAD) with one
    group per AOI, and queue the automatic study for automatic-feasibility sensors (on commit).
    Charges nothing: money moves when an org admin accepts a priced option or a quotation."""
    from .schemas import params_validate
    from .selectors import tasking_draft_get

    idempotency_key = (idempotency_key or "")[:100]
    if idempotency_key:
        # Pages send a key per form render: a double submit returns the order already placed.
        existing = Order.objects.filter(org=org, idempotency_key=idempotency_key).first()
        if existing is not None and existing.status != Order.Status.DRAFT:
            return existing
    product = _product_for(data_product_id)
    params = dict(params or {})
    if display_name and not params.get("displayName"):
        params["displayName"] = display_name
    params.pop("geometry", None)  # AOIs travel in the FeatureCollection
    params = params_validate(product=product, params=params)
    recurrence = recurrence_from_params(params)
    checks = check_features(feature_collection, product.data_product)
    require_valid(checks)
    workspace = _workspace_for(org=org, workspace_id=workspace_id)
    workspace_order_check(workspace=workspace, actor=actor, action="place")
    user = actor_of(actor).user
    metadata: dict[str, Any] = {}
    if template_id:
        template = template_mark_used(org=org, template_id=template_id)
        metadata.update(template_id=str(template.id), template_name=template.name)
    if draft_id:
        order = tasking_draft_get(org=org, draft_id=draft_id)
        order = Order.objects.select_for_update().get(pk=order.pk)
    else:
        order = Order(
            org=org, order_type=OrderType.TASKING, status=Order.Status.DRAFT, billing_mode=org.billing_mode
        )
    order.workspace = workspace
    order.data_product = product.data_product
    order.display_name = display_name_clean(params.get("displayName", ""), loc=("params", "displayName"))
    order.params = params
    # The same bound as orders.update's merge-patch, or the order could never be updated again.
    order.tags = order_tags_clean(tags)
    order.metadata = {**(order.metadata or {}), **metadata}
    if idempotency_key:
        order.idempotency_key = idempotency_key
    order.billing_mode = org.billing_mode
    if order.created_by_id is None and user is not None:
        order.created_by = user
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:
        # The same form was submitted at the same instant and that request placed it first
        # (orders_order_idempotency_key_unique): answer with its order.
        existing = Order.objects.filter(org=org, idempotency_key=idempotency_key).first()
        if not idempotency_key or existing is None:
            raise
        return existing
    order.total_credits = _replace_groups(order=order, checks=checks, product=product)
    order.save(update_fields=["total_credits", "updated_at"])
    series = series_create(order=order, recurrence=recurrence) if recurrence is not None else None
    recurs = (
        f" Recurs {recurrence.frequency.lower()}, {recurrence.count} occurrences."
        if recurrence is not None
        else ""
    )
    order_transition(
        order=order,
        to=Order.Status.PENDING,
        sub_status=SUB.FEASIBILITY_WAITING_UPLOAD,
        actor=actor,
        message=f"Tasking request placed: {len(checks)} area{'s' if len(checks) != 1 else ''}, "
        f"{product.sensor.name}; waiting for the feasibility study.{recurs}",
        data={"estimatedCredits": order.total_credits}
        | ({"seriesId": str(series.pk), "occurrences": recurrence.count} if series is not None else {}),
    )
    if product.sensor.feasibility == Feasibility.AUTOMATIC:
        order_id = str(order.id)
        transaction.on_commit(lambda: enqueue(generate_automatic_study, order_id))
    return order


@transaction.atomic
def tasking_draft_save(
    *,
    org: Organization,
    actor: ActorLike,
    data_product_id: str,
    params: dict[str, Any] | None,
    feature_collection: Any,
    draft_id: object = None,
    workspace_id: object = None,
) -> Order:
    """Save an unfinished request as a DRAFT order (params unvalidated; only AOIs that parse are kept,
    so nothing the person drew is silently lost unless it is not a polygon at all)."""
    from .selectors import tasking_draft_get

    product = _product_for(data_product_id)
    try:
        checks = check_features(feature_collection, product.data_product) if feature_collection else []
    except InvalidInput:
        checks = []
    if draft_id:
        order = Order.objects.select_for_update().get(pk=tasking_draft_get(org=org, draft_id=draft_id).pk)
        workspace_order_check(workspace=order.workspace, actor=actor, action="change")
        created = False
    else:
        user = actor_of(actor).user
        order = Order(
            org=org,
            order_type=OrderType.TASKING,
            status=Order.Status.DRAFT,
            billing_mode=org.billing_mode,
            created_by=user,
        )
        created = True
    order.workspace = _workspace_for(org=org, workspace_id=workspace_id)
    workspace_order_check(workspace=order.workspace, actor=actor, action="place")
    order.data_product = product.data_product
    order.params = {k: v for k, v in (params or {}).items() if k != "geometry"}
    order.display_name = str(order.params.get("displayName") or "")[:200]
    order.save()
    order.total_credits = _replace_groups(order=order, checks=checks, product=product)
    order.save(update_fields=["total_credits", "updated_at"])
    (event_draft_created if created else event_draft_saved)(
        order=order, actor=actor, areas=order.groups.count()
    )
    return order


# --- feasibility studies -------------------------------------------------------------------------


def study_transition(
    *, study: FeasibilityStudy, to: str, actor: ActorLike, message: str = "", also: tuple[str, ...] = ()
) -> FeasibilityStudy:
    """A study's step of the one decision state machine (`orders.decisions.decision_transition`):
    the caller holds the row lock; illegal → 409 with the current decision."""
    return decision_transition(obj=study, to=to, actor=actor, message=message, also=also)


@transaction.atomic
def study_upload(
    *,
    actor: ActorLike,
    order_id: object,
    options: list[dict[str, Any]],
    deadline: Any,
    notes: str = "",
    source: str = FeasibilityStudy.Source.SUPPORT,
) -> FeasibilityStudy:
    """Support (or the automatic planner, actor=None) uploads a study with its options: the order
    goes to FEASIBILITY_WAITING_RESPONSE and the org's admins are told (on commit)."""
    from .desk import desk_claim_check
    from .selectors import support_order_get

    _ensure_staff(actor)
    order = support_order_get(order_id=order_id)
    desk_claim_check(order=order, actor=actor_of(actor))
    now = timezone.now()
    errors = _options_errors(options, now=now) + _notes_errors(notes)
    errors += _series_price_errors(
        order, [(o.get("price_credits"), ["options", i, "price_credits"]) for i, o in enumerate(options)]
    )
    if deadline is None or deadline <= now:
        errors.append(
            {
                "loc": ["deadline"],
                "msg": "The decision deadline must be in the future.",
                "type": "value_error",
            }
        )
    if errors:
        raise InvalidInput("The study is not complete: " + errors[0]["msg"], status=422, errors=errors)
    _tasking_step(
        order=order,
        to_sub=SUB.FEASIBILITY_WAITING_RESPONSE,
        actor=actor,
        message=f"Feasibility study uploaded with {len(options)} option{'s' if len(options) != 1 else ''}.",
    )
    study = FeasibilityStudy.objects.create(
        org=order.org,
        order=order,
        source=source,
        notes=notes,
        deadline=deadline,
        created_by=actor_of(actor).user,
    )
    for i, o in enumerate(options):
        FeasibilityOption.objects.create(
            study=study,
            position=i,
            description=o["description"],
            window_start=o["window_start"],
            window_end=o["window_end"],
            expected_captures=o.get("expected_captures", 1),
            expected_revisits=o.get("expected_revisits", 0),
            max_off_nadir=float(o["max_off_nadir"]),
            price_credits=o.get("price_credits"),
            valid_until=o.get("valid_until") or deadline,
        )
    _decision_pending_event(order, kind="feasibility", obj_id=study.id, deadline=deadline)
    _notify_admins(kind="feasibility", obj_id=study.id)
    audit_record(
        action="support.study_upload",
        actor=actor_of(actor),
        org=order.org,
        target=study,
        order=str(order.pk),
        options=len(options),
        deadline=deadline,
        source=source,
    )
    return study


STUDY_DESCRIPTION_MAX_CHARS = 500  # FeasibilityOption.description (its column)
STUDY_WINDOW_START_GRACE = timedelta(days=1)


def _whole(value: Any, minimum: int, maximum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= maximum


def _series_price_errors(order: Order, prices: list[tuple[Any, list[Any]]]) -> list[dict[str, Any]]:
    """A series parent's prices must give every occurrence at least 1 credit (`series_price_error`)."""
    from .series import series_price_error

    return [e for credits, loc in prices if (e := series_price_error(order=order, credits=credits, loc=loc))]


def _notes_errors(notes: str) -> list[dict[str, Any]]:
    limit = settings.SUPPORT_NOTES_MAX_CHARS
    if len(notes or "") > limit:
        return [
            {
                "loc": ["notes"],
                "msg": f"Notes are longer than {limit:,} characters (SUPPORT_NOTES_MAX_CHARS).",
                "type": "value_error",
            }
        ]
    return []


def _options_errors(options: list[dict[str, Any]], *, now: Any) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    count_max, credits_max = settings.STUDY_COUNT_MAX, settings.CREDITS_MAX
    if not options:
        return [{"loc": ["options"], "msg": "Add at least one option.", "type": "value_error.missing"}]
    for i, o in enumerate(options):

        def bad(field: str, msg: str, i: int = i) -> None:
            errors.append(
                {"loc": ["options", i, field], "msg": f"Option {i + 1}: {msg}", "type": "value_error"}
            )

        description = str(o.get("description") or "").strip()
        if not description:
            bad("description", "a description is required.")
        elif len(description) > STUDY_DESCRIPTION_MAX_CHARS:
            bad("description", f"the description is longer than {STUDY_DESCRIPTION_MAX_CHARS} characters.")
        start, end = o.get("window_start"), o.get("window_end")
        if not start or not end or end <= start:
            bad("window_end", "the acquisition window must end after it starts.")
        elif end <= now:
            bad(
                "window_end",
                "the acquisition window has already ended; the window end must be in the future.",
            )
        elif start < now - STUDY_WINDOW_START_GRACE:
            bad("window_start", "the acquisition window cannot start more than a day in the past.")
        angle = o.get("max_off_nadir")
        if not isinstance(angle, int | float) or isinstance(angle, bool) or not 0 <= angle <= 90:
            bad("max_off_nadir", "off-nadir must be between 0 and 90°.")
        for field, label, minimum in (
            ("expected_captures", "expected captures", 1),
            ("expected_revisits", "expected revisits", 0),
        ):
            count = o.get(field, minimum)
            if not _whole(count, minimum, count_max):
                bad(field, f"{label} must be a whole number between {minimum} and {count_max:,}.")
        price = o.get("price_credits")
        if price is not None and not _whole(price, 0, credits_max):
            bad(
                "price_credits",
                f"a price must be a whole number of credits between 0 and {credits_max:,} (or empty).",
            )
        valid_until = o.get("valid_until")
        if valid_until is not None and valid_until <= now:
            bad("valid_until", "the validity deadline must be in the future.")
    return errors


def _authorize(
    *, order: Order, credits: int, actor: ActorLike, what: str, idempotency_key: str | None
) -> Any:
    user = actor_of(actor).user
    # The workspace's monthly budget, in this transaction, before the money (locks its policy row).
    budget_enforce(org=order.org, workspace=order.workspace, credits=credits)
    return charge_authorize(
        org=order.org,
        credits=credits,
        reference=f"tasking:{order.id}",
        actor=user,
        description=f"Tasking: {order.display_name or str(order.id)[:8]} ({what})",
        idempotency_ref=f"{order.org_id}:{order.id}:{idempotency_key or what}",
    )


def _activate(*, order: Order, charge: Any, credits: int, actor: ActorLike, message: str) -> None:
    locked = Order.objects.select_for_update().get(pk=order.pk)
    locked.charge = charge
    locked.total_credits = credits
    locked.save(update_fields=["charge", "total_credits", "updated_at"])
    _tasking_step(
        order=locked,
        to_sub=SUB.QUOTATION_ACCEPTED,
        to_status=Order.Status.ACTIVE,
        actor=actor,
        message=message,
        data={"credits": credits, "chargeId": str(charge.id)},
    )


def _charge_and_activate(
    *, order: Order, credits: int, actor: ActorLike, what: str, idempotency_key: str | None, message: str
) -> None:
    """An accepted price: secure the money per the org's billing mode (402 when it cannot), then
    start the acquisition. Precondition: the decision row is locked and already moved to ACCEPTED.
    A series parent is authorised once here and charges per occurrence (`tasking.series`); the
    child of an occurrence decided on its own is then marked ordered in its series."""
    from .series import occurrence_decided, series_accept, series_of

    series = series_of(order)
    if series is not None:
        # A price issued before this rule (or written around the upload paths) is refused here too.
        if error := _series_price_errors(order, [(credits, ["credits"])]):
            raise Conflict(
                error[0]["msg"] + " Ask support for a new quotation.",
                slug="series-price-too-low",
                occurrences=series.occurrence_count,
                credits=credits,
            )
        series_accept(series=series, credits=credits, actor=actor, message=message)
        return
    # The order before the money: a series cancel holds an occurrence's child and then needs the
    # wallet to release the others, so an acceptance must not hold the wallet while it waits for
    # that child (a deadlock). Lock order here: the decision row, the order, the policy, the wallet.
    Order.objects.select_for_update().filter(pk=order.pk).values_list("pk", flat=True).first()
    charge = _authorize(order=order, credits=credits, actor=actor, what=what, idempotency_key=idempotency_key)
    _activate(order=order, charge=charge, credits=credits, actor=actor, message=message)
    occurrence_decided(order=order, actor=actor)


@transaction.atomic
def feasibility_decide(
    *,
    org: Organization,
    actor: ActorLike,
    study_id: object,
    option_id: object,
    idempotency_key: str | None = None,
    approval_note: str = "",
) -> FeasibilityStudy:
    """An org admin accepts one option of a pending study. Priced: charge it (402 when short) and
    activate the order in one step. Unpriced: the order waits for support's quotation.
    Concurrent deciders serialise on the study row: the second gets 409 with the first's decision."""
    from .selectors import study_get

    actor = actor_of(actor)
    is_admin = _ensure_may_accept(org=org, actor=actor)
    study = study_get(org=org, study_id=study_id, for_update=True)
    decision_ensure_open(study)  # 409 when decided, 410 when past its deadline
    _ensure_order_waiting(study.order, noun="feasibility study")
    oid = parse_uuid(option_id)
    option = study.options.filter(id=oid).first() if oid else None
    if option is None:
        raise NotFound("That option is not part of this feasibility study.", slug="unknown-option")
    deadline_check(deadline=option.valid_until, what="option", decision=study.decision)
    if not is_admin:
        held = _operator_acceptance(
            org=org,
            actor=actor,
            order=study.order,
            credits=option.price_credits,
            action=SpendApproval.Action.FEASIBILITY_ACCEPT,
            target_id=option.id,
            note=approval_note,
            payload={"studyId": str(study.id)},
        )
        if held is not None:
            study.pending_approval = held  # the study stays pending until an admin approves
            return study
    study.accepted_option = option
    study_transition(
        study=study,
        to=FeasibilityStudy.Decision.ACCEPTED,
        actor=actor,
        message=f"Option accepted: {option.description}.",
        also=("accepted_option",),
    )
    order = study.order
    if option.is_priced:
        _charge_and_activate(
            order=order,
            credits=option.price_credits,
            actor=actor,
            what="feasibility option",
            idempotency_key=idempotency_key,
            message=f"Priced option accepted ({option.price_credits:,} credits): acquisition starts.",
        )
    else:
        _tasking_step(
            order=order,
            to_sub=SUB.QUOTATION_WAITING_UPLOAD,
            actor=actor,
            message=f"Option accepted: {option.description}; waiting for the quotation.",
        )
    return study


@transaction.atomic
def study_reject(*, org: Organization, actor: ActorLike, study_id: object) -> FeasibilityStudy:
    """An org admin declines every option: the study is rejected and so is the order."""
    from .selectors import study_get

    actor = actor_of(actor)
    _ensure_org_admin(org=org, actor=actor)
    study = study_get(org=org, study_id=study_id, for_update=True)
    decision_ensure_open(study)
    study_transition(
        study=study, to=FeasibilityStudy.Decision.REJECTED, actor=actor, message="Feasibility study rejected."
    )
    order_transition(
        order=study.order, to=Order.Status.REJECTED, actor=actor, message="Feasibility options declined."
    )
    return study


# --- quotations ----------------------------------------------------------------------------------


def quotation_transition(*, quotation: Quotation, to: str, actor: ActorLike, message: str = "") -> Quotation:
    """A quotation's step of the one decision state machine (`orders.decisions.decision_transition`):
    the caller holds its row lock; illegal → 409."""
    return decision_transition(obj=quotation, to=to, actor=actor, message=message)


@transaction.atomic
def quotation_upload(
    *, actor: ActorLike, order_id: object, credits: int, valid_until: Any, notes: str = ""
) -> Quotation:
    """Support issues the final price: the order goes to QUOTATION_WAITING_RESPONSE."""
    from .desk import desk_claim_check
    from .selectors import support_order_get

    _ensure_staff(actor)
    order = support_order_get(order_id=order_id)
    desk_claim_check(order=order, actor=actor_of(actor))
    errors = _notes_errors(notes)
    if not _whole(credits, 0, settings.CREDITS_MAX):
        errors.append(
            {
                "loc": ["credits"],
                "msg": f"Credits must be a whole number between 0 and {settings.CREDITS_MAX:,}.",
                "type": "value_error",
            }
        )
    if valid_until is None or valid_until <= timezone.now():
        errors.append(
            {
                "loc": ["valid_until"],
                "msg": "The quotation must be valid until a future date.",
                "type": "value_error",
            }
        )
    errors += _series_price_errors(order, [(credits, ["credits"])])
    if errors:
        raise InvalidInput(errors[0]["msg"], status=422, errors=errors)
    _tasking_step(
        order=order,
        to_sub=SUB.QUOTATION_WAITING_RESPONSE,
        actor=actor,
        message=f"Quotation uploaded: {credits:,} credits, valid until {valid_until:%Y-%m-%d %H:%M} UTC.",
    )
    quotation = Quotation.objects.create(
        org=order.org,
        order=order,
        credits=credits,
        valid_until=valid_until,
        notes=notes,
        created_by=actor_of(actor).user,
    )
    _decision_pending_event(order, kind="quotation", obj_id=quotation.id, deadline=valid_until)
    _notify_admins(kind="quotation", obj_id=quotation.id)
    audit_record(
        action="support.quotation_upload",
        actor=actor_of(actor),
        org=order.org,
        target=quotation,
        order=str(order.pk),
        credits=credits,
        valid_until=valid_until,
    )
    return quotation


def _decision_pending_event(order: Order, *, kind: str, obj_id: object, deadline: Any) -> None:
    from geopera_web.events.order_bridge import order_payload
    from geopera_web.events.services import event_emit

    event_emit(
        org=order.org,
        type="decision.pending",
        data=order_payload(order)
        | {"decisionKind": kind, "decisionId": str(obj_id), "deadline": deadline.isoformat()},
    )


@transaction.atomic
def quotation_decide(
    *,
    org: Organization,
    actor: ActorLike,
    quotation_id: object,
    decision: str,
    idempotency_key: str | None = None,
    approval_note: str = "",
) -> Quotation:
    """An org admin accepts (charging per billing mode; 402 when short) or rejects a quotation."""
    from .selectors import quotation_get

    if decision not in (Quotation.Decision.ACCEPTED, Quotation.Decision.REJECTED):
        raise InvalidInput("decision must be ACCEPTED or REJECTED.")
    actor = actor_of(actor)
    if decision == Quotation.Decision.REJECTED:
        _ensure_org_admin(org=org, actor=actor)
        is_admin = True
    else:
        is_admin = _ensure_may_accept(org=org, actor=actor)
    quotation = quotation_get(org=org, quotation_id=quotation_id, for_update=True)
    decision_ensure_open(quotation)
    _ensure_order_waiting(quotation.order, noun="quotation")
    if not is_admin:
        held = _operator_acceptance(
            org=org,
            actor=actor,
            order=quotation.order,
            credits=quotation.credits,
            action=SpendApproval.Action.QUOTATION_ACCEPT,
            target_id=quotation.id,
            note=approval_note,
            payload={},
        )
        if held is not None:
            quotation.pending_approval = held  # the quotation stays pending until an admin approves
            return quotation
    quotation_transition(quotation=quotation, to=decision, actor=actor)
    order = quotation.order
    if decision == Quotation.Decision.ACCEPTED:
        _charge_and_activate(
            order=order,
            credits=quotation.credits,
            actor=actor,
            what="quotation",
            idempotency_key=idempotency_key,
            message=f"Quotation accepted ({quotation.credits:,} credits): acquisition starts.",
        )
    else:
        from .series import occurrence_decided

        _tasking_step(
            order=order,
            to_sub=SUB.QUOTATION_REJECTED,
            to_status=Order.Status.REJECTED,
            actor=actor,
            message="Quotation rejected.",
        )
        occurrence_decided(order=order, actor=actor)  # an occurrence's own quotation: declined
    return quotation


# --- expiry and the automatic planner ------------------------------------------------------------


def decisions_expire_stale(*, now: Any = None) -> int:
    """Expire every pending decision (of every registered kind) past its deadline, and what its
    kind says expiry does to the order, each with an event. One short transaction per item
    (skip_locked: a decision in progress is left to finish)."""
    now = now or timezone.now()
    expired = 0
    for kind in decision_kinds():
        pending = AbstractDecision.Decision.PENDING
        ids = list(
            kind.model.objects.filter(decision=pending, **{f"{kind.deadline_field}__lte": now}).values_list(
                "id", flat=True
            )
        )
        for pk in ids:
            with transaction.atomic():
                obj = (
                    kind.model.objects.select_for_update(skip_locked=True)
                    .filter(pk=pk, decision=pending)
                    .first()
                )
                if obj is None:
                    continue
                decision_transition(
                    obj=obj,
                    to=AbstractDecision.Decision.EXPIRED,
                    actor=None,
                    message=f"The {kind.noun} expired unanswered.",
                )
                if kind.on_expired is not None:
                    kind.on_expired(obj)
                expired += 1
    return expired


AUTO_STUDY_DEADLINE_DAYS = 3


@transaction.atomic
def automatic_study_generate(*, order_id: object) -> FeasibilityStudy | None:
    """Build and upload a study from predicted passes for an automatic-feasibility order. Safe to run
    twice (does nothing unless the order still waits for its study). With no passes, or a request
    outside automatic limits, the order stays in the support queue with an event saying why."""
    from .aoi import AoiCheck
    from .feasibility import feature_feasibility, window_of
    from .selectors import support_order_get

    order = support_order_get(order_id=order_id)
    if order.status != Order.Status.PENDING or order.sub_status != SUB.FEASIBILITY_WAITING_UPLOAD:
        return None
    product = getattr(order.data_product, "tasking", None)
    if product is None or product.sensor.feasibility != Feasibility.AUTOMATIC:
        return None
    all_passes: list[Any] = []
    reasons: list[str] = []
    for group in order.groups.all():
        check = AoiCheck(index=group.position, geometry=group.geometry, area_km2=group.area_km2)
        ff = feature_feasibility(product=product, check=check, params=order.params)
        reasons += [r["message"] for r in ff.reasons]
        all_passes += ff.passes
    start, end = window_of(order.params)
    if reasons or not all_passes or start is None or end is None:
        event_feasibility_referred(order=order, reasons=reasons)
        return None
    passes = sorted(all_passes, key=lambda p: p.start)
    now = timezone.now()
    deadline = min(now + timedelta(days=AUTO_STUDY_DEADLINE_DAYS), end)
    angle = float(order.params.get("incidenceAngle") or product.sensor.max_off_nadir)

    def best_angle(p: Any) -> float:
        return float(getattr(p, "min_off_nadir_deg", getattr(p, "off_nadir_deg", angle)))

    first = passes[0]
    best = min(passes, key=best_angle)
    options = [
        {
            "description": f"Earliest pass: {first.satellite} on {first.start:%d %b %H:%M} UTC "
            f"({len(passes)} passes in the window)",
            "window_start": max(start, now),
            "window_end": end,
            "expected_captures": 1,
            "expected_revisits": len(passes),
            "max_off_nadir": angle,
            "price_credits": order.total_credits,
            "valid_until": deadline,
        },
        {
            "description": f"Sharpest geometry: {best.satellite} on {best.start:%d %b %H:%M} UTC at "
            f"{best_angle(best):.0f}° off-nadir",
            "window_start": best.start,
            "window_end": max(best.end, best.start + timedelta(minutes=1)),
            "expected_captures": 1,
            "expected_revisits": 1,
            "max_off_nadir": round(best_angle(best), 1),
            "price_credits": int(order.total_credits * 1.2),
            "valid_until": deadline,
        },
    ]
    return study_upload(
        actor=None,
        order_id=order.id,
        options=options,
        deadline=deadline,
        notes="Generated automatically from predicted passes (SGP4 on the shipped TLEs).",
        source=FeasibilityStudy.Source.AUTOMATIC,
    )


def _notify_admins(*, kind: str, obj_id: Any) -> None:
    ref = str(obj_id)
    transaction.on_commit(lambda: enqueue(notify_pending_decision, kind, ref))


def decision_notify_admins(*, kind: str, decision_id: object) -> int:
    """E-mail the org's active admins that a decision of `kind` waits for them; returns how many
    messages went out (0 when it is decided already, gone, or the org has no admin). Safe to repeat."""
    spec = decision_kind(kind)
    obj = spec.model.objects.select_related("order", "org").filter(pk=parse_uuid(decision_id)).first()
    if obj is None or not obj.is_pending:
        return 0
    admins = list(
        Membership.objects.filter(org=obj.org, role=Role.ADMIN, user__is_active=True).values_list(
            "user__email", flat=True
        )
    )
    if not admins:
        return 0
    order = obj.order
    deadline = getattr(obj, spec.deadline_field)
    site = getattr(settings, "SITE_URL", "")
    url = site.rstrip("/") + reverse("tasking:inbox") if site else ""
    body = (
        f"{spec.headline_of(obj)} for your tasking order “{order.display_name or str(order.id)[:8]}” is waiting "
        f"for a decision by {deadline:%Y-%m-%d %H:%M} UTC.\n\n"
        f"Open your inbox to accept or reject it{': ' + url if url else '.'}\n"
    )
    return send_mail(
        subject=f"[geopera] Decision needed: {order.display_name or 'tasking order'}",
        message=body,
        from_email=None,
        recipient_list=admins,
    )
