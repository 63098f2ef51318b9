"""The STAC API search extensions on the catalog: queryables, `filter` (CQL2 text and JSON),
`query`, `sortby` and `fields`.

CQL2 is parsed by pygeofilter (a maintained parser for both encodings) into its AST; this module
walks that AST and builds Django lookups on known columns or JSON keys only. User input never
becomes SQL text: property names are looked up in QUERYABLES (anything else is a 400), literals are
type-checked against the property and passed as query parameters.

Everything a client may send that we do not implement (temporal functions, arithmetic, functions
other than CASEI, a CRS other than WGS 84, ...) is a 400 problem that says so, never ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.conf import settings
from django.contrib.gis.gdal.error import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, Polygon
from django.db.models import Expression, F, FloatField, Q
from django.db.models.fields.json import HasAnyKeys, KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Lower
from django.db.models.lookups import (
    Contains,
    EndsWith,
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
    Regex,
    StartsWith,
)
from lark.exceptions import LarkError
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text

from geopera_web import jsonbounds
from geopera_web.errors import InvalidInput

STRING, NUMBER, DATETIME, GEOMETRY, ARRAY = "string", "number", "datetime", "geometry", "array"
# Any other item property (queryables allow additional properties): compared as JSON.
ANY = "any"
_PROPERTY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_:\-]{0,63}$")

# The longest filter parsed (characters of text / JSON; a CQL2 expression is short) and the operands
# of one IN list / query `in` are settings: STAC_FILTER_MAX_CHARS, STAC_FILTER_MAX_IN_VALUES.


@dataclass(frozen=True)
class Queryable:
    name: str
    kind: str
    title: str
    column: str | None = None  # a Capture field
    json_key: str | None = None  # a key of Capture.properties
    sortable: bool = False
    schema_extra: tuple[tuple[str, Any], ...] = ()

    def expression(self, literal: Any = None) -> Expression:
        """The SQL expression to compare; for an undeclared property, text when compared with a
        string and JSON (jsonb ordering, never a failing cast) otherwise."""
        if self.column is not None:
            return F(self.column)
        if self.kind == ARRAY or (self.kind == ANY and not isinstance(literal, str)):
            return KeyTransform(self.json_key, "properties")
        text = KeyTextTransform(self.json_key, "properties")
        return Cast(text, FloatField()) if self.kind == NUMBER else text

    def schema(self) -> dict[str, Any]:
        base: dict[str, Any] = {"title": self.title}
        if self.kind == STRING:
            base["type"] = "string"
        elif self.kind == NUMBER:
            base["type"] = "number"
        elif self.kind == DATETIME:
            base.update(type="string", format="date-time")
        elif self.kind == ARRAY:
            base.update(type="array", items={"type": "string"})
        else:
            base["$ref"] = "https://geojson.org/schema/Geometry.json"
        base.update(dict(self.schema_extra))
        return base


QUERYABLES: dict[str, Queryable] = {
    q.name: q
    for q in (
        Queryable("id", STRING, "Item ID", column="scene_id", sortable=True),
        Queryable("collection", STRING, "Collection", column="collection", sortable=True),
        Queryable("datetime", DATETIME, "Acquired at", column="acquired_at", sortable=True),
        Queryable("geometry", GEOMETRY, "Footprint", column="footprint"),
        Queryable("platform", STRING, "Platform", column="platform", sortable=True),
        Queryable("constellation", STRING, "Constellation", json_key="constellation"),
        Queryable("instruments", ARRAY, "Instruments", json_key="instruments"),
        Queryable(
            "sat:orbit_state",
            STRING,
            "Orbit state",
            json_key="sat:orbit_state",
            schema_extra=(("enum", ["ascending", "descending"]),),
        ),
        Queryable(
            "eo:cloud_cover",
            NUMBER,
            "Cloud cover (%)",
            column="cloud_cover",
            sortable=True,
            schema_extra=(("minimum", 0), ("maximum", 100)),
        ),
        Queryable(
            "view:off_nadir",
            NUMBER,
            "Off-nadir angle (degrees)",
            column="off_nadir",
            sortable=True,
            schema_extra=(("minimum", 0), ("maximum", 90)),
        ),
        Queryable("gsd", NUMBER, "Ground sample distance (m)", column="gsd", sortable=True),
        Queryable(
            "view:sun_elevation",
            NUMBER,
            "Sun elevation (degrees)",
            column="sun_elevation",
            schema_extra=(("minimum", -90), ("maximum", 90)),
        ),
        Queryable(
            "view:sun_azimuth",
            NUMBER,
            "Sun azimuth (degrees)",
            json_key="view:sun_azimuth",
            schema_extra=(("minimum", 0), ("maximum", 360)),
        ),
    )
}
# Other spellings accepted in `query` (the reference's CloudQuery names the provider shape).
QUERY_ALIASES = {"cloudCoverage": "eo:cloud_cover"}


def _queryable(name: Any, *, where: str, declared: bool = False) -> Queryable:
    """The queryable for a property name. Undeclared item properties are allowed (queryables say
    `additionalProperties: true`) where `declared` is False; they match only items that have them."""
    if isinstance(name, str) and name.startswith("properties."):
        name = name[len("properties.") :]
    if isinstance(name, str) and name not in QUERYABLES and not declared and _PROPERTY_NAME.match(name):
        return Queryable(name, ANY, name, json_key=name)
    if not isinstance(name, str) or name not in QUERYABLES:
        raise InvalidInput(
            f"{where} cannot use the property {name!r}; queryables: {', '.join(sorted(QUERYABLES))} "
            "(see /stac/queryables).",
            slug="unknown-queryable",
        )
    return QUERYABLES[name]


def queryables_document(*, url: str, collection: str | None = None) -> dict[str, Any]:
    """The JSON Schema of the queryables (for the search, or one collection)."""
    properties = {name: q.schema() for name, q in QUERYABLES.items()}
    if collection is not None:
        properties["collection"] = {**properties["collection"], "const": collection}
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": url,
        "type": "object",
        "title": f"Queryables of {collection}" if collection else "Queryables of the catalog search",
        "description": (
            "Properties usable in `filter` (CQL2) and `query`; `sortby` takes id, collection, datetime, "
            "platform, eo:cloud_cover, view:off_nadir and gsd. Other item properties may be named too "
            "(compared as JSON; items without them do not match)."
        ),
        "properties": properties,
        "additionalProperties": True,
    }


# --- literals -------------------------------------------------------------------------------------


def _to_datetime(value: Any, *, where: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        from .selectors import parse_instant

        return parse_instant(value, field=where)
    raise InvalidInput(f"{where} compares a date-time with {value!r}, which is not one.")


def coerce_literal(q: Queryable, value: Any, *, where: str) -> Any:
    """A literal checked (and converted) against the queryable's type; a mismatch is a 400."""
    if q.kind == NUMBER:
        if isinstance(value, bool):
            raise InvalidInput(f"{where} compares the number {q.name!r} with a boolean.")
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                raise InvalidInput(f"{where} compares the number {q.name!r} with {value!r}.") from None
        else:
            raise InvalidInput(f"{where} compares the number {q.name!r} with {value!r}.")
        if number != number or number in (float("inf"), float("-inf")):
            raise InvalidInput(f"{where} needs a finite number for {q.name!r}.")
        return number
    if q.kind == STRING:
        if not isinstance(value, str):
            raise InvalidInput(f"{where} compares the string {q.name!r} with {value!r}; quote it.")
        return value
    if q.kind == DATETIME:
        return _to_datetime(value, where=where)
    if q.kind in (ANY, ARRAY):
        if isinstance(value, str | bool) or (isinstance(value, int | float) and value == value):
            return value
        raise InvalidInput(f"{where} compares {q.name!r} with {value!r}; use a string or a number.")
    raise InvalidInput(f"{where} cannot compare the geometry {q.name!r} with a value; use S_INTERSECTS.")


