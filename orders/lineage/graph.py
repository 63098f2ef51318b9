"""A breadth-first walk of the lineage graph, one level at a time.

Each node kind has a `LineageSource`: given a batch of ids of that kind (all in one org), it
returns the edges to its children (`down`) or its parents (`up`). A level costs one query per
(kind, relation) present in it, whatever the number of nodes, so the walk is bounded by
`max_depth`, never by the size of an order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber

from geopera_web.accounts.models import Organization, Workspace
from geopera_web.errors import InvalidInput, NotFound, parse_uuid

from ..fulfilment.models import DeliveredCapture, DeliveryBatch
from ..models import Order, OrderGroup


@dataclass(frozen=True)
class Edge:
    src_type: str
    src_id: str
    dst_type: str
    dst_id: str
    relation: str


@dataclass(frozen=True)
class NodeInfo:
    label: str
    status: str | None = None


# A batch function: (org, ids) -> edges. Ids are strings.
Batch = Callable[[Organization, list[str]], Iterable[Edge]]
Describe = Callable[[Organization, list[str]], dict[str, NodeInfo]]


@dataclass
class LineageSource:
    kind: str
    describe: Describe
    down: list[Batch] = field(default_factory=list)
    up: list[Batch] = field(default_factory=list)


_SOURCES: dict[str, LineageSource] = {}


def register_lineage_source(source: LineageSource) -> LineageSource:
    """Add a node kind, or more edges to one already registered (another app's children)."""
    existing = _SOURCES.get(source.kind)
    if existing is None:
        _SOURCES[source.kind] = source
    else:
        existing.down.extend(source.down)
        existing.up.extend(source.up)
    return source


def lineage_kinds() -> list[str]:
    return sorted(_SOURCES)


@dataclass
class Lineage:
    root_type: str
    root_id: str
    direction: str
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]

    def as_wire(self) -> dict[str, Any]:
        return {
            "root": {"entity_type": self.root_type, "entity_id": self.root_id},
            "direction": self.direction,
            "nodes": self.nodes,
            "edges": self.edges,
        }


def _walk(
    *,
    org: Organization,
    start: tuple[str, str],
    direction: str,
    max_depth: int,
    seen: dict,
    edges: list,
    leave_out: frozenset[str] = frozenset(),
) -> None:
    frontier = [start]
    for depth in range(1, max_depth + 1):
        by_kind: dict[str, list[str]] = defaultdict(list)
        for kind, node_id in frontier:
            by_kind[kind].append(node_id)
        nxt: list[tuple[str, str]] = []
        for kind, ids in by_kind.items():
            source = _SOURCES.get(kind)
            for batch in (source.down if direction == "down" else source.up) if source else []:
                if getattr(batch, "reaches", None) in leave_out:
                    continue
                for edge in batch(org, ids):
                    edges.append((depth, edge))
                    other = (
                        (edge.dst_type, edge.dst_id) if direction == "down" else (edge.src_type, edge.src_id)
                    )
                    if other not in seen:
                        seen[other] = depth
                        nxt.append(other)
        if not nxt:
            return
        frontier = nxt


