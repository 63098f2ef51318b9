"""The density summary's UPDATE trigger counts only the rows whose cell keys changed.

Migration 0015's UPDATE branch regrouped every updated row (+1 new, -1 old at nine levels) even
when the statement touched no column the summary is keyed on: a bulk `cloud_cover` or quicklook
update of 200,000 captures grouped 3.6 million rows to write nothing (+1 and -1 cancel). A
statement trigger with transition tables may not name its columns (`UPDATE OF` is refused with
`REFERENCING`), nor read rows in `WHEN`, so the function itself pairs old and new rows by id and
keeps those whose `tile_point` (the footprint's), host, collection or data product differ. A row
whose id changed pairs with nothing and is counted out and in, like a delete and an insert.

The SQL is written out here (not shared): what this migration does must not change later.
"""

from django.db import migrations

from orders.catalog.density_sql import NEW, OLD, UPSERT

KEYS = ("tile_point", "host", "collection", "data_product_id")

# Old and new row of each updated capture whose summary key changed, each signed (-1 / +1).
CHANGED = f"""
    SELECT v.tile_point, v.host, v.collection, v.data_product_id, v.s
    FROM density_new n FULL JOIN density_old o ON o.id = n.id
    CROSS JOIN LATERAL (
        VALUES ({", ".join(f"n.{k}" for k in KEYS)}, 1, n.id),
               ({", ".join(f"o.{k}" for k in KEYS)}, -1, o.id)
    ) AS v({", ".join(KEYS)}, s, id)
    WHERE ({", ".join(f"n.{k}" for k in KEYS)}) IS DISTINCT FROM ({", ".join(f"o.{k}" for k in KEYS)})
      AND v.id IS NOT NULL
"""


def _apply(update_rows: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION orders_capture_density_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {UPSERT.format(rows=NEW)};
    ELSIF TG_OP = 'DELETE' THEN
        {UPSERT.format(rows=OLD)};
    ELSE
        {UPSERT.format(rows=update_rows)};
    END IF;
    RETURN NULL;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0017_watch_watchers"),
    ]

    operations = [migrations.RunSQL(_apply(CHANGED), _apply(NEW + " UNION ALL " + OLD))]
