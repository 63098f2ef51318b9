"""Writing and reading heartbeats (`Heartbeat` rows)."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from .models import Heartbeat

logger = logging.getLogger(__name__)


def heartbeat_record(*, component: str, node: str) -> bool:
    """Record that `node` of `component` is alive now. Never raises (a heartbeat must not take its
    process down); returns whether it was written."""
    try:
        close_old_connections()
        Heartbeat.objects.update_or_create(
            component=component, node=node, defaults={"pid": os.getpid(), "seen_at": timezone.now()}
        )
    except Exception as exc:  # noqa: BLE001 - the database being away is reported by /readyz
        logger.warning("heartbeat of %s %s not written: %s", component, node, exc.__class__.__name__)
        return False
    return True


def heartbeat_latest(*, component: str) -> datetime | None:
    row = Heartbeat.objects.filter(component=component).order_by("-seen_at").values("seen_at").first()
    return row["seen_at"] if row else None


def heartbeat_max_age() -> timedelta:
    return timedelta(seconds=settings.READY_HEARTBEAT_MAX_AGE_SECONDS)
