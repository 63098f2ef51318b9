"""Operations of the tasking app (orders.tasking.*, orders.get_schema, ...)."""

from __future__ import annotations