def lineage_get(
    *,
    org: Organization,
    entity_type: str,
    entity_id: str,
    direction: str = "up",
    max_depth: int = 20,
    leave_out: frozenset[str] = frozenset(),
) -> Lineage:
    """The lineage around one entity of `org`: its ancestors (`up`), descendants (`down`) or both.
    Another org's entity is a 404, like a missing one; an unknown kind is a 400 naming the kinds.
    `leave_out`: node kinds the walk does not follow (the order page pages its deliveries itself)."""
    if entity_type not in _SOURCES:
        raise InvalidInput(
            f"Unknown entity_type {entity_type!r}: lineage is kept for {', '.join(lineage_kinds())}.",
            slug="unknown-entity-type",
        )
    root_info = _SOURCES[entity_type].describe(org, [str(entity_id)])
    if str(entity_id) not in root_info:
        raise NotFound(f"No {entity_type} {entity_id!r} in your organization.")
    root = (entity_type, str(entity_id))
    seen: dict[tuple[str, str], int] = {root: 0}
    raw_edges: list[tuple[int, Edge]] = []
    for way in ("up", "down") if direction == "both" else (direction,):
        _walk(
            org=org,
            start=root,
            direction=way,
            max_depth=max_depth,
            seen=seen,
            edges=raw_edges,
            leave_out=leave_out,
        )

    infos: dict[tuple[str, str], NodeInfo] = {root: root_info[str(entity_id)]}
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, node_id in seen:
        if (kind, node_id) != root:
            by_kind[kind].append(node_id)
    for kind, ids in by_kind.items():
        for node_id, info in _SOURCES[kind].describe(org, ids).items():
            infos[(kind, node_id)] = info
    nodes = [
        {
            "entity_type": kind,
            "entity_id": node_id,
            "depth": depth,
            "label": infos[(kind, node_id)].label if (kind, node_id) in infos else node_id,
            "status": infos[(kind, node_id)].status if (kind, node_id) in infos else None,
        }
        for (kind, node_id), depth in sorted(seen.items(), key=lambda item: (item[1], item[0]))
    ]
    unique: dict[Edge, int] = {}
    for depth, edge in raw_edges:
        unique.setdefault(edge, depth)
    edges = [
        {
            "depth": depth,
            "src_type": e.src_type,
            "src_id": e.src_id,
            "dst_type": e.dst_type,
            "dst_id": e.dst_id,
            "relation": e.relation,
            "invocation_id": None,
        }
        for e, depth in unique.items()
    ]
    return Lineage(
        root_type=entity_type, root_id=str(entity_id), direction=direction, nodes=nodes, edges=edges
    )


# --- the orders app's own kinds -------------------------------------------------------------------


def _uuids(ids: list[str]) -> list[Any]:
    return [u for u in (parse_uuid(i) for i in ids) if u is not None]


def _ints(ids: list[str]) -> list[int]:
    out = []
    for i in ids:
        try:
            n = int(i)
        except (TypeError, ValueError):
            continue
        if 0 < n < 2**63:
            out.append(n)
    return out


def _describe_projects(org: Organization, ids: list[str]) -> dict[str, NodeInfo]:
    rows = Workspace.objects.filter(org=org, id__in=_uuids(ids)).values_list("id", "name", "is_archived")
    return {str(i): NodeInfo(label=n, status="archived" if a else "active") for i, n, a in rows}


def _describe_orders(org: Organization, ids: list[str]) -> dict[str, NodeInfo]:
    rows = Order.objects.filter(org=org, id__in=_uuids(ids)).values_list(
        "id", "display_name", "order_type", "status"
    )
    return {str(i): NodeInfo(label=n or f"{t.title()} order {str(i)[:8]}", status=s) for i, n, t, s in rows}


def _describe_groups(org: Organization, ids: list[str]) -> dict[str, NodeInfo]:
    rows = OrderGroup.objects.filter(order__org=org, id__in=_uuids(ids)).values_list("id", "name", "position")
    return {str(i): NodeInfo(label=n or f"Group {p + 1}") for i, n, p in rows}


def _describe_deliveries(org: Organization, ids: list[str]) -> dict[str, NodeInfo]:
    rows = DeliveryBatch.objects.filter(order__org=org, id__in=_ints(ids)).values_list("id", "ref", "source")
    return {str(i): NodeInfo(label=r, status=s) for i, r, s in rows}


def _describe_items(org: Organization, ids: list[str]) -> dict[str, NodeInfo]:
    rows = DeliveredCapture.objects.filter(order__org=org, id__in=_uuids(ids)).values_list(
        "id", "scene_id", "status"
    )
    return {str(i): NodeInfo(label=s, status=st) for i, s, st in rows}


