"""GeoDjango's PostGIS backend, plus rollback hooks (see `geopera_web.db.hooks`).

Django discards a transaction's commit hooks in three places: `rollback()`, `savepoint_rollback()`
(the hooks registered while that savepoint was open) and `close()` (a connection lost inside a
transaction, which the server rolls back). Each override notes the `RollbackHook`s about to be
discarded, lets Django do its work, then runs their undo.

Except after a COMMIT that failed (`_commit` raised): the COMMIT may have landed before the
connection was lost, so the hooks are settled by what the server says became of their transaction
(`settle_after_failed_commit`), never undone blindly.
"""

from __future__ import annotations

import time

import psycopg
from django.contrib.gis.db.backends.postgis.base import DatabaseWrapper as PostGISDatabaseWrapper

from ..hooks import RollbackHook, discarded_hooks

# How long a failed COMMIT's transaction may stay "in progress" (its server process has not yet
# finished it, or not yet noticed its client is gone) before its process is ended to settle it.
OUTCOME_WAIT_SECONDS = 2.0
OUTCOME_POLL_SECONDS = 0.05


class DatabaseWrapper(PostGISDatabaseWrapper):
    supports_rollback_hooks = True
    commit_failed = False
    # Has a cursor been had since the request began (`geopera_web.db.availability`)? Then a
    # later refused connect does not mean the request changed nothing.
    used_since_request_start = False

    def _cursor(self, name=None):
        cursor = super()._cursor(name)  # connects first when needed (a refusal raises here)
        self.used_since_request_start = True
        return cursor

    def _commit(self):
        try:
            return super()._commit()
        except BaseException:
            # Whatever the error, its hooks are settled by the transaction's real outcome.
            self.commit_failed = True
            raise

    def rollback(self) -> None:
        hooks = discarded_hooks(self.run_on_commit)
        try:
            super().rollback()
        finally:
            # Even when ROLLBACK itself failed, the connection is then dropped and the server
            # rolls the transaction back: the undo is due either way (unless a COMMIT was sent).
            self._settle(hooks)

    def savepoint_rollback(self, sid: str) -> None:
        hooks = discarded_hooks(self.run_on_commit, savepoint=sid)
        super().savepoint_rollback(sid)
        # Only now: had rolling back to the savepoint failed, the outer transaction is marked for
        # rollback and the hooks are still listed, so the outer rollback undoes them.
        for hook in hooks:
            hook.run_undo()

    def close(self) -> None:
        hooks = discarded_hooks(self.run_on_commit) if self.in_atomic_block or self.run_on_commit else []
        try:
            super().close()
        finally:
            self._settle(hooks)

    def _settle(self, hooks: list[RollbackHook]) -> None:
        commit_failed, self.commit_failed = self.commit_failed, False
        pending = [hook for hook in hooks if not hook.done]
        if not pending:
            return
        if commit_failed:
            settle_after_failed_commit(self, pending)
        else:  # no COMMIT was sent: the transaction is rolled back for certain
            for hook in pending:
                hook.run_undo()


def settle_after_failed_commit(wrapper: DatabaseWrapper, hooks: list[RollbackHook]) -> None:
    """Undo the hooks of a transaction whose COMMIT failed only if the server says it aborted."""
    outcomes: dict[str | None, str] = {}
    for hook in hooks:
        if hook.xact_id not in outcomes:
            outcomes[hook.xact_id] = transaction_outcome(wrapper, hook.xact_id, hook.backend_pid)
        outcome = outcomes[hook.xact_id]
        if outcome == "aborted":
            hook.run_undo()
        else:
            hook.keep(outcome)


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
