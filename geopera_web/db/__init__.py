"""Database plumbing of the platform: the PostGIS backend with rollback hooks (`on_rollback`)."""

from __future__ import annotations

from .hooks import on_rollback

__all__ = ["on_rollback"]
