"""The unified inbox of pending decisions, read from the decision-kind registry (`orders.decisions`).

One page is one SQL statement: a UNION ALL with one branch per registered kind (each branch the
kind's pending rows of the org whose order still waits, newest first, cut to what the page can
use), ordered by (created_at, id) descending and cut again. Only the page's rows are then loaded,
one query per kind present on the page (each row's AOIs built as GeoJSON inside it), so a page costs the
same number of queries at 10 rows or 100, on page 1 or page 500.

Paging is by keyset: `next_cursor` is an opaque, signed token naming the last row of a page; the
next page is everything strictly older than it. A 0-based `offset` (the reference's `page`) still
works for the SDK, as an OFFSET over the same statement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.postgres.aggregates import JSONBAgg
from django.core import signing
from django.db.models import (
    Case,
    CharField,
    F,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, JSONObject, Round

from geopera_web.accounts.models import Organization
from geopera_web.errors import NotFound, parse_uuid

from .decisions import AbstractDecision, DecisionKind, decision_kind, decision_kinds
from .models import OrderGroup

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


def decisions_pending_count(
    *, org: Organization, kinds: str | Iterable[str] | None = None, workspace_id: object = None
) -> int:
    """How many decisions wait, in one statement (a COUNT over the UNION ALL of the kinds)."""
    branches = [_pending(k, org=org, workspace_id=workspace_id).values("id") for k in inbox_kinds(kinds)]
    if not branches:
        return 0
    if len(branches) == 1:
        return branches[0].count()
    return branches[0].union(*branches[1:], all=True).count()


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
) -> DecisionPage:
    """One page of the org's waiting decisions, newest first: after `cursor` (a `next_cursor`
    token) when given, else from `offset`. `with_groups` also loads each row's order groups (the
    inbox page draws them; the API does not need them)."""
    if workspace_id and parse_uuid(workspace_id) is None:
        return DecisionPage()  # no workspace has that id: nothing waits in it
    after = cursor_decode(cursor) if cursor else None
    if after is not None:
        offset = 0
    want = offset + size + 1  # one more than the page: is there a next page?
    branches = []
    for kind in inbox_kinds(kinds):
        qs = _pending(kind, org=org, workspace_id=workspace_id)
        if after is not None:
            # (created_at, id) < cursor; the first term bounds the index scan, the second breaks ties.
            qs = qs.filter(created_at__lte=after.created_at).filter(
                Q(created_at__lt=after.created_at) | Q(id__lt=after.id)
            )
        branches.append(
            qs.annotate(inbox_kind=Value(kind.slug, output_field=CharField()))
            .order_by("-created_at", "-id")
            .values_list("created_at", "id", "inbox_kind")
        )
    if not branches:
        return DecisionPage()
    if len(branches) == 1:
        keys = list(branches[0][offset:want])
    else:
        union = branches[0][:want].union(*(b[:want] for b in branches[1:]), all=True)
        keys = list(union.order_by("-created_at", "-id")[offset:want])
    has_more = len(keys) > size
    keys = keys[:size]
    rows = _load(org=org, keys=keys, with_groups=with_groups)
    next_cursor = None
    if has_more and keys:
        created, ident, _ = keys[-1]
        next_cursor = cursor_encode(created_at=created, id=ident)
    return DecisionPage(rows=rows, next_cursor=next_cursor)


def _load(*, org: Organization, keys: list[tuple[datetime, UUID, str]], with_groups: bool) -> list[Decision]:
    """The page's rows with what a row shows: one query per kind present (plus the kind's own
    prefetches, e.g. a study's options); with `with_groups`, each row carries `inbox_aoi_features`."""
    ids_by_kind: dict[str, list[UUID]] = defaultdict(list)
    for _, ident, slug in keys:
        ids_by_kind[slug].append(ident)
    loaded: dict[tuple[str, UUID], Any] = {}
    for slug, ids in ids_by_kind.items():
        kind = decision_kind(slug)
        qs = (
            kind.model.objects.filter(org=org, pk__in=ids)
            .select_related("order", "order__workspace", *kind.inbox_related)
            .prefetch_related(*kind.inbox_prefetch)
        )
        if with_groups:
            qs = qs.annotate(inbox_aoi_features=_aoi_features())
        loaded.update({(slug, obj.pk): obj for obj in qs})
    return [Decision(slug, loaded[(slug, ident)]) for _, ident, slug in keys if (slug, ident) in loaded]


def _aoi_features() -> Subquery:
    """The row's order groups as GeoJSON features (name, km²), built by PostGIS in the row's own
    query: no geometry is parsed in Python and no further query is made for the mini-maps."""
    name = Case(
        When(name="", then=Concat(Value("AOI "), Cast(F("position") + 1, CharField()))),
        default=F("name"),
        output_field=CharField(),
    )
    feature = JSONObject(
        type=Value("Feature"),
        geometry=Cast(AsGeoJSON("geometry", precision=6), JSONField()),
        properties=JSONObject(name=name, areaKm2=Round("area_km2", 1)),
    )
    groups = (
        OrderGroup.objects.filter(order_id=OuterRef("order_id"))
        .order_by()
        .values("order_id")
        .annotate(features=JSONBAgg(feature, order_by="position"))
        .values("features")
    )
    return Subquery(groups, output_field=JSONField())
