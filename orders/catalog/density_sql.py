"""The SQL of the map's density summary (`orders_capturedensity`), shared by migration 0015 (its
triggers and first backfill) and `manage.py rebuild_tile_density` (a rebuild after drift).

Migration 0015 imports these strings: changing them changes what that migration does on a fresh
database. Change the summary with a new migration instead.
"""

from __future__ import annotations

from django.db import connection, transaction

LEVELS = "generate_series(4, 12)"

# One grouped upsert of signed counts (`s` = +1 / -1) over the rows of `{rows}`, in key order
# (two writers lock cells in the same order).
UPSERT = f"""
    INSERT INTO orders_capturedensity AS d (level, cx, cy, host, collection, data_product_id, n)
    SELECT l, orders_tile_cell(ST_X(c.tile_point), 1::bigint << l),
           orders_tile_cell(-ST_Y(c.tile_point), 1::bigint << l),
           c.host, c.collection, c.data_product_id, sum(c.s)
    FROM ({{rows}}) c CROSS JOIN {LEVELS} AS l
    WHERE c.tile_point IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(c.s) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (level, cx, cy, host, collection, data_product_id) DO UPDATE SET n = d.n + EXCLUDED.n
"""
NEW = "SELECT tile_point, host, collection, data_product_id, 1 AS s FROM density_new"
OLD = "SELECT tile_point, host, collection, data_product_id, -1 AS s FROM density_old"

# Every capture counted afresh (into an empty table).
BACKFILL = UPSERT.format(
    rows="SELECT tile_point, host, collection, data_product_id, 1 AS s FROM orders_capture"
)


def density_rebuild() -> int:
    """Recount the summary from the captures in one transaction: the captures are locked against
    writes (SHARE: readers go on) and the summary exclusively, emptied and backfilled, and the
    catalog version bumped. Returns the number of cells written."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("LOCK TABLE orders_capture IN SHARE MODE")
        cur.execute("LOCK TABLE orders_capturedensity IN ACCESS EXCLUSIVE MODE")
        cur.execute("TRUNCATE orders_capturedensity")
        cur.execute(BACKFILL)
        cells = cur.rowcount
        # Tiles drawn from the drifted counts carry the old version in their ETag: a new version
        # makes every cached tile stale (the one write of this table outside its trigger).
        cur.execute("UPDATE orders_catalogversion SET version = version + 1 WHERE id = 1")
    with connection.cursor() as cur:
        cur.execute("ANALYZE orders_capturedensity")
    return cells
