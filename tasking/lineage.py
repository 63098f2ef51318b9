"""The tasking flow's part of an order's lineage: its feasibility studies and quotations
(children of the order; a study's label says which option was accepted)."""

from __future__ import annotations

from collections.abc import Iterable

from geopera_web.accounts.models import Organization
from orders.lineage.graph import Edge, LineageSource, NodeInfo, _uuids, register_lineage_source

from .models import FeasibilityStudy, Quotation


def _describe_studies(org: Organization, ids: list[str]) -> dict[str, NodeInfo]:
    rows = FeasibilityStudy.objects.filter(org=org, id__in=_uuids(ids)).values_list(
        "id", "decision", "accepted_option__description"
    )
    return {
        str(i): NodeInfo(label=f"Feasibility study{f': {opt}' if opt else ''}", status=d)
        for i, d, opt in rows
    }


def _describe_quotations(org: Organization, ids: list[str]) -> dict[str, NodeInfo]:
    rows = Quotation.objects.filter(org=org, id__in=_uuids(ids)).values_list("id", "decision", "credits")
    return {str(i): NodeInfo(label=f"Quotation {c:,} credits", status=d) for i, d, c in rows}


def _order_studies(org: Organization, ids: list[str]) -> Iterable[Edge]:
    rows = FeasibilityStudy.objects.filter(org=org, order_id__in=_uuids(ids)).values_list("order_id", "id")
    return [Edge("order", str(o), "feasibility_study", str(s), "assessed_by") for o, s in rows]


def _study_order(org: Organization, ids: list[str]) -> Iterable[Edge]:
    rows = FeasibilityStudy.objects.filter(org=org, id__in=_uuids(ids)).values_list("order_id", "id")
    return [Edge("order", str(o), "feasibility_study", str(s), "assessed_by") for o, s in rows]


def _order_quotations(org: Organization, ids: list[str]) -> Iterable[Edge]:
    rows = Quotation.objects.filter(org=org, order_id__in=_uuids(ids)).values_list("order_id", "id")
    return [Edge("order", str(o), "quotation", str(q), "priced_by") for o, q in rows]


def _quotation_order(org: Organization, ids: list[str]) -> Iterable[Edge]:
    rows = Quotation.objects.filter(org=org, id__in=_uuids(ids)).values_list("order_id", "id")
    return [Edge("order", str(o), "quotation", str(q), "priced_by") for o, q in rows]


register_lineage_source(LineageSource("feasibility_study", _describe_studies, up=[_study_order]))
register_lineage_source(LineageSource("quotation", _describe_quotations, up=[_quotation_order]))
# The order already exists as a kind (orders registers it first): this adds its tasking children.
register_lineage_source(LineageSource("order", lambda org, ids: {}, down=[_order_studies, _order_quotations]))
