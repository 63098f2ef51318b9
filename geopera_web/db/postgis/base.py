"""GeoDjango's PostGIS backend, plus rollback hooks (see `geopera_web.db.hooks`).

Django discards a transaction's commit hooks in three places: `rollback()`, `savepoint_rollback()`
(the hooks registered while that savepoint was open) and `close()` (a connection lost inside a
transaction, which the server rolls back). Each override notes the `RollbackHook`s about to be
discarded, lets Django do its work, then runs their undo.

Except after a COMMIT that failed (`_commit` raised): the COMMIT may have landed before the
connection was lost, so the hooks are settled by what the server says became of their transaction
(`settle_after_failed_commit`), never undone blindly — and when it did commit, its commit
callbacks run after all (a card capture marked `settle_in_doubt` is not lost with the answer).
"""

from __future__ import annotations

import logging
import time

import psycopg
from django.contrib.gis.db.backends.postgis.base import DatabaseWrapper as PostGISDatabaseWrapper

from ..hooks import RollbackHook, discarded_hooks

logger = logging.getLogger("geopera_web.db.hooks")

# How long a failed COMMIT's transaction may stay "in progress" (its server process has not yet
# finished it, or not yet noticed its client is gone) before its process is ended to settle it.
OUTCOME_WAIT_SECONDS = 2.0
OUTCOME_POLL_SECONDS = 0.05


class DatabaseWrapper(PostGISDatabaseWrapper):
    supports_rollback_hooks = True
    # The commit callbacks of the transaction whose COMMIT failed (only they are in doubt).
    commit_failed: list | None = None
    # The (transaction id, server process) of the COMMIT under way, when something must be settled
    # by its outcome should the COMMIT fail.
    commit_xact: tuple[str, int] | None = None
    # Has a cursor been had since the request began (`geopera_web.db.availability`)? Then a
    # later refused connect does not mean the request changed nothing.
    used_since_request_start = False

    def _cursor(self, name=None):
        cursor = super()._cursor(name)  # connects first when needed (a refusal raises here)
        self.used_since_request_start = True
        return cursor

    def _commit(self):
        self.commit_xact = self._xact_to_settle_by()
        try:
            return super()._commit()
        except BaseException:
            # Whatever the error, its hooks are settled by the transaction's real outcome.
            self.commit_failed = [func for _sids, func, _robust in self.run_on_commit]
            raise

    def _xact_to_settle_by(self) -> tuple[str, int] | None:
        """A rollback hook's transaction id; else, when a commit callback must not be lost with a
        COMMIT whose answer was (`settle_in_doubt`, e.g. a card capture), read it now."""
        callbacks = [func for _sids, func, _robust in self.run_on_commit]
        for func in callbacks:
            if isinstance(func, RollbackHook) and func.xact_id is not None:
                return func.xact_id, func.backend_pid
        if self.connection is None or not any(getattr(f, "settle_in_doubt", False) for f in callbacks):
            return None
        try:
            with self.connection.cursor() as cursor:  # the driver's own: no Django bookkeeping
                cursor.execute("SELECT pg_current_xact_id_if_assigned()::text, pg_backend_pid()")
                xact_id, pid = cursor.fetchone()
        except Exception:  # noqa: BLE001 - the COMMIT right after fails the same way and says why
            return None
        return (xact_id, pid) if xact_id is not None else None

    def rollback(self) -> None:
        entries = list(self.run_on_commit)
        try:
            super().rollback()
        finally:
            # Even when ROLLBACK itself failed, the connection is then dropped and the server
            # rolls the transaction back: the undo is due either way (unless a COMMIT was sent).
            self._settle(entries)

    def savepoint_rollback(self, sid: str) -> None:
        hooks = discarded_hooks(self.run_on_commit, savepoint=sid)
        super().savepoint_rollback(sid)
        # Only now: had rolling back to the savepoint failed, the outer transaction is marked for
        # rollback and the hooks are still listed, so the outer rollback undoes them.
        for hook in hooks:
            hook.run_undo()

    def close(self) -> None:
        entries = list(self.run_on_commit) if self.in_atomic_block or self.run_on_commit else []
        try:
            super().close()
        finally:
            self._settle(entries)

    def _settle(self, entries: list) -> None:
        in_doubt = {id(func) for func in self.commit_failed or []}
        self.commit_failed = None
        xact, self.commit_xact = self.commit_xact, None
        undos = [hook for hook in discarded_hooks(entries) if not hook.done]
        # No COMMIT was sent for these: their transaction is rolled back for certain.
        for hook in undos:
            if id(hook) not in in_doubt:
                hook.run_undo()
        doubtful = [hook for hook in undos if id(hook) in in_doubt]
        callbacks = [
            func
            for _sids, func, _robust in entries
            if id(func) in in_doubt and not isinstance(func, RollbackHook)
        ]
        if doubtful or any(getattr(f, "settle_in_doubt", False) for f in callbacks):
            settle_after_failed_commit(self, xact, doubtful, callbacks)


def settle_after_failed_commit(
    wrapper: DatabaseWrapper, xact: tuple[str, int] | None, undos: list[RollbackHook], callbacks: list
) -> None:
    """A transaction whose COMMIT failed, settled by what the server says became of it: aborted,
    its rollback hooks undo; committed, they stand and its commit callbacks (which Django drops
    with a failed COMMIT) run after all, each on its own (a failure is logged); unknown, nothing
    runs and what is left undone is logged for reconciliation."""
    outcome = transaction_outcome(wrapper, *xact) if xact is not None else "unknown"
    if outcome == "aborted":
        for hook in undos:
            hook.run_undo()
        return
    for hook in undos:
        hook.keep(outcome)
    for func in callbacks:
        if outcome == "committed":
            try:
                func()
            except Exception:  # logged with its traceback; the COMMIT's own error propagates
                logger.exception("A commit callback run after the COMMIT's lost answer failed: %s", func)
        elif getattr(func, "settle_in_doubt", False):
            logger.error(
                "Not running %s: its transaction's COMMIT failed and its outcome is unknown. "
                "Reconcile by hand: run it only if the transaction's rows exist.",
                getattr(func, "description", func),
            )


def transaction_outcome(wrapper: DatabaseWrapper, xact_id: str | None, backend_pid: int | None) -> str:
    """ "committed", "aborted" or "unknown", asked on a fresh connection (the transaction's own may
    be gone). A transaction still in progress after OUTCOME_WAIT_SECONDS has its server process
    ended (only if that process still runs this very transaction), which settles it either way:
    a COMMIT under way completes, an open transaction aborts."""
    if xact_id is None:
        return "unknown"
    params = wrapper.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    params.setdefault("connect_timeout", 5)
    try:
        with psycopg.connect(**params, autocommit=True) as conn:
            deadline = time.monotonic() + OUTCOME_WAIT_SECONDS
            ended = False
            while True:
                row = conn.execute("SELECT pg_xact_status(%s::xid8)", [xact_id]).fetchone()
                status = row[0] if row else None
                if status in ("committed", "aborted"):
                    return status
                if status != "in progress":
                    return "unknown"  # too old for the server to remember
                if time.monotonic() >= deadline:
                    if ended or backend_pid is None:
                        return "unknown"
                    conn.execute(
                        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                        "WHERE pid = %s AND backend_xid::text = %s",
                        [backend_pid, str(int(xact_id) & 0xFFFFFFFF)],
                    )
                    ended, deadline = True, time.monotonic() + OUTCOME_WAIT_SECONDS
                time.sleep(OUTCOME_POLL_SECONDS)
    except Exception:  # noqa: BLE001 - runs while an error propagates: never raise, say unknown
        return "unknown"
