"""Undo an external side effect when the transaction that caused it rolls back.

Some effects cannot wait for the commit: a card authorization hold must exist before the order
that depends on it is written, yet a failure after it (a bad field, a crash in a later step)
rolls the Charge row back and would leave the hold on the customer's card. `on_rollback(undo)`
registers `undo` with the current transaction: it runs right after that transaction — or the
savepoint that was open when it was registered — is rolled back (or its connection is lost
mid-transaction, which the server rolls back too), and never when it commits.

It rides on Django's own commit-hook list (`connection.run_on_commit`), which already knows which
savepoints a hook belongs to: Django drops a hook from that list exactly when its work is rolled
back, and our backend (`geopera_web.db.postgis`) runs the undo of every hook it sees dropped.
On commit the hook is called and does nothing. An undo that fails is logged, never raised: it
runs while an exception is already on its way up and must not replace it.

A COMMIT that fails is not always a rollback: when the connection is lost during it, the COMMIT
may have landed before the answer was lost, and undoing then would void the hold of a Charge row
that exists (the money would be lost). So each hook remembers its transaction's id
(`pg_current_xact_id()`), and after a failed COMMIT the backend asks the server, on a fresh
connection, what became of that transaction (`pg_xact_status`): the undo runs only when it was
aborted. Committed: the effect stands. Unknown (the server cannot be reached, or the transaction
stays in progress): nothing is undone and an error is logged for the payments desk to reconcile
— a hold left live expires on its own; a voided hold of a committed charge is money gone.

A process that dies between the effect and the rollback runs nothing; effects that need that
guarantee too need a durable record (an outbox) as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, transaction

logger = logging.getLogger(__name__)


class RollbackHook:
    """A commit hook that does nothing when committed and runs `undo` once when discarded."""

    def __init__(self, undo: Callable[[], object], description: str = "") -> None:
        self.undo = undo
        self.description = description or getattr(undo, "__qualname__", repr(undo))
        self.done = False
        # The transaction's id (xid8, as text) and server process, read when registered: what
        # a failed COMMIT's outcome is asked by (None if they could not be read).
        self.xact_id: str | None = None
        self.backend_pid: int | None = None
        # Django's logging of a failing hook reads this.
        self.__qualname__ = f"on_rollback({self.description})"

    def __call__(self) -> None:  # committed: the effect stands
        self.done = True

    def run_undo(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            self.undo()
        except Exception:  # logged with its traceback; the original error keeps propagating
            logger.exception("Undoing %s after a rollback failed.", self.description)

    def keep(self, why: str) -> None:
        """The transaction committed, or may have: the effect stands (and says so when unsure)."""
        if self.done:
            return
        self.done = True
        if why != "committed":
            logger.error(
                "Not undoing %s: its transaction's COMMIT failed and its outcome is %s. Reconcile "
                "by hand: undo it only if no row of that transaction exists.",
                self.description,
                why,
            )


def on_rollback(undo: Callable[[], object], *, description: str = "", using: str | None = None) -> None:
    """Run `undo` if the current transaction (or the savepoint open now) rolls back.

    Outside a transaction (autocommit) the effect's context is already durable: nothing to register.
    """
    connection = transaction.get_connection(using or DEFAULT_DB_ALIAS)
    if not getattr(connection, "supports_rollback_hooks", False):
        raise ImproperlyConfigured(
            "on_rollback() needs the geopera_web.db.postgis database backend (DATABASES ENGINE)."
        )
    if not connection.in_atomic_block:
        return
    hook = RollbackHook(undo, description)
    connection.on_commit(hook)  # first: should reading the id fail, the rollback still undoes
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text, pg_backend_pid()")
        hook.xact_id, hook.backend_pid = cursor.fetchone()


def discarded_hooks(entries: list, *, savepoint: str | None = None) -> list[RollbackHook]:
    """The rollback hooks among commit-hook entries that a rollback (of `savepoint`, or of the
    whole transaction when None) discards."""
    return [
        func
        for sids, func, _robust in entries
        if isinstance(func, RollbackHook) and (savepoint is None or savepoint in sids)
    ]