def relation(
    model: Any,
    *,
    org_field: str,
    parent: str,
    parent_field: str,
    child: str,
    rel: str,
    parent_ids: Callable[[list[str]], list] | None = None,
    child_ids: Callable[[list[str]], list] | None = None,
) -> tuple[Batch, Batch]:
    """The two batch functions (down: parents -> children, up: children -> parents) of a relation
    stored on the child's rows as `parent_field`; one query per batch either way."""
    parent_ids = parent_ids or _uuids
    child_ids = child_ids or _uuids

    def edges(org: Organization, **where: Any) -> list[Edge]:
        rows = model.objects.filter(**{org_field: org}, **where).values_list(parent_field, "id")
        return [Edge(parent, str(p), child, str(c), rel) for p, c in rows]

    def down(org: Organization, ids: list[str]) -> Iterable[Edge]:
        return edges(org, **{f"{parent_field}__in": parent_ids(ids)})

    def up(org: Organization, ids: list[str]) -> Iterable[Edge]:
        return edges(org, id__in=child_ids(ids), **{f"{parent_field}__isnull": False})

    # The kind each one reaches, so a walk may leave a kind out without querying it.
    down.reaches = child  # type: ignore[attr-defined]
    up.reaches = parent  # type: ignore[attr-defined]
    return down, up


_project_orders, _order_project = relation(
    Order, org_field="org", parent="project", parent_field="workspace_id", child="order", rel="contains"
)
_order_groups, _group_order = relation(
    OrderGroup,
    org_field="order__org",
    parent="order",
    parent_field="order_id",
    child="group",
    rel="has_group",
)
_order_deliveries, _delivery_order = relation(
    DeliveryBatch,
    org_field="order__org",
    parent="order",
    parent_field="order_id",
    child="delivery",
    rel="delivered_in",
    child_ids=_ints,
)
_group_items, _item_group = relation(
    DeliveredCapture,
    org_field="order__org",
    parent="group",
    parent_field="group_id",
    child="item",
    rel="acquired_for",
)
_delivery_items, _item_delivery = relation(
    DeliveredCapture,
    org_field="order__org",
    parent="delivery",
    parent_field="batch_id",
    child="item",
    rel="contains",
    parent_ids=_ints,
)


register_lineage_source(LineageSource("project", _describe_projects, down=[_project_orders]))
register_lineage_source(
    LineageSource("order", _describe_orders, down=[_order_groups, _order_deliveries], up=[_order_project])
)
register_lineage_source(LineageSource("group", _describe_groups, down=[_group_items], up=[_group_order]))
register_lineage_source(
    LineageSource("delivery", _describe_deliveries, down=[_delivery_items], up=[_delivery_order])
)
register_lineage_source(LineageSource("item", _describe_items, up=[_item_group, _item_delivery]))


KIND_LABELS = {
    "project": "Workspace",
    "order": "Order",
    "group": "AOI group",
    "feasibility_study": "Feasibility study",
    "quotation": "Quotation",
    "delivery": "Delivery",
    "item": "Delivered capture",
}
_KIND_ORDER = ["group", "feasibility_study", "quotation", "delivery", "item"]


def _captures_of_group(org: Organization, order_id: object) -> QuerySet[DeliveredCapture]:
    return DeliveredCapture.objects.filter(order__org=org, order_id=order_id)


def _item_node(item_id: object, scene_id: str, status: str) -> dict[str, Any]:
    return {
        "entity_type": "item",
        "entity_id": str(item_id),
        "label": scene_id,
        "status": status,
        "kind_label": KIND_LABELS["item"],
    }


def _delivery_nodes(org: Organization, order_id: object, offset: int, rows: int) -> list[dict[str, Any]]:
    page = (
        DeliveryBatch.objects.filter(order__org=org, order_id=order_id)
        .order_by("-received_at", "-id")
        .values_list("id", "ref", "source")[offset : offset + rows]
    )
    nodes = [
        {
            "entity_type": "delivery",
            "entity_id": str(i),
            "depth": 1,
            "label": ref,
            "status": source,
            "kind_label": KIND_LABELS["delivery"],
        }
        for i, ref, source in page
    ]
    counts = (
        dict(
            DeliveredCapture.objects.filter(
                order__org=org, order_id=order_id, batch_id__in=[int(n["entity_id"]) for n in nodes]
            )
            .order_by()
            .values_list("batch_id")
            .annotate(n=Count("id"))
        )
        if nodes
        else {}
    )
    return [
        {**n, "count": counts.get(int(n["entity_id"]), 0), "children": [], "next_offset": 0} for n in nodes
    ]


