"""What the orders app contributes to the platform: dashboard panels, demo data."""

from __future__ import annotations
