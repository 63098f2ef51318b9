"""STAC Items built by PostgreSQL: the same Item `selectors.capture_feature` writes in Python (then
`stac_query.apply_fields`), as one jsonb expression per row, holding only the fields asked for.

A search page then travels as the Items' JSON text, joined into the response without Python ever
building or parsing a dict per Item (at 100 Items a page that was most of a request).

The Item is a tree of SQL expressions (`_item_tree`). The `fields` extension prunes the tree before
it becomes SQL, with `apply_fields`' rules. Paths the tree cannot answer exactly — a key of the
capture's free-form `properties` named on its own, or a path below a leaf such as
`geometry.type` — make `item_sql` return None, and the caller takes the Python path, so the answer
is the same either way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..pricing import credits_for_area_sql
from .stac_query import DEFAULT_FIELDS, IDENTITY_FIELDS, Fields

# The page statement aliases: c = orders_capture, p = orders_dataproduct, a.km2 = geodesic area.
GEOJSON_PRECISION = 6


@dataclass
class Leaf:
    sql: str
    params: list[Any] = field(default_factory=list)


@dataclass
class Obj:
    children: dict[str, Leaf | Obj]
    # Present only when this SQL condition holds (an asset without a URL is absent).
    when: str | None = None
    # A jsonb object merged under the children (the capture's free-form properties), and the keys
    # removed from the merged object.
    extras: str | None = None
    drop: list[str] = field(default_factory=list)
    # Built by selection (`include`): absent rather than empty when nothing under it exists.
    drop_if_empty: bool = False


class Unsupported(Exception):
    """A `fields` path the SQL tree cannot answer exactly (the Python path can)."""


def _text(value: str) -> Leaf:
    return Leaf("%s::text", [value])


def _absolute(column: str, base_url: str) -> Leaf:
    return Leaf(
        f"CASE WHEN %s <> '' AND starts_with({column}, '/') THEN %s || {column} ELSE {column} END",
        [base_url, base_url],
    )


def _asset(column: str, *, kind: str, fallback: str, title: str, base_url: str) -> Obj:
    return Obj(
        {
            "href": _absolute(column, base_url),
            "type": Leaf(
                f"CASE WHEN strpos({column}, '.svg') > 0 THEN 'image/svg+xml' ELSE '{fallback}' END"
            ),
            "roles": Leaf(f"jsonb_build_array('{kind}')"),
            "title": _text(title),
        },
        when=f"{column} <> ''",
    )


def _round(expr: str, digits: int) -> str:
    return f"trim_scale(round(({expr})::numeric, {digits}))"


def _item_tree(*, base_url: str, stac_root: str | None, extensions: list[str]) -> Obj:
    credits = credits_for_area_sql(rate="p.credits_per_km2", minimum="p.min_area_km2", area="a.km2")
    billed = "greatest(a.km2, coalesce(p.min_area_km2, 0)::float8)"
    utc = "(c.acquired_at AT TIME ZONE 'UTC')"
    datetime_sql = (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN extract(microseconds FROM c.acquired_at)::bigint"
        f" %% 1000000 <> 0 THEN to_char({utc}, '.US') ELSE '' END || 'Z'"
    )
    links = Leaf("'[]'::jsonb")
    if stac_root is not None:
        links = Leaf(
            "jsonb_build_array("
            "jsonb_build_object('rel', 'self', 'href', %s || '/collections/' || c.collection || '/items/' || c.scene_id, 'type', 'application/geo+json'),"
            "jsonb_build_object('rel', 'collection', 'href', %s || '/collections/' || c.collection, 'type', 'application/json'),"
            "jsonb_build_object('rel', 'parent', 'href', %s || '/collections/' || c.collection, 'type', 'application/json'),"
            "jsonb_build_object('rel', 'root', 'href', %s || '/', 'type', 'application/json'))",
            [stac_root] * 4,
        )
    return Obj(
        {
            "type": Leaf("'Feature'::text"),
            "stac_version": Leaf("'1.0.0'::text"),
            "stac_extensions": Leaf("%s::jsonb", [json.dumps(extensions)]),
            "id": Leaf("c.scene_id"),
            "collection": Leaf("c.collection"),
            "geometry": Leaf(f"ST_AsGeoJSON(c.footprint, {GEOJSON_PRECISION})::jsonb"),
            "bbox": Leaf(
                "jsonb_build_array("
                + ", ".join(
                    _round(f"{fn}(c.footprint)", GEOJSON_PRECISION)
                    for fn in ("ST_XMin", "ST_YMin", "ST_XMax", "ST_YMax")
                )
                + ")"
            ),
            "properties": Obj(
                {
                    "datetime": Leaf(datetime_sql),
                    "platform": Leaf("c.platform"),
                    "gsd": Leaf("c.gsd"),
                    "eo:cloud_cover": Leaf("c.cloud_cover"),
                    "view:off_nadir": Leaf("c.off_nadir"),
                    "view:sun_elevation": Leaf("c.sun_elevation"),
                    "host": Leaf("c.host"),
                    "price": Obj(
                        {
                            "product_id": Leaf("p.id"),
                            "product_name": Leaf("p.name"),
                            "credits_per_km2": Leaf("p.credits_per_km2"),
                            "min_area_km2": Leaf("p.min_area_km2"),
                            "area_km2": Leaf(_round("a.km2", 4)),
                            "billed_area_km2": Leaf(_round(billed, 4)),
                            "credits": Leaf(credits),
                            "aud": Leaf(_round(f"({credits})::numeric / 100", 2)),
                        }
                    ),
                },
                extras="coalesce(c.properties, '{}'::jsonb)",
            ),
            "assets": Obj(
                {
                    "thumbnail": _asset(
                        "c.thumbnail_url",
                        kind="thumbnail",
                        fallback="image/png",
                        title="Thumbnail",
                        base_url=base_url,
                    ),
                    "overview": _asset(
                        "c.quicklook_url",
                        kind="overview",
                        fallback="image/jpeg",
                        title="Quicklook",
                        base_url=base_url,
                    ),
                }
            ),
            "links": links,
        }
    )


# --- the fields extension on the tree -----------------------------------------------------------


def _select(node: Obj, paths: list[list[str]]) -> Obj:
    """Only what `paths` name (a whole subtree at each path's end); missing names select nothing."""
    whole = [p for p in paths if not p]
    if whole:
        return node
    out: dict[str, Leaf | Obj] = {}
    for key in node.children:
        below = [p[1:] for p in paths if p[0] == key]
        if not below:
            continue
        child = node.children[key]
        if isinstance(child, Leaf):
            if any(below_path for below_path in below) and not any(not b for b in below):
                raise Unsupported(key)  # a path below a leaf (e.g. geometry.type)
            out[key] = child
        else:
            out[key] = _select(child, below)
    if node.extras is not None and any(p[0] not in node.children for p in paths):
        raise Unsupported(paths[0][0])  # a free-form property on its own
    return Obj(out, when=node.when, drop_if_empty=True)


def _exclude(node: Obj, path: list[str]) -> None:
    key, rest = path[0], path[1:]
    child = node.children.get(key)
    if child is None:
        if node.extras is not None:
            if rest:
                raise Unsupported(key)
            node.drop.append(key)
        return
    if not rest:
        del node.children[key]
        if node.extras is not None:
            node.drop.append(key)  # the free-form properties may hold the same key
        return
    if isinstance(child, Leaf):
        raise Unsupported(key)
    _exclude(child, rest)


def _copy(node: Obj) -> Obj:
    return Obj(
        {k: _copy(v) if isinstance(v, Obj) else v for k, v in node.children.items()},
        when=node.when,
        extras=node.extras,
        drop=list(node.drop),
        drop_if_empty=node.drop_if_empty,
    )


def _apply(tree: Obj, fields: Fields | None) -> Obj:
    if fields is None:
        return tree
    include = fields.include or ()
    if fields.include is None:
        out = _copy(tree)
    else:
        names = (*IDENTITY_FIELDS, *include) if include else DEFAULT_FIELDS
        out = _copy(_select(tree, [n.split(".") for n in names]))
        out.drop_if_empty = False  # the Item itself
    for name in fields.exclude:
        if any(inc == name or inc.startswith(name + ".") for inc in include):
            continue
        _exclude(out, name.split("."))
    return out


# --- rendering ----------------------------------------------------------------------------------


def _render(node: Obj, params: list[Any]) -> str:
    plain: list[str] = []
    plain_params: list[Any] = []
    conditional: list[str] = []
    conditional_params: list[Any] = []
    for key, child in node.children.items():
        if isinstance(child, Leaf):
            plain.append(f"'{key}', {child.sql}")
            plain_params.extend(child.params)
            continue
        child_params: list[Any] = []
        sql = _render(child, child_params)
        if child.when is None and not child.drop_if_empty:
            plain.append(f"'{key}', {sql}")
            plain_params.extend(child_params)
            continue
        conds = [child.when] if child.when else []
        if child.drop_if_empty:
            conds.append(f"{sql} <> '{{}}'::jsonb")
            conditional_params.extend(child_params)
        conditional.append(
            f"CASE WHEN {' AND '.join(conds)} THEN jsonb_build_object('{key}', {sql}) ELSE '{{}}'::jsonb END"
        )
        conditional_params.extend(child_params)
    # (jsonb_build_object takes at most 100 arguments; an Item's objects have far fewer.)
    sql = " || ".join([f"jsonb_build_object({', '.join(plain)})", *conditional])
    params.extend(plain_params + conditional_params)
    if node.extras is not None:
        sql = f"{node.extras} || {sql}"
        if node.drop:
            sql = f"({sql}) - %s::text[]"
            params.append(list(node.drop))
    return f"({sql})"


def item_sql(
    *, fields: Fields | None, base_url: str, stac_root: str | None, extensions: list[str]
) -> tuple[str, list[Any]] | None:
    """(jsonb expression of the Item over c / p / a.km2, its parameters), or None when `fields`
    names a path only the Python path answers."""
    rendered = _item_sql(fields, base_url, stac_root, tuple(extensions))
    if rendered is None:
        return None
    # (arrays are kept as tuples in the cache, handed back as lists: psycopg adapts lists)
    return rendered[0], [list(p) if isinstance(p, tuple) else p for p in rendered[1]]


@lru_cache(maxsize=256)  # a few field sets, hosts and roots in practice: built once each
def _item_sql(
    fields: Fields | None, base_url: str, stac_root: str | None, extensions: tuple[str, ...]
) -> tuple[str, tuple[Any, ...]] | None:
    tree = _item_tree(base_url=base_url, stac_root=stac_root, extensions=list(extensions))
    try:
        pruned = _apply(tree, fields)
    except Unsupported:
        return None
    params: list[Any] = []
    sql = _render(pruned, params)
    return sql, tuple(tuple(p) if isinstance(p, list) else p for p in params)
