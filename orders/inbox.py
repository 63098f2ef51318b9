"""The unified inbox of pending decisions, read from the decision-kind registry (`orders.decisions`).

One page is one SQL statement (`decisions_page`): a UNION ALL with one branch per registered kind
(each branch the kind's pending rows of the org whose order still waits, newest first, cut to what
the page can use) gives the page's keys in order; the same statement builds each row's payload as
JSON (the decision, its order, the relations and reverse relations the kind names, the AOIs as
GeoJSON), the counts and whatever else the caller folds in (the inbox page's badges, wallet and
workspaces). Python only turns that JSON back into model instances, so a page costs one query at
10 rows or 100, with 1 option or 8, on page 1 or page 500. `_pending` (the ORM form of a kind's
waiting rows) and the SQL of `_branch` say the same thing; the tests hold them together.

Paging is by keyset: `next_cursor` is an opaque, signed token naming the last row of a page; the
next page is everything strictly older than it. A 0-based `offset` (the reference's `page`) still
works for the SDK, as an OFFSET over the same statement.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.contrib.gis.db.models import GeometryField
from django.core import signing
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F, Field, Model, OrderBy, QuerySet, Window
from django.db.models.functions import RowNumber

from geopera_web.accounts.models import Organization
from geopera_web.errors import NotFound, parse_uuid

from .decisions import AbstractDecision, DecisionKind, decision_kind, decision_kinds

CURSOR_SALT = "orders.inbox.cursor"


@dataclass
class Decision:
    """One row of the unified inbox: a pending decision of any registered kind."""

    kind: str  # a registered kind's slug ("feasibility", "quotation", "approval", ...)
    obj: Any

    @property
    def id(self) -> Any:
        return self.obj.id

    @property
    def created_at(self) -> Any:
        return self.obj.created_at

    @property
    def deadline(self) -> Any:
        return self.obj.deadline

    @property
    def order(self) -> Any:
        return self.obj.order


@dataclass
class DecisionPage:
    rows: list[Decision] = field(default_factory=list)
    next_cursor: str | None = None  # None: this is the last page
    total: int | None = None  # with `with_total`: every decision waiting under the filters
    total_all: int | None = None  # with `with_total_all`: every decision waiting, unfiltered
    counts: dict[str, int] = field(default_factory=dict)  # the `extra_counts` asked for
    extra: dict[str, list[Any]] = field(default_factory=dict)  # the `extra_rows` asked for


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: UUID


def cursor_encode(*, created_at: datetime, id: UUID) -> str:
    return signing.dumps([created_at.isoformat(), str(id)], salt=CURSOR_SALT)


# What a `next_cursor` looks like (django.core.signing: payload:timestamp:signature, base64url); the
# API declares it, so anything else is a 422 before it gets here.
CURSOR_PATTERN = r"^\.?[A-Za-z0-9_-]+:[A-Za-z0-9]+:[A-Za-z0-9_-]+$"


def cursor_decode(token: str) -> Cursor:
    """The position a `next_cursor` token names. A token this server did not sign (or a damaged one)
    names no position: a 404 a person can act on, as for an id that does not exist."""
    try:
        created, ident = signing.loads(token, salt=CURSOR_SALT)
        cursor = Cursor(created_at=datetime.fromisoformat(created), id=UUID(ident))
        if cursor.created_at.tzinfo is None:
            raise ValueError("naive cursor")
    except (signing.BadSignature, ValueError, TypeError):
        raise NotFound(
            "This cursor was not issued by this server (or is damaged): use the nextCursor of a previous "
            "page, or leave it out for the first page.",
            slug="unknown-cursor",
            errors=[{"loc": ["body", "cursor"], "msg": "unknown cursor", "type": "value_error.cursor"}],
        ) from None
    return cursor


def inbox_kind_slugs() -> list[str]:
    return [k.slug for k in decision_kinds()]


def inbox_kinds(kinds: str | Iterable[str] | None) -> list[DecisionKind]:
    """The registered kinds a `kinds` filter names ("a,b" or a list; empty: every kind). Unknown
    names are dropped here; the API refuses them before (422)."""
    if not kinds:
        return decision_kinds()
    parts = kinds.split(",") if isinstance(kinds, str) else list(kinds)
    wanted = {p.strip().lower() for p in parts}
    return [k for k in decision_kinds() if k.slug in wanted]


def _pending(kind: DecisionKind, *, org: Organization, workspace_id: object) -> QuerySet:
    """The kind's pending rows of the org; a cancelled (or otherwise moved-on) order's decision is
    moot, so only orders still waiting on the org count."""
    qs = kind.model.objects.filter(
        org=org, decision=AbstractDecision.Decision.PENDING, order__status="pending"
    )
    if workspace_id:
        ws = parse_uuid(workspace_id)
        qs = qs.filter(**{kind.workspace_field: ws}) if ws else qs.none()
    return qs


def decisions_pending_queryset(
    *, org: Organization, kinds: str | Iterable[str] | None = None, workspace_id: object = None
) -> QuerySet:
    """The ids of every waiting decision (a UNION ALL over the kinds): what the counts count."""
    chosen = inbox_kinds(kinds)
    if not chosen:
        return decision_kinds()[0].model.objects.none().values("id")
    branches = [_pending(k, org=org, workspace_id=workspace_id).order_by().values("id") for k in chosen]
    return branches[0].union(*branches[1:], all=True) if len(branches) > 1 else branches[0]


def decisions_pending_count(
    *, org: Organization, kinds: str | Iterable[str] | None = None, workspace_id: object = None
) -> int:
    """How many decisions wait, in one statement (a COUNT over the UNION ALL of the kinds)."""
    return decisions_pending_queryset(org=org, kinds=kinds, workspace_id=workspace_id).count()


def decisions_newer_count(
    *,
    org: Organization,
    since: datetime,
    kinds: str | Iterable[str] | None = None,
    workspace_id: object = None,
) -> int:
    """How many waiting decisions arrived after `since` (the "new decisions" notice), one statement."""
    branches = [
        _pending(k, org=org, workspace_id=workspace_id).filter(created_at__gt=since).values("id")
        for k in inbox_kinds(kinds)
    ]
    if not branches:
        return 0
    if len(branches) == 1:
        return branches[0].count()
    return branches[0].union(*branches[1:], all=True).count()


def decisions_page(
    *,
    org: Organization,
    size: int,
    kinds: str | Iterable[str] | None = None,
    workspace_id: object = None,
    cursor: str | None = None,
    offset: int = 0,
    with_groups: bool = True,
    with_total: bool = False,
    with_total_all: bool = False,
    extra_counts: Mapping[str, QuerySet] | None = None,
    extra_rows: Mapping[str, QuerySet] | None = None,
) -> DecisionPage:
    """One page of the org's waiting decisions, newest first: after `cursor` (a `next_cursor`
    token) when given, else from `offset`. One SQL statement returns the page in order with each
    row's payload (the decision, its order and what the kind names in `inbox_related` and
    `inbox_prefetch`, e.g. a study's options and sensor) built as JSON by PostgreSQL; the rows are
    model instances made from it, without a further query. `with_groups` adds each row's order
    groups as GeoJSON features (`inbox_aoi_features`: the inbox page's mini-maps; the API does not
    need them); `with_total` the count of every decision under the filters (`total`),
    `with_total_all` the count without the filters (`total_all`, the inbox badge).

    `extra_counts` / `extra_rows` fold further reads of the same request into the statement: each
    is a queryset, answered as `counts[name]` (its COUNT) or `extra[name]` (its rows, as instances
    of its model)."""
    page = DecisionPage()
    after = cursor_decode(cursor) if cursor else None
    if after is not None:
        offset = 0
    chosen = inbox_kinds(kinds)
    if workspace_id and parse_uuid(workspace_id) is None:
        # No workspace has that id: nothing waits in it (what else was asked is still answered).
        chosen = []
        page.total = 0 if with_total else None
    params: list[Any] = []
    columns: list[str] = []
    if chosen:
        keys_sql, keys_params = _keys_statement(
            chosen, org=org, workspace_id=workspace_id, after=after, offset=offset, size=size
        )
        params += [*keys_params, size]
        rows_sql = " UNION ALL ".join(
            _rows_branch(kind, org=org, with_groups=with_groups, params=params) for kind in chosen
        )
        columns += [
            "(SELECT count(*) FROM keys) AS keys",
            f"(SELECT jsonb_agg(jsonb_build_array(r.created_at, r.id, r.kind, r.payload) "
            f"ORDER BY r.created_at DESC, r.id DESC) FROM ({rows_sql}) r) AS rows",
        ]
        if with_total:
            count_sql, count_params = _count_statement(chosen, org=org, workspace_id=workspace_id)
            columns.append(f"({count_sql}) AS total")
            params += count_params
    if with_total_all:
        count_sql, count_params = _count_statement(decision_kinds(), org=org, workspace_id=None)
        columns.append(f"({count_sql}) AS total_all")
        params += count_params
    extras = _extras_sql(extra_counts, extra_rows, params)
    if extras:
        columns.append(extras)
    if not columns:
        return page
    head = (
        f"WITH keys(created_at, id, kind) AS ({keys_sql}), "
        "page AS (SELECT * FROM keys ORDER BY created_at DESC, id DESC LIMIT %s) "
        if chosen
        else ""
    )
    _answer(page, f"{head}SELECT {', '.join(columns)}", params, extra_counts, extra_rows, size=size)
    return page


def _answer(
    page: DecisionPage,
    sql: str,
    params: list[Any],
    extra_counts: Mapping[str, QuerySet] | None,
    extra_rows: Mapping[str, QuerySet] | None,
    *,
    size: int = 0,
) -> None:
    with connection.cursor() as c:
        c.execute(sql, params)
        names = [d[0] for d in c.description]
        values = dict(zip(names, c.fetchone(), strict=True))
    for name in extra_counts or {}:
        page.counts[name] = values[f"count_{name}"]
    for name, qs in (extra_rows or {}).items():
        page.extra[name] = [_instance(qs.model, row) for row in _json(values[f"rows_{name}"]) or []]
    page.total = values.get("total", page.total)
    page.total_all = values.get("total_all", page.total_all)
    if "rows" not in values:
        return
    rows = _json(values["rows"]) or []
    page.rows = [_decision(decision_kind(kind), payload) for _, _, kind, payload in rows]
    if values["keys"] > size and rows:
        last = page.rows[-1]
        page.next_cursor = cursor_encode(created_at=last.created_at, id=last.id)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _compiled(qs: QuerySet) -> tuple[str, list[Any]]:
    sql, params = qs.query.sql_with_params()
    return sql, list(params)


def _branch(kind: DecisionKind, *, workspace_id: object, params: list[Any], org: Organization) -> str:
    """FROM and WHERE of a kind's waiting rows (as `_pending`, written out: the page's statement is
    built without compiling querysets, which cost more than the SQL under load)."""
    qn = connection.ops.quote_name
    model = kind.model
    order_fk = model._meta.get_field("order")
    sql = (
        f"FROM {qn(model._meta.db_table)} d JOIN orders_order o ON o.id = d.{qn(order_fk.column)} "
        "WHERE d.org_id = %s AND d.decision = 'PENDING' AND o.status = 'pending'"
    )
    params.append(org.pk)
    if workspace_id:
        on_order, _, name = kind.workspace_field.rpartition("__")
        owner = order_fk.related_model if on_order else model
        sql += f" AND {'o' if on_order else 'd'}.{qn(owner._meta.get_field(name).column)} = %s"
        params.append(parse_uuid(workspace_id))
    return sql


def _keys_statement(
    chosen: list[DecisionKind],
    *,
    org: Organization,
    workspace_id: object,
    after: Cursor | None,
    offset: int,
    size: int,
) -> tuple[str, list[Any]]:
    """The page's keys (created_at, id, kind), newest first, one more than the page (is there a
    next one?): a UNION ALL with one branch per kind, each cut to what the page can use."""
    want = offset + size + 1
    params: list[Any] = []
    branches = []
    for kind in chosen:
        params.append(kind.slug)
        sql = f"SELECT d.created_at, d.id, %s::text AS kind {_branch(kind, workspace_id=workspace_id, params=params, org=org)}"
        if after is not None:
            # (created_at, id) < cursor; the first term bounds the index scan, the second breaks ties.
            sql += " AND d.created_at <= %s AND (d.created_at < %s OR d.id < %s)"
            params += [after.created_at, after.created_at, after.id]
        branches.append(f"({sql} ORDER BY d.created_at DESC, d.id DESC LIMIT %s)")
        params.append(want)
    params += [size + 1, offset]
    return (
        f"SELECT * FROM ({' UNION ALL '.join(branches)}) u "
        "ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s",
        params,
    )


def _count_statement(
    chosen: list[DecisionKind], *, org: Organization, workspace_id: object
) -> tuple[str, list[Any]]:
    """How many wait under the filters: one count per kind, summed."""
    params: list[Any] = []
    parts = [
        f"(SELECT count(*) {_branch(k, workspace_id=workspace_id, params=params, org=org)})" for k in chosen
    ]
    return f"SELECT {' + '.join(parts)}", params


def _extras_sql(
    extra_counts: Mapping[str, QuerySet] | None, extra_rows: Mapping[str, QuerySet] | None, params: list[Any]
) -> str:
    columns = []
    for name, qs in (extra_counts or {}).items():
        try:
            sql, p = _compiled(qs.order_by())
        except EmptyResultSet:  # a queryset that can match nothing (e.g. .none())
            columns.append(f"0 AS count_{name}")
            continue
        columns.append(f"(SELECT count(*) FROM ({sql}) c) AS count_{name}")
        params += p
    for name, qs in (extra_rows or {}).items():
        fields = _plain_fields(qs.model)
        # Each row's position in the queryset's own order, kept through the aggregate.
        ordering = [
            OrderBy(F(o.lstrip("-")), descending=o.startswith("-"))
            for o in (qs.query.order_by or qs.model._meta.ordering or ["pk"])
            if isinstance(o, str)
        ]
        numbered = qs.annotate(inbox_n=Window(RowNumber(), order_by=ordering))
        try:
            sql, p = _compiled(numbered.values(*(f.attname for f in fields), "inbox_n"))
        except EmptyResultSet:
            columns.append(f"NULL AS rows_{name}")
            continue
        columns.append(
            f"(SELECT jsonb_agg({_json_object('x', fields)} ORDER BY x.inbox_n) FROM ({sql}) x) "
            f"AS rows_{name}"
        )
        params += p
    return ", ".join(columns)


# --- a row's payload, as JSON built by PostgreSQL, and back to model instances -------------------


def _plain_fields(model: type[Model]) -> list[Field]:
    """The columns a payload carries: every concrete one but geometries (a mini-map gets its own
    GeoJSON) and password hashes."""
    return [
        f for f in model._meta.concrete_fields if not isinstance(f, GeometryField) and f.attname != "password"
    ]


def _json_object(alias: str, fields: list[Field]) -> str:
    """jsonb_build_object over the fields of `alias` (keyed by column; chunks of 40 pairs, within
    PostgreSQL's 100 arguments); NULL when the (outer-joined) row is absent."""
    qn = connection.ops.quote_name
    pairs = [f"'{f.column}', {alias}.{qn(f.column)}" for f in fields]
    chunks = [f"jsonb_build_object({', '.join(pairs[i : i + 40])})" for i in range(0, len(pairs), 40)]
    return " || ".join(chunks)


def _rows_branch(kind: DecisionKind, *, org: Organization, with_groups: bool, params: list[Any]) -> str:
    """The payload of the page's rows of one kind: {"o": the decision, "r": {path: the related
    row (or null)}, "p": {name: [prefetched rows]}, "a": [AOI features]}."""
    qn = connection.ops.quote_name
    model = kind.model
    joins = [f"JOIN {qn(model._meta.db_table)} d ON d.id = k.id AND k.kind = %s AND d.org_id = %s"]
    related: list[str] = []
    aliases: dict[str, tuple[str, type[Model]]] = {"": ("d", model)}
    for path in _related_paths(kind, page=with_groups):
        parent_path, _, name = path.rpartition("__")
        parent_alias, parent_model = aliases[parent_path]
        field = parent_model._meta.get_field(name)
        target = field.related_model
        alias = f"j{len(aliases)}"
        if field.many_to_one or (field.one_to_one and field.concrete):
            on = f"{alias}.{qn(field.target_field.column)} = {parent_alias}.{qn(field.column)}"
        elif field.one_to_one:  # the reverse side of a one-to-one
            on = f"{alias}.{qn(field.field.column)} = {parent_alias}.{qn(field.field.target_field.column)}"
        else:
            raise ValueError(f"inbox_related path {path!r} of {kind.slug!r} is not a single relation")
        joins.append(f"LEFT JOIN {qn(target._meta.db_table)} {alias} ON {on}")
        aliases[path] = (alias, target)
        pk = qn(target._meta.pk.column)
        related.append(
            f"'{path}', CASE WHEN {alias}.{pk} IS NULL THEN NULL ELSE "
            f"{_json_object(alias, _plain_fields(target))} END"
        )
    prefetched = []
    for name in kind.inbox_prefetch:
        rel = model._meta.get_field(name)
        child = rel.related_model
        ordering = ", ".join(
            f"x.{qn(child._meta.get_field(o.lstrip('-')).column)}{' DESC' if o.startswith('-') else ''}"
            for o in child._meta.ordering
        )
        prefetched.append(
            f"'{name}', (SELECT coalesce(jsonb_agg({_json_object('x', _plain_fields(child))} "
            f"ORDER BY {ordering or 'x.' + qn(child._meta.pk.column)}), '[]'::jsonb) "
            f"FROM {qn(child._meta.db_table)} x WHERE x.{qn(rel.field.column)} = d.{qn(rel.field.target_field.column)})"
        )
    payload = [
        f"'o', {_json_object('d', _plain_fields(model))}",
        f"'r', jsonb_build_object({', '.join(related)})",
        f"'p', jsonb_build_object({', '.join(prefetched)})",
    ]
    if with_groups:
        payload.append(f"'a', {_AOI_FEATURES}")
    params += [kind.slug, org.pk]
    return (
        f"SELECT k.created_at, k.id, k.kind, jsonb_build_object({', '.join(payload)}) AS payload "
        f"FROM page k {' '.join(joins)}"
    )


def _related_paths(kind: DecisionKind, *, page: bool) -> list[str]:
    """Every relation a row carries, parents first: the order and each prefix of the kind's
    `wire_related` paths; for the inbox page also the order's workspace and `inbox_related`."""
    paths: list[str] = []
    wanted = ("order", "order__workspace", *kind.inbox_related) if page else ("order",)
    for path in (*wanted, *kind.wire_related):
        parts = path.split("__")
        for i in range(1, len(parts) + 1):
            prefix = "__".join(parts[:i])
            if prefix not in paths:
                paths.append(prefix)
    return paths


# The order's groups as GeoJSON features (name, km²) for the mini-map, in the page's statement.
_AOI_FEATURES = (
    "(SELECT coalesce(jsonb_agg(jsonb_build_object('type', 'Feature', 'geometry', "
    "ST_AsGeoJSON(g.geometry, 6, 0)::jsonb, 'properties', jsonb_build_object('name', "
    "CASE WHEN g.name = '' THEN 'AOI ' || (g.position + 1) ELSE g.name END, "
    "'areaKm2', round(g.area_km2::numeric, 1))) ORDER BY g.position), '[]'::jsonb) "
    "FROM orders_ordergroup g WHERE g.order_id = d.order_id)"
)


def _instance(model: type[Model], data: dict[str, Any]) -> Any:
    """A model instance from a payload's columns, as if loaded by the ORM (the columns left out,
    such as geometries, are deferred)."""
    fields = [f for f in model._meta.concrete_fields if f.column in data]
    values = [f.to_python(data[f.column]) for f in fields]
    return model.from_db(connection.alias, [f.attname for f in fields], values)


def _decision(kind: DecisionKind, payload: dict[str, Any]) -> Decision:
    obj = _instance(kind.model, payload["o"])
    made: dict[str, Any] = {"": obj}
    for path in _related_paths(kind, page="a" in payload):
        parent_path, _, name = path.rpartition("__")
        parent = made[parent_path]
        if parent is None:
            made[path] = None
            continue
        field = type(parent)._meta.get_field(name)
        data = payload["r"].get(path)
        child = _instance(field.related_model, data) if data is not None else None
        field.set_cached_value(parent, child)
        made[path] = child
    for name, rows in payload["p"].items():
        rel = kind.model._meta.get_field(name)
        children = [_instance(rel.related_model, row) for row in rows]
        for child in children:
            rel.field.set_cached_value(child, obj)
        qs = getattr(obj, name).get_queryset()
        qs._result_cache = children
        qs._prefetch_done = True
        obj._prefetched_objects_cache = {**getattr(obj, "_prefetched_objects_cache", {}), name: qs}
    if "a" in payload:
        obj.inbox_aoi_features = payload["a"]
    return Decision(kind.slug, obj)
