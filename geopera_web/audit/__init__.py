"""The audit trail: who did what to which row, in which org, under which request — written in the
same transaction as the change, append-only (no update, no delete; read-only in the admin)."""
