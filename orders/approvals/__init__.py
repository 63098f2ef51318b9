"""Spend policies and approvals: per-org/per-workspace approval thresholds, monthly workspace
budgets enforced in the spending transaction, and spend approvals (the inbox's third decision kind)."""