# --- the query extension --------------------------------------------------------------------------

_ORDER = {"lt": LessThan, "lte": LessThanOrEqual, "gt": GreaterThan, "gte": GreaterThanOrEqual}
_TEXT = {"startswith": StartsWith, "endswith": EndsWith, "contains": Contains}
QUERY_OPERATORS = ("eq", "neq", "lt", "lte", "gt", "gte", "startsWith", "endsWith", "contains", "in")


def parse_query(value: Any) -> dict[str, dict[str, Any]]:
    """The query extension: `{"eo:cloud_cover": {"lt": 10}, "platform": {"in": ["PHR1A"]}}`.

    Returns the normalised form (canonical property and operator names, typed operands). Operators
    are case-insensitive (the reference's CloudQuery uses GT/GTE/LT/LTE, and allows null operands,
    which mean "no condition").
    """
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = jsonbounds.loads(value)
        except jsonbounds.JSONBadString as exc:
            raise exc.as_invalid_input(("query", "query")) from None
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"'query' is not valid JSON: {exc.msg}.") from exc
    if not isinstance(value, dict):
        raise InvalidInput("'query' must be an object of property → {operator: value}.")
    out: dict[str, dict[str, Any]] = {}
    for raw_prop, ops in value.items():
        q = _queryable(QUERY_ALIASES.get(raw_prop, raw_prop), where="'query'")
        if q.kind == GEOMETRY:
            raise InvalidInput("'query' cannot filter on 'geometry'; use bbox, intersects or filter.")
        if not isinstance(ops, dict) or not ops:
            raise InvalidInput(f"'query.{raw_prop}' must be an object such as {{\"lte\": 20}}.")
        for raw_op, operand in ops.items():
            if operand is None:
                continue
            op = next((o for o in QUERY_OPERATORS if o.lower() == str(raw_op).lower()), None)
            if op is None:
                raise InvalidInput(
                    f"'query.{raw_prop}' has unknown operator {raw_op!r}; use {', '.join(QUERY_OPERATORS)}."
                )
            where = f"'query.{raw_prop}.{raw_op}'"
            if q.kind == ARRAY and op != "in":
                raise InvalidInput(f"{where}: the array {q.name!r} takes only 'in' (any of the values).")
            if op.lower() in _TEXT and q.kind not in (STRING, ANY):
                raise InvalidInput(
                    f"{where}: {op} applies to string properties only; {q.name!r} is a {q.kind}."
                )
            if op in _ORDER and q.kind in (STRING, ARRAY):
                raise InvalidInput(
                    f"{where}: {op} applies to numbers and date-times; {q.name!r} is a string."
                )
            if op == "in":
                most = settings.STAC_FILTER_MAX_IN_VALUES
                if not isinstance(operand, list) or not operand or len(operand) > most:
                    raise InvalidInput(
                        f"{where} must be a list of 1 to {most} values (STAC_FILTER_MAX_IN_VALUES)."
                    )
                typed: Any = [coerce_literal(q, v, where=where) for v in operand]
            elif op.lower() in _TEXT:
                typed = coerce_literal(q, operand, where=where)
            else:
                typed = coerce_literal(q, operand, where=where)
            out.setdefault(q.name, {})[op] = typed
    return out


