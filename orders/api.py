"""Operations of the orders app (catalog.*, orders.*), registered with the platform registry."""

from __future__ import annotations

from . import api_catalog  # noqa: E402,F401  (catalog.search, catalog.search_stream)
