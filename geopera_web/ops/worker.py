"""A Celery consumer bootstep that records a `worker` heartbeat every `HEARTBEAT_INTERVAL_SECONDS`
while the worker is connected to the broker (the timer runs in the consumer's event loop, so a
worker that lost its broker stops beating and `/readyz` says so)."""

from __future__ import annotations

from typing import Any

from celery import bootsteps


class HeartbeatStep(bootsteps.StartStopStep):
    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref = None

    def start(self, c: Any) -> None:
        from django.conf import settings

        self.node = c.hostname
        self.beat()
        self.tref = c.timer.call_repeatedly(settings.HEARTBEAT_INTERVAL_SECONDS, self.beat)

    def beat(self) -> None:
        from .heartbeats import heartbeat_record

        heartbeat_record(component="worker", node=self.node)

    def stop(self, c: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    shutdown = stop