def query_q(query: dict[str, dict[str, Any]]) -> Q:
    """The normalised query extension (from parse_query) as one Q."""
    condition = Q()
    for name, ops in query.items():
        q = QUERYABLES.get(name) or Queryable(name, ANY, name, json_key=name)
        for op, operand in ops.items():
            literal = operand[0] if isinstance(operand, list) else operand
            expr = q.expression("" if op.lower() in _TEXT else literal)
            if q.kind == ARRAY:
                condition &= Q(HasAnyKeys(expr, operand))  # jsonb ?| : any element among the values
            elif op == "eq":
                condition &= Q(Exact(expr, operand))
            elif op == "neq":
                condition &= ~Q(Exact(expr, operand)) & Q(IsNull(expr, False))
            elif op == "in":
                condition &= Q(In(expr, operand))
            elif op in _ORDER:
                condition &= Q(_ORDER[op](expr, operand))
            else:
                condition &= Q(_TEXT[op.lower()](expr, operand))
    return condition


def query_json_safe(query: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    def plain(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    return {p: {op: plain(v) for op, v in ops.items()} for p, ops in query.items()}


# --- sortby ---------------------------------------------------------------------------------------


def parse_sortby(value: Any) -> list[tuple[str, bool]]:
    """GET `sortby=-properties.eo:cloud_cover,+datetime` or POST `[{"field": ..., "direction": ...}]`
    → [(queryable name, descending)]. Only sortable queryables; each at most once."""
    if value in (None, "", []):
        return []
    items: list[tuple[Any, str]] = []
    if isinstance(value, str):
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if part[0] in "+-":
                items.append((part[1:], "desc" if part[0] == "-" else "asc"))
            else:
                items.append((part, "asc"))
    elif isinstance(value, list):
        for entry in value:
            if not isinstance(entry, dict) or "field" not in entry:
                raise InvalidInput(
                    '\'sortby\' entries must be objects like {"field": "datetime", "direction": "desc"}.'
                )
            direction = entry.get("direction", "asc")
            if direction not in ("asc", "desc"):
                raise InvalidInput(f"'sortby' direction must be 'asc' or 'desc', got {direction!r}.")
            items.append((entry["field"], direction))
    else:
        raise InvalidInput("'sortby' must be a string (GET) or a list of {field, direction} (POST).")
    out: list[tuple[str, bool]] = []
    for field, direction in items:
        q = _queryable(field, where="'sortby'", declared=True)
        if not q.sortable:
            sortable = ", ".join(n for n, x in QUERYABLES.items() if x.sortable)
            raise InvalidInput(
                f"'sortby' cannot sort on {q.name!r}; sortable: {sortable}.", slug="unsortable"
            )
        if any(name == q.name for name, _ in out):
            raise InvalidInput(f"'sortby' names {q.name!r} twice.")
        out.append((q.name, direction == "desc"))
    return out


# --- fields ---------------------------------------------------------------------------------------

# What an item has when `fields` is given but names nothing (the extension's recommendation).
DEFAULT_FIELDS = ("type", "stac_version", "id", "geometry", "bbox", "links", "assets", "properties.datetime")


# What an item always keeps when `include` names fields: what makes it an identifiable STAC item.
IDENTITY_FIELDS = ("type", "stac_version", "id", "collection")


@dataclass(frozen=True)
class Fields:
    include: tuple[str, ...] | None = None  # None: `include` not given at all
    exclude: tuple[str, ...] = ()


def parse_fields(value: Any) -> Fields | None:
    """GET `fields=id,-geometry,properties.gsd` or POST `{"include": [...], "exclude": [...]}`."""
    if value is None:
        return None
    include: list[str] = []
    exclude: list[str] = []
    include_given = True
    if isinstance(value, str):
        for part in value.split(","):
            part = part.strip()
            if part.startswith("-"):
                exclude.append(part[1:])
            elif part:
                include.append(part[1:] if part.startswith("+") else part)
        include_given = bool(include) or not exclude
    elif isinstance(value, dict):
        include_given = "include" in value
        unknown = set(value) - {"include", "exclude"}
        if unknown:
            raise InvalidInput(f"'fields' takes only 'include' and 'exclude', not {sorted(unknown)}.")
        for key, target in (("include", include), ("exclude", exclude)):
            got = value.get(key) or []
            if not isinstance(got, list) or not all(isinstance(v, str) and v for v in got):
                raise InvalidInput(f"'fields.{key}' must be a list of field names.")
            target.extend(got)
    else:
        raise InvalidInput("'fields' must be a string (GET) or an object with include/exclude (POST).")
    if len(include) + len(exclude) > 100 or any(len(f) > 200 for f in include + exclude):
        raise InvalidInput("'fields' names at most 100 fields of at most 200 characters.")
    return Fields(include=tuple(include) if include_given else None, exclude=tuple(exclude))


def _get_path(doc: dict[str, Any], path: list[str]) -> tuple[bool, Any]:
    node: Any = doc
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False, None
        node = node[key]
    return True, node


def _set_path(doc: dict[str, Any], path: list[str], value: Any) -> None:
    node = doc
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def _drop_path(doc: dict[str, Any], path: list[str]) -> None:
    node: Any = doc
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(path[-1], None)


def apply_fields(feature: dict[str, Any], fields: Fields | None) -> dict[str, Any]:
    """The fields extension on one item. Start from: the whole item when `include` is not given;
    the default set when it is given empty; else the identity fields plus those it names. Then drop
    what `exclude` names — unless `include` names the same or a deeper path (the more specific rule
    wins). No `fields` at all: the whole item."""
    if fields is None:
        return feature
    include = fields.include or ()
    if fields.include is None:
        out = feature
    else:
        out = {}
        for name in (*IDENTITY_FIELDS, *include) if include else DEFAULT_FIELDS:
            found, value = _get_path(feature, name.split("."))
            if found:
                _set_path(out, name.split("."), value)
    for name in fields.exclude:
        if any(inc == name or inc.startswith(name + ".") for inc in include):
            continue
        _drop_path(out, name.split("."))
    return out


# --- filter (CQL2) --------------------------------------------------------------------------------

FILTER_LANGS = ("cql2-text", "cql2-json")
_CRS84 = {
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "https://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/4326",
    "EPSG:4326",
}


@dataclass(frozen=True)
class Filter:
    node: Any  # the pygeofilter AST
    q: Q

    @property
    def fingerprint(self) -> str:
        return repr(self.node)


def parse_filter(value: Any, *, lang: str | None, crs: str | None, get: bool) -> Filter | None:
    """`filter` + `filter-lang` (+ `filter-crs`) → a Filter, or None when there is none.

    GET defaults to cql2-text, POST to cql2-json (a string body value is taken as cql2-text).
    """
    if value in (None, ""):
        return None
    if crs not in (None, "") and crs not in _CRS84:
        raise InvalidInput(f"'filter-crs' {crs!r} is not supported; only CRS84 (WGS 84 lon/lat).")
    if lang in (None, ""):
        lang = "cql2-text" if get or isinstance(value, str) else "cql2-json"
    if lang not in FILTER_LANGS:
        raise InvalidInput(f"'filter-lang' {lang!r} is not supported; use cql2-text or cql2-json.")
    if lang == "cql2-json" and isinstance(value, str):
        try:
            value = jsonbounds.loads(value)
        except jsonbounds.JSONBadString as exc:
            raise exc.as_invalid_input(("query", "filter")) from None
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"'filter' is not valid CQL2 JSON: {exc.msg}.") from exc
    if lang == "cql2-text" and not isinstance(value, str):
        raise InvalidInput("'filter' in cql2-text must be a string.")
    if lang == "cql2-json" and not isinstance(value, dict):
        raise InvalidInput("'filter' in cql2-json must be a JSON object.")
    size = len(value) if isinstance(value, str) else len(json.dumps(value))
    if size > settings.STAC_FILTER_MAX_CHARS:
        raise InvalidInput(
            f"'filter' is longer than {settings.STAC_FILTER_MAX_CHARS} characters (STAC_FILTER_MAX_CHARS)."
        )
    try:
        node = parse_cql2_text(value) if lang == "cql2-text" else parse_cql2_json(value)
    except LarkError as exc:
        first = str(exc).splitlines()[0]
        raise InvalidInput(f"'filter' is not valid CQL2 text: {first}", slug="invalid-filter") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        raise InvalidInput(f"'filter' is not valid {lang}: {exc}", slug="invalid-filter") from None
    return Filter(node=node, q=_to_q(node))


def _unsupported(what: str) -> InvalidInput:
    return InvalidInput(
        f"'filter' uses {what}, which this server does not support.", slug="unsupported-filter"
    )


_COMPARISONS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Equal: Exact,
    ast.LessThan: LessThan,
    ast.LessEqual: LessThanOrEqual,
    ast.GreaterThan: GreaterThan,
    ast.GreaterEqual: GreaterThanOrEqual,
}
_FLIPPED = {
    ast.Equal: ast.Equal,
    ast.NotEqual: ast.NotEqual,
    ast.LessThan: ast.GreaterThan,
    ast.GreaterThan: ast.LessThan,
    ast.LessEqual: ast.GreaterEqual,
    ast.GreaterEqual: ast.LessEqual,
}
_SPATIAL = {
    ast.GeometryIntersects: "intersects",
    ast.GeometryDisjoint: "disjoint",
    ast.GeometryContains: "contains",
    ast.GeometryWithin: "within",
    ast.GeometryTouches: "touches",
    ast.GeometryCrosses: "crosses",
    ast.GeometryOverlaps: "overlaps",
    ast.GeometryEquals: "equals",
}


