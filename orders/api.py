"""Operations of the orders app (catalog.*, orders.*), registered with the platform registry."""

from __future__ import annotations
