"""Re-drive work whose next step never ran.

Services enqueue their follow-up tasks on commit; if the broker is unreachable at that moment the
row is committed but the message is lost (`enqueue` logs it). Every `SWEEP_INTERVAL_SECONDS` the
beat runs `geopera_web.ops.tasks.run_sweeps`, which calls every registered sweep; a sweep finds
rows waiting for a step for longer than `SWEEP_GRACE_SECONDS` and enqueues that step again. The
steps are idempotent, so a sweep that races the original task changes nothing.

Domain apps register their sweeps in `AppConfig.ready()`: `register_sweep("name", function)`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import Task

logger = logging.getLogger("geopera.sweeper")

_SWEEPS: dict[str, Callable[[], int]] = {}


def register_sweep(name: str, sweep: Callable[[], int]) -> None:
    """`sweep()` re-enqueues what it finds and returns how many it re-drove."""
    _SWEEPS[name] = sweep


def sweeps_run() -> dict[str, int]:
    done: dict[str, int] = {}
    for name, sweep in _SWEEPS.items():
        try:
            done[name] = sweep()
        except Exception:  # one failing sweep must not stop the others
            logger.exception("sweep %s failed", name)
            done[name] = -1
        if done[name] > 0:
            logger.warning("sweep %s re-drove %d item(s) whose next step never ran", name, done[name])
    return done


def enqueue(task: Task, *args: object) -> bool:
    """`task.delay(*args)` that never raises: called on commit, after the change is recorded, a
    broker outage must not turn the answer into a 500. A lost message is re-driven by a sweep."""
    try:
        task.delay(*args)
    except Exception:  # any broker error, logged with its traceback
        logger.exception("could not queue %s%r; a sweep will re-drive it", task.name, args)
        return False
    return True