def _operand(node: Any) -> tuple[Queryable | None, Expression | None, Any]:
    """(queryable, expression, None) for a property (optionally CASEI'd), (None, None, literal) else."""
    if isinstance(node, ast.Attribute):
        q = _queryable(node.name, where="'filter'")
        return q, None, None
    if isinstance(node, ast.Function):
        if node.name == "lower" and len(node.arguments) == 1:  # CASEI(...)
            inner = node.arguments[0]
            if isinstance(inner, ast.Attribute):
                q = _queryable(inner.name, where="'filter'")
                if q.kind not in (STRING, ANY):
                    raise InvalidInput(f"CASEI applies to strings; {q.name!r} is a {q.kind}.")
                return q, Lower(q.expression("")), None
            if isinstance(inner, str):
                return None, None, inner.lower()
        raise _unsupported(f"the function {node.name.upper()}")
    if isinstance(node, ast.Arithmetic):
        raise _unsupported("arithmetic")
    if isinstance(node, ast.Node):
        raise _unsupported(type(node).__name__)
    return None, None, node


def _comparison(node: Any) -> Q:
    op = type(node)
    lq, lexpr, lval = _operand(node.lhs)
    rq, rexpr, rval = _operand(node.rhs)
    if lq is None and rq is not None:
        op = _FLIPPED[op]
        lq, lexpr, lval, rq, rexpr, rval = rq, rexpr, rval, lq, lexpr, lval
    if lq is None:
        raise InvalidInput("'filter' compares two literals; one side must be a property.")
    if lq.kind in (GEOMETRY, ARRAY) or (rq is not None and rq.kind in (GEOMETRY, ARRAY)):
        raise InvalidInput(
            "'filter' compares a geometry or an array with '='/'<'...; use the S_* spatial functions."
        )
    if rq is not None:
        if rq.kind != lq.kind or lq.kind == ANY:
            raise InvalidInput(f"'filter' compares {lq.name!r} ({lq.kind}) with {rq.name!r} ({rq.kind}).")
        lexpr = lexpr or lq.expression()
        rhs: Any = rexpr or rq.expression()
    else:
        if rval is None:
            raise InvalidInput("'filter' compares with NULL; use IS NULL.")
        rhs = coerce_literal(lq, rval, where="'filter'")
        lexpr = lexpr or lq.expression(rhs)
    if op is ast.NotEqual:
        return ~Q(Exact(lexpr, rhs)) & Q(IsNull(lexpr, False))
    return Q(_COMPARISONS[op](lexpr, rhs))


