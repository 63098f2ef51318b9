"""`provenance.get` (the lineage graph) and `orders.tasking.groups.list` (an order's AOI groups
with their delivery figures), with the reference's ids and fields."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db.models import Count, Max, Q
from rest_framework import serializers

from geopera_web.accounts.models import Scope
from geopera_web.api.fields import SettingBoundsMixin
from geopera_web.api.registry import Effect, OpContext, operation

from ..coverage.selectors import coverage_group_figures
from ..models import OrderGroup
from .graph import lineage_get, lineage_kinds


class LineageGetInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = {"max_depth": {"max_value": "LINEAGE_MAX_DEPTH"}}

    entity_type = serializers.ChoiceField(
        choices=[],  # the registered lineage kinds, when the serializer is made (see __init__)
        help_text="Root node type: project | order | group | feasibility_study | quotation | delivery | item "
        "(a delivered capture).",
    )
    entity_id = serializers.CharField(max_length=100, help_text="Root entity id")
    direction = serializers.RegexField(
        r"^(up|down|both)$", required=False, default="up", help_text="up=ancestors, down=descendants, both"
    )
    max_depth = serializers.IntegerField(
        required=False,
        default=20,
        min_value=1,
        help_text="Levels to walk, at most {max_value} (LINEAGE_MAX_DEPTH).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every app registers its node kinds as it loads: the enum is read when the serializer is
        # made (the document is built from an instance too), so both say the same.
        kinds = lineage_kinds()
        field = self.fields["entity_type"]
        field.choices = kinds
        field.error_messages["invalid_choice"] = (
            "Unknown entity_type {input}: lineage is kept for " + ", ".join(kinds) + "."
        )


class LineageNode(serializers.Serializer):
    """A node: its kind and id, its distance from the root (`depth`), a `label` for people and its
    `status` (an order's status, a decision, a capture's delivered/failed)."""

    entity_type = serializers.CharField()
    entity_id = serializers.CharField()
    depth = serializers.IntegerField()
    label = serializers.CharField()
    status = serializers.CharField(allow_null=True)


class LineageEdge(serializers.Serializer):
    """Always parent → child (`src` → `dst`), whichever way the walk went. Relations: contains
    (project → order, delivery → item), has_group, delivered_in (order → delivery), acquired_for
    (group → item), assessed_by (order → feasibility_study), priced_by (order → quotation).
    `invocation_id` is always null (no processing jobs here)."""

    depth = serializers.IntegerField()
    src_type = serializers.CharField(allow_null=True)
    src_id = serializers.CharField(allow_null=True)
    dst_type = serializers.CharField(allow_null=True)
    dst_id = serializers.CharField(allow_null=True)
    relation = serializers.CharField(allow_null=True)
    invocation_id = serializers.CharField(allow_null=True)


class LineageRoot(serializers.Serializer):
    entity_type = serializers.CharField()
    entity_id = serializers.CharField()


class LineageGetOutput(serializers.Serializer):
    root = LineageRoot()
    direction = serializers.CharField()
    edges = LineageEdge(many=True)
    nodes = LineageNode(many=True)


@operation(
    "provenance.get",
    scope=Scope.PROVENANCE_READ,
    effect=Effect.READ,
    input=LineageGetInput,
    output=LineageGetOutput,
    summary="The lineage of an order or a delivered capture: workspace, order, groups, decisions, deliveries.",
)
def provenance_get_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Down from an order: its AOI groups, feasibility studies and quotations, delivery batches and
    the captures delivered (each under its group and its batch). Up from a delivered capture
    (`item`): its group and batch, the order, the workspace. `both` walks both ways. Another
    organization's entity is a 404; an unknown `entity_type` is a 400 naming the known ones."""
    lineage = lineage_get(
        org=ctx.org,
        entity_type=data["entity_type"],
        entity_id=data["entity_id"],
        direction=data.get("direction") or "up",
        max_depth=data.get("max_depth") or 20,
    )
    return lineage.as_wire()


class TaskingGroupsInput(serializers.Serializer):
    order_id = serializers.CharField(max_length=100)


class TaskingGroup(serializers.Serializer):
    """One AOI of a tasking order: the AOI (`geometry`, GeoJSON), its areas (geodesic km²; billed
    = max(area, product minimum)), its price in credits, and its delivery figures."""

    id = serializers.CharField()
    position = serializers.IntegerField()
    name = serializers.CharField()
    data_product_id = serializers.CharField(allow_null=True)
    area_km2 = serializers.FloatField()
    billed_area_km2 = serializers.FloatField()
    credits = serializers.IntegerField()
    geometry = serializers.DictField()
    captures_delivered = serializers.IntegerField()
    covered_percentage = serializers.FloatField(
        help_text="From the latest coverage computation (0 before one)."
    )
    last_delivery_at = serializers.DateTimeField(allow_null=True)


class TaskingGroupsOutput(serializers.Serializer):
    order_id = serializers.CharField()
    status = serializers.CharField()
    sub_status = serializers.CharField()
    groups = TaskingGroup(many=True)


@operation(
    "orders.tasking.groups.list",
    scope=Scope.ADMIN_READ,
    effect=Effect.READ,
    input=TaskingGroupsInput,
    output=TaskingGroupsOutput,
    summary="List an order's tasking groups (admin).",
)
def tasking_groups_list_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Org admins (and API keys with admin:read). Every AOI group of a tasking order with its
    geometry, price and coverage so far. Another organization's order is 404; an archive order
    is 409 `not-a-tasking-order`."""
    ctx.require_role("admin", action="list an order's tasking groups", api_keys=True)
    order, figures = coverage_group_figures(org=ctx.org, order_id=data["order_id"])
    by_id = {str(f.group_id): f for f in figures}
    rows = (
        OrderGroup.objects.filter(order=order)
        .annotate(
            geojson=AsGeoJSON("geometry", precision=7),
            delivered=Count("delivered_captures", filter=Q(delivered_captures__status="delivered")),
            last_delivery=Max("delivered_captures__delivered_at"),
        )
        .defer("geometry")
        .order_by("position")
    )
    groups = []
    for g in rows:
        fig = by_id.get(str(g.pk))
        groups.append(
            {
                "id": str(g.pk),
                "position": g.position,
                "name": g.name or f"AOI {g.position + 1}",
                "data_product_id": g.data_product_id or order.data_product_id,
                "area_km2": round(g.area_km2, 6),
                "billed_area_km2": round(g.billed_area_km2, 6),
                "credits": g.credits,
                "geometry": json.loads(g.geojson),
                "captures_delivered": g.delivered,
                "covered_percentage": round(fig.covered_percent, 4) if fig else 0.0,
                "last_delivery_at": g.last_delivery,
            }
        )
    return {
        "order_id": str(order.pk),
        "status": order.status,
        "sub_status": order.sub_status,
        "groups": groups,
    }
