"""Sensors, product schemas, templates, feasibility studies, quotations (built in later issues)."""