def _like_regex(pattern: str) -> str:
    """CQL2 LIKE (`%` any run, `_` one character, `\\` escapes) → an anchored POSIX regex."""
    out, i = ["^"], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return "".join(out) + "$"


def _geometry(node: Any) -> GEOSGeometry:
    try:
        if isinstance(node, values.Geometry):
            geom = GEOSGeometry(json.dumps(node.geometry), srid=4326)
        elif isinstance(node, values.Envelope):
            geom = Polygon.from_bbox((node.x1, node.y1, node.x2, node.y2))
            geom.srid = 4326
        else:
            raise InvalidInput("A spatial function in 'filter' needs a geometry literal (WKT or GeoJSON).")
    except (GEOSException, GDALException, ValueError, TypeError) as exc:
        raise InvalidInput(f"'filter' has an invalid geometry: {exc}.") from None
    if geom.empty:
        raise InvalidInput("'filter' has an empty geometry.")
    return geom


def _to_q(node: Any) -> Q:
    if isinstance(node, ast.And):
        return _to_q(node.lhs) & _to_q(node.rhs)
    if isinstance(node, ast.Or):
        return _to_q(node.lhs) | _to_q(node.rhs)
    if isinstance(node, ast.Not):
        return ~_to_q(node.sub_node)
    if isinstance(node, bool):
        return Q() if node else Q(pk__in=[])
    if type(node) in _FLIPPED:
        return _comparison(node)
    if isinstance(node, ast.IsNull):
        q, expr, _ = _operand(node.lhs)
        if q is None:
            raise InvalidInput("IS NULL in 'filter' applies to a property.")
        return Q(IsNull(expr or q.expression(None), not node.not_))
    if isinstance(node, ast.Like):
        q, expr, _ = _operand(node.lhs)
        if q is None or q.kind not in (STRING, ANY):
            raise InvalidInput("LIKE in 'filter' applies to a string property.")
        if not isinstance(node.pattern, str):
            raise InvalidInput("LIKE in 'filter' needs a string pattern.")
        condition = Q(Regex(expr or q.expression(""), _like_regex(node.pattern)))
        return ~condition if node.not_ else condition
    if isinstance(node, ast.Between):
        q, expr, _ = _operand(node.lhs)
        if q is None or q.kind not in (NUMBER, DATETIME, ANY):
            raise InvalidInput("BETWEEN in 'filter' applies to a number or date-time property.")
        low = coerce_literal(q, node.low, where="'filter' BETWEEN")
        high = coerce_literal(q, node.high, where="'filter' BETWEEN")
        expr = expr or q.expression(low)
        condition = Q(GreaterThanOrEqual(expr, low)) & Q(LessThanOrEqual(expr, high))
        return ~condition if node.not_ else condition
    if isinstance(node, ast.In):
        q, expr, _ = _operand(node.lhs)
        if q is None or q.kind in (GEOMETRY, ARRAY):
            raise InvalidInput("IN in 'filter' applies to a property with single values.")
        most = settings.STAC_FILTER_MAX_IN_VALUES
        if not node.sub_nodes or len(node.sub_nodes) > most:
            raise InvalidInput(f"IN in 'filter' takes 1 to {most} values (STAC_FILTER_MAX_IN_VALUES).")
        options = [coerce_literal(q, _operand(v)[2], where="'filter' IN") for v in node.sub_nodes]
        condition = Q(In(expr or q.expression(options[0]), options))
        return ~condition if node.not_ else condition
    if type(node) in _SPATIAL:
        lhs, rhs = node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute):
            lhs, rhs = rhs, lhs
            if type(node) in (ast.GeometryContains, ast.GeometryWithin):
                node = (ast.GeometryWithin if type(node) is ast.GeometryContains else ast.GeometryContains)(
                    lhs, rhs
                )
        if not isinstance(lhs, ast.Attribute):
            raise InvalidInput("A spatial function in 'filter' needs the 'geometry' property on one side.")
        q = _queryable(lhs.name, where="'filter'", declared=True)
        if q.kind != GEOMETRY:
            raise InvalidInput(f"Spatial functions apply to 'geometry', not {q.name!r}.")
        return Q(**{f"{q.column}__{_SPATIAL[type(node)]}": _geometry(rhs)})
    if isinstance(node, ast.BBox):
        if node.crs not in (None, "") and node.crs not in _CRS84:
            raise InvalidInput(f"BBOX in 'filter' has the CRS {node.crs!r}; only CRS84 is supported.")
        q = _queryable(getattr(node.lhs, "name", None), where="'filter'", declared=True)
        if q.kind != GEOMETRY:
            raise InvalidInput(f"BBOX applies to 'geometry', not {q.name!r}.")
        box = Polygon.from_bbox((node.minx, node.miny, node.maxx, node.maxy))
        box.srid = 4326
        return Q(**{f"{q.column}__intersects": box})
    if isinstance(node, ast.TemporalPredicate):
        raise _unsupported(
            f"the temporal function {type(node).__name__} (compare 'datetime' with =, <, > instead)"
        )
    if isinstance(node, ast.Node):
        raise _unsupported(type(node).__name__)
    raise InvalidInput(f"'filter' must be a condition, not {node!r}.")


# --- conformance ----------------------------------------------------------------------------------

FILTER_CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0-rc.2/item-search#filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
]