def order_lineage_deliveries(
    *, org: Organization, order_id: object, offset: int, rows: int
) -> dict[str, Any]:
    """One page of the order's delivery batches as its page's lineage lists them (newest first),
    each with its number of captures, and how many there are (`deliveries_total`)."""
    nodes = _delivery_nodes(org, order_id, offset, rows)
    total = DeliveryBatch.objects.filter(order__org=org, order_id=order_id).count()
    return {"deliveries": nodes, "deliveries_total": total, "deliveries_next": offset + len(nodes)}


def order_lineage_outline(*, org: Organization, order_id: object, rows: int) -> dict[str, Any]:
    """What the order page shows: the workspace above the order, and below it each child from
    `provenance.get`'s walk (`both`, one level): its groups, studies and quotations, then its
    newest `rows` delivery batches (`order_lineage_deliveries` pages the rest); each child with its
    number of delivered captures (`count`) and, for a group, its first `rows` captures by scene id
    (`children`, one windowed query; `order_lineage_captures` pages the rest). A constant number
    of queries reading a bounded number of rows, whatever the number of deliveries."""
    lineage = lineage_get(
        org=org,
        entity_type="order",
        entity_id=str(order_id),
        direction="both",
        max_depth=1,
        leave_out=frozenset({"delivery"}),
    )
    root = (lineage.root_type, lineage.root_id)
    nodes = {(n["entity_type"], n["entity_id"]): n for n in lineage.nodes}
    below = [
        {**nodes[(e["dst_type"], e["dst_id"])], "kind_label": KIND_LABELS.get(e["dst_type"])}
        for e in lineage.edges
        if (e["src_type"], e["src_id"]) == root and (e["dst_type"], e["dst_id"]) in nodes
    ]
    top = sorted(below, key=lambda n: (_KIND_ORDER.index(n["entity_type"]), n["label"]))
    group_ids = [n["entity_id"] for n in top if n["entity_type"] == "group"]
    counts: dict[str, int] = {}
    first: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if group_ids:
        counts = {
            str(g): n
            for g, n in _captures_of_group(org, root[1])
            .order_by()
            .values_list("group_id")
            .annotate(n=Count("id"))
        }
        ranked = (
            _captures_of_group(org, root[1])
            .annotate(
                rank=Window(RowNumber(), partition_by=[F("group_id")], order_by=[F("scene_id"), F("id")])
            )
            .filter(rank__lte=rows)
            .order_by("group_id", "scene_id", "id")
            .values_list("group_id", "id", "scene_id", "status")
        )
        for group_id, item_id, scene_id, status in ranked:
            first[str(group_id)].append(_item_node(item_id, scene_id, status))
    outline = []
    for n in top:
        children = first.get(n["entity_id"], []) if n["entity_type"] == "group" else []
        count = counts.get(n["entity_id"], 0) if n["entity_type"] == "group" else 0
        outline.append({**n, "count": count, "children": children, "next_offset": len(children)})
    deliveries = order_lineage_deliveries(org=org, order_id=root[1], offset=0, rows=rows)
    project = next((n for n in lineage.nodes if n["entity_type"] == "project"), None)
    return {
        "project": project,
        "children": outline + deliveries["deliveries"],
        "deliveries_total": deliveries["deliveries_total"],
        "deliveries_next": deliveries["deliveries_next"],
        "node_count": len(lineage.nodes) + deliveries["deliveries_total"],
    }


def order_lineage_captures(
    *, org: Organization, order_id: object, group_id: object, offset: int, rows: int
) -> list[dict[str, Any]]:
    """One page of a group's delivered captures as the order page's lineage lists them (by scene
    id), `rows` from `offset`; the caller has checked the order and group are the org's."""
    page = (
        _captures_of_group(org, order_id)
        .filter(group_id=group_id)
        .order_by("scene_id", "id")
        .values_list("id", "scene_id", "status")[offset : offset + rows]
    )
    return [_item_node(i, s, st) for i, s, st in page]
