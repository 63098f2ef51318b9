"""GeoDjango's PostGIS backend, plus rollback hooks (see `geopera_web.db.hooks`).

Django discards a transaction's commit hooks in three places: `rollback()`, `savepoint_rollback()`
(the hooks registered while that savepoint was open) and `close()` (a connection lost inside a
transaction, which the server rolls back). Each override notes the `RollbackHook`s about to be
discarded, lets Django do its work, then runs their undo.
"""

from __future__ import annotations

from django.contrib.gis.db.backends.postgis.base import DatabaseWrapper as PostGISDatabaseWrapper

from ..hooks import discarded_hooks


class DatabaseWrapper(PostGISDatabaseWrapper):
    supports_rollback_hooks = True

    def rollback(self) -> None:
        hooks = discarded_hooks(self.run_on_commit)
        try:
            super().rollback()
        finally:
            # Even when ROLLBACK itself failed, the connection is then dropped and the server
            # rolls the transaction back: the undo is due either way.
            for hook in hooks:
                hook.run_undo()

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
            for hook in hooks:
                hook.run_undo()
