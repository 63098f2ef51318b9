"""The tasking flow's part of an order's lineage: its feasibility studies and quotations
(children of the order; a study's label says which option was accepted)."""

from __future__ import annotations

from geopera_web.accounts.models import Organization
from orders.lineage.graph import LineageSource, NodeInfo, _uuids, register_lineage_source, relation

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


_order_studies, _study_order = relation(
    FeasibilityStudy,
    org_field="org",
    parent="order",
    parent_field="order_id",
    child="feasibility_study",
    rel="assessed_by",
)
_order_quotations, _quotation_order = relation(
    Quotation, org_field="org", parent="order", parent_field="order_id", child="quotation", rel="priced_by"
)


register_lineage_source(LineageSource("feasibility_study", _describe_studies, up=[_study_order]))
register_lineage_source(LineageSource("quotation", _describe_quotations, up=[_quotation_order]))
# The order already exists as a kind (orders registers it first): this adds its tasking children.
register_lineage_source(LineageSource("order", lambda org, ids: {}, down=[_order_studies, _order_quotations]))
