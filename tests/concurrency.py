"""Run a function from several threads at once, each with its own database connection.

Real concurrency against PostgreSQL (select_for_update inside a TestCase transaction proves
nothing): use from tests marked `django_db(transaction=True)`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def run_concurrently(fn: Callable[[], T], *, threads: int) -> list[T | BaseException]:
    """Start `threads` threads that call `fn` at the same instant; return each result or exception."""
    barrier = threading.Barrier(threads)
    results: list[T | BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            outcome: T | BaseException = fn()
        except BaseException as exc:  # noqa: BLE001 - the caller asserts on what happened
            outcome = exc
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results
