"""Provenance: the lineage of an order (workspace → order → AOI groups, decisions, deliveries →
delivered captures) and back from a capture. `graph.py` walks it; apps add node kinds with
`register_lineage_source` (tasking adds feasibility studies and quotations)."""
