"""The map's density summary: captures counted per grid cell, kept by statement triggers.

A crowded low-zoom tile draws a count grid (orders/catalog/tiles.py). Counting every matching point
in a z4 tile costs ≈1 s at 1,000,000 captures; this table holds those counts ready for the grid
levels 4–12 (the cells of tiles z0–z8 at the default 16 × 16 grid: level = zoom + 4), per host,
collection and data product, so a tile without other filters sums at most 16 × 16 rows per
collection instead.

- `orders_tile_cell(v, cells)`: the one definition of a point's cell (column from x, row from -y) on
  a grid of `cells` per world side. The tile statement uses it for its live cells and its footprints'
  "home" tile too, so both paths put a point in the same cell.
- Statement-level triggers with transition tables keep the counts: one grouped upsert per statement
  (a 200,000-row COPY batch is one), in key order (two writers lock cells in the same order).
  Nothing else writes the table. A TRUNCATE of the captures empties it.
- Counts may reach 0 (deletes); readers skip those cells.
- The SQL lives in `orders.catalog.density_sql`, shared with `manage.py rebuild_tile_density`.
"""

from django.db import migrations

from orders.catalog.density_sql import BACKFILL, NEW, OLD, UPSERT

FORWARD = f"""
CREATE FUNCTION orders_tile_cell(v float8, cells bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN LEAST(GREATEST(floor((v + pi() * 6378137.0) / (2 * (pi() * 6378137.0) / cells)), 0),
                 cells - 1)::bigint;

CREATE TABLE orders_capturedensity (
    level smallint NOT NULL,
    cx integer NOT NULL,
    cy integer NOT NULL,
    host varchar(100) NOT NULL,
    collection varchar(100) NOT NULL,
    data_product_id varchar(80) NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (level, cx, cy, host, collection, data_product_id)
);

CREATE FUNCTION orders_capture_density_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {UPSERT.format(rows=NEW)};
    ELSIF TG_OP = 'DELETE' THEN
        {UPSERT.format(rows=OLD)};
    ELSE
        {UPSERT.format(rows=NEW + " UNION ALL " + OLD)};
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION orders_capture_density_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE orders_capturedensity;
    RETURN NULL;
END $$;

CREATE TRIGGER orders_capture_density_insert AFTER INSERT ON orders_capture
    REFERENCING NEW TABLE AS density_new
    FOR EACH STATEMENT EXECUTE FUNCTION orders_capture_density_apply();
CREATE TRIGGER orders_capture_density_update AFTER UPDATE ON orders_capture
    REFERENCING NEW TABLE AS density_new OLD TABLE AS density_old
    FOR EACH STATEMENT EXECUTE FUNCTION orders_capture_density_apply();
CREATE TRIGGER orders_capture_density_delete AFTER DELETE ON orders_capture
    REFERENCING OLD TABLE AS density_old
    FOR EACH STATEMENT EXECUTE FUNCTION orders_capture_density_apply();
CREATE TRIGGER orders_capture_density_truncate AFTER TRUNCATE ON orders_capture
    FOR EACH STATEMENT EXECUTE FUNCTION orders_capture_density_truncate();

{BACKFILL};
ANALYZE orders_capturedensity;
"""

BACKWARD = """
DROP TRIGGER orders_capture_density_truncate ON orders_capture;
DROP TRIGGER orders_capture_density_delete ON orders_capture;
DROP TRIGGER orders_capture_density_update ON orders_capture;
DROP TRIGGER orders_capture_density_insert ON orders_capture;
DROP FUNCTION orders_capture_density_truncate();
DROP FUNCTION orders_capture_density_apply();
DROP TABLE orders_capturedensity;
DROP FUNCTION orders_tile_cell(float8, bigint);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0014_series_event_kinds"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
