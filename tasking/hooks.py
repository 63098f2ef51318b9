"""What the tasking app contributes to the platform: navigation badges, dashboard panels, demo data."""

from __future__ import annotations
