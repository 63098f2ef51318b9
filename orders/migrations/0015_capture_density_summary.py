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
"""

from django.db import migrations

LEVELS = "generate_series(4, 12)"

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

{UPSERT.format(rows="SELECT tile_point, host, collection, data_product_id, 1 AS s FROM orders_capture")};
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
