from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def run_sweeps() -> dict[str, int]:
    """Periodic (beat, SWEEP_INTERVAL_SECONDS): re-drive work whose next step never ran."""
    from .sweeper import sweeps_run

    return sweeps_run()
