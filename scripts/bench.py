"""`make bench`: the product measured at catalog scale, side by side with the SQL it stands on.

    .venv/bin/python scripts/bench.py          (or: make bench; BENCH_CAPTURES=200000 make bench)

- Uses its own database (BENCH_DB, default geopera_bench; created with PostGIS and migrated if
  missing), never the development one.
- Seeds BENCH_CAPTURES captures (default 1,000,000, with `seed_catalog`'s generator and COPY; only
  what is missing), and an org with BENCH_DECISIONS pending decisions (default 10,000: studies with
  options, quotations and spend approvals in turn).
- Starts the project's gunicorn (2 workers) on loopback, with DEBUG off, and measures each request
  BENCH_REPEAT times (default 30): median and p95, and the ratio of the medians to a reference
  measured in the same run — the bare SQL statement the request stands on (timed from Python over
  the same driver), or /healthz for the framework floor.
- Prints one table and writes bench/results.json. Asserts nothing: the figures are reported.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DB = os.environ.get("BENCH_DB", "geopera_bench")
CAPTURES = int(os.environ.get("BENCH_CAPTURES", "1000000"))
DECISIONS = int(os.environ.get("BENCH_DECISIONS", "10000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
PORT = int(os.environ.get("BENCH_PORT", "8765"))
STREAM_ITEMS = int(os.environ.get("BENCH_STREAM_ITEMS", "20000"))
# Which measurements to run (comma-separated; default all): inbox, search, stream, estimate, tiles,
# coverage, deliveries.
ONLY = {s.strip() for s in os.environ.get("BENCH_ONLY", "").split(",") if s.strip()}
DB_URL = f"postgis://geopera:geopera@127.0.0.1:5432/{DB}"

SERVER_ENV = {
    "DATABASE_URL": DB_URL,
    "DEBUG": "false",
    # Fixed (a benchmark, never served): the seeding process and gunicorn must hash tokens alike.
    "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "ALLOW_TEST_PAYMENT_GATEWAY": "true",
    "API_RATE_LIMIT": "100000000/min",
    "TILES_RATE_LIMIT": "100000000/min",
    "CACHE_KEY_PREFIX": f"{DB}-bench",
    "CELERY_QUEUE": f"{DB}-bench",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(SERVER_ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geopera_web.settings")
sys.path.insert(0, str(ROOT))


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def prepare_database() -> None:
    subprocess.run(
        [str(ROOT / "scripts/create-database.sh")], check=True, env={**os.environ, "GEOPERA_DB_NAME": DB}
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], check=True, cwd=ROOT, env=os.environ
    )


# --- seeding (inside Django) --------------------------------------------------------------------


def seed_captures() -> int:
    from django.db import connection
    from django.utils import timezone

    from orders.catalog.data import generate_scenes
    from orders.catalog.services import archive_products_ensure, captures_bulk_load
    from orders.models import Capture

    archive_products_ensure()
    have = Capture.objects.count()
    if have < CAPTURES:
        log(f"seeding captures: {have:,} present, {CAPTURES:,} wanted")
        started = time.perf_counter()
        # The generator is deterministic: the first `have` scenes are the ones already there.
        captures_bulk_load(rows=generate_scenes(count=CAPTURES, seed=1, end_date=timezone.now().date()))
        log(f"captures seeded in {time.perf_counter() - started:.0f}s")
        with connection.cursor() as c:
            c.execute("VACUUM ANALYZE orders_capture")
    return Capture.objects.count()


def seed_decisions() -> dict[str, Any]:
    """An org with DECISIONS pending decisions (studies with 3 options, quotations, approvals in
    turn), each on its own pending tasking order with one AOI; an admin with a bearer token and a
    logged-in session."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.gis.geos import MultiPolygon, Polygon
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from geopera_web.accounts.models import Membership, Organization, User, Workspace
    from geopera_web.accounts.services import org_create, user_token_create
    from orders.approvals.models import SpendApproval
    from orders.models import DataProduct, Order, OrderGroup, OrderType
    from tasking.models import FeasibilityOption, FeasibilityStudy, Quotation
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()
    org = Organization.objects.filter(name="Bench Org").first()
    if org is None:
        org = org_create(name="Bench Org", billing_mode="credit")
    user = User.objects.filter(username="bench-admin@bench.test").first()
    if user is None:
        user = User.objects.create_user(email="bench-admin@bench.test", password=secrets.token_hex(8))
        Membership.objects.get_or_create(user=user, org=org, defaults={"role": "admin"})
    workspace = Workspace.objects.filter(org=org).first() or Workspace.objects.create(
        org=org, name="Default workspace", is_default=True
    )
    have = sum(
        m.objects.filter(org=org, decision="PENDING").count()
        for m in (FeasibilityStudy, Quotation, SpendApproval)
    )
    if have < DECISIONS:
        log(f"seeding decisions: {have:,} present, {DECISIONS:,} wanted")
        product = DataProduct.objects.filter(order_type=OrderType.TASKING).order_by("id").first()
        now = timezone.now()
        n = DECISIONS - have
        orders = Order.objects.bulk_create(
            [
                Order(
                    org=org,
                    workspace=workspace,
                    order_type=OrderType.TASKING,
                    status=Order.Status.PENDING,
                    display_name=f"Bench order {i}",
                    data_product=product,
                    billing_mode=org.billing_mode,
                    params={},
                )
                for i in range(n)
            ],
            batch_size=2000,
        )
        groups = []
        for i, o in enumerate(orders):
            x, y = 140 + (i % 100) * 0.1, -35 + (i // 100) * 0.05
            geom = MultiPolygon(Polygon.from_bbox((x, y, x + 0.08, y + 0.04)), srid=4326)
            groups.append(
                OrderGroup(
                    order=o,
                    position=0,
                    name="AOI 1",
                    data_product=product,
                    geometry=geom,
                    area_km2=30.0,
                    billed_area_km2=30.0,
                    credits=1000,
                )
            )
        OrderGroup.objects.bulk_create(groups, batch_size=2000)
        studies, quotes, approvals = [], [], []
        for i, o in enumerate(orders):
            if i % 3 == 0:
                studies.append(FeasibilityStudy(org=org, order=o, deadline=now + timedelta(days=30)))
            elif i % 3 == 1:
                quotes.append(
                    Quotation(org=org, order=o, credits=10_000 + i, valid_until=now + timedelta(days=30))
                )
            else:
                approvals.append(
                    SpendApproval(
                        org=org,
                        workspace=workspace,
                        order=o,
                        action=SpendApproval.Action.ARCHIVE_PLACE,
                        credits=20_000 + i,
                        expires_at=now + timedelta(days=30),
                    )
                )
        FeasibilityStudy.objects.bulk_create(studies, batch_size=2000)
        Quotation.objects.bulk_create(quotes, batch_size=2000)
        SpendApproval.objects.bulk_create(approvals, batch_size=2000)
        FeasibilityOption.objects.bulk_create(
            [
                FeasibilityOption(
                    study=s,
                    position=p,
                    description=f"Option {p + 1}",
                    window_start=now + timedelta(days=1),
                    window_end=now + timedelta(days=10 + p),
                    max_off_nadir=20.0 + p,
                    price_credits=None if p == 0 else 10_000 * p,
                    valid_until=now + timedelta(days=30),
                )
                for s in studies
                for p in range(3)
            ],
            batch_size=5000,
        )
        from django.db import connection

        with connection.cursor() as c:
            for table in (
                "tasking_feasibilitystudy",
                "tasking_quotation",
                "orders_spendapproval",
                "orders_order",
            ):
                c.execute(f"ANALYZE {table}")
    _, token = user_token_create(user=user, org=org, name="bench")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {"org": org, "token": token, "session": session.session_key}


# --- a tasking order with a large AOI and many deliveries (coverage and deliveries sections) ------

LARGE_FOOTPRINTS = int(os.environ.get("BENCH_FOOTPRINTS", "1000"))
LARGE_ORDER_NAME = "Bench large AOI order"
# ≈500 × 500 km over inland Australia (4.497° of latitude; 4.956° of longitude at 25° S).
LARGE_AOI_BBOX = (131.522, -27.2485, 136.478, -22.7515)


def _large_footprints(n: int) -> list[tuple[str, Any]]:
    """`n` deterministic footprints: rotated 0.12° × 0.30° strips (≈12 × 33 km) scattered over the
    AOI and a margin around it, so some stick out of it and many overlap (≈80 % covered)."""
    import math
    import random

    from django.contrib.gis.geos import MultiPolygon, Polygon

    rng = random.Random(11)
    x0, y0, x1, y1 = LARGE_AOI_BBOX
    out = []
    for i in range(n):
        cx, cy = rng.uniform(x0 - 0.2, x1 + 0.2), rng.uniform(y0 - 0.2, y1 + 0.2)
        theta = math.radians(rng.uniform(-12, 12))
        hw, hl = 0.06, 0.15
        corners = [(-hw, -hl), (hw, -hl), (hw, hl), (-hw, hl)]
        ring = [
            (
                cx + dx * math.cos(theta) - dy * math.sin(theta),
                cy + dx * math.sin(theta) + dy * math.cos(theta),
            )
            for dx, dy in corners
        ]
        out.append((f"BENCH-L-{i:05d}", MultiPolygon(Polygon([*ring, ring[0]]), srid=4326)))
    return out


def seed_large_order(ctx: dict[str, Any]) -> dict[str, Any]:
    """The org's ACTIVE tasking order with one ≈500 × 500 km AOI, an authorized charge and
    LARGE_FOOTPRINTS delivered captures in batches of 10 (with their delivery events), and a current
    coverage snapshot; only what is missing is written."""
    from django.contrib.gis.geos import MultiPolygon, Polygon
    from django.db import transaction
    from django.utils import timezone

    from geopera_web.billing.services import charge_authorize, wallet_topup
    from orders.coverage.services import coverage_recompute
    from orders.events import event_delivery_received
    from orders.fulfilment.models import DeliveredCapture, DeliveryBatch
    from orders.models import DataProduct, Order, OrderGroup, OrderType
    from orders.services import order_transition

    org = ctx["org"]
    order = Order.objects.filter(org=org, display_name=LARGE_ORDER_NAME).first()
    if order is None:
        log("seeding the large-AOI tasking order")
        product = DataProduct.objects.filter(order_type=OrderType.TASKING).order_by("id").first()
        now = timezone.now()
        with transaction.atomic():
            order = Order.objects.create(
                org=org,
                workspace=org.workspaces.order_by("created_at").first(),
                order_type=OrderType.TASKING,
                status=Order.Status.PENDING,
                display_name=LARGE_ORDER_NAME,
                data_product=product,
                billing_mode=org.billing_mode,
                total_credits=5_000_000,
                params={
                    "acquisitionStart": (now - timedelta(days=30)).isoformat().replace("+00:00", "Z"),
                    "acquisitionEnd": (now + timedelta(days=300)).isoformat().replace("+00:00", "Z"),
                },
            )
            OrderGroup.objects.create(
                order=order,
                position=0,
                name="AOI 500 × 500 km",
                data_product=product,
                geometry=MultiPolygon(Polygon.from_bbox(LARGE_AOI_BBOX), srid=4326),
                area_km2=250_000.0,
                billed_area_km2=250_000.0,
                credits=5_000_000,
            )
            wallet_topup(org=org, credits=5_000_000, memo="bench")
            order.charge = charge_authorize(org=org, credits=5_000_000, reference=f"order:{order.pk}")
            order.save(update_fields=["charge"])
            order_transition(order=order, to=Order.Status.ACTIVE, message="Bench: quotation accepted.")
    group = order.groups.get()
    have = set(DeliveredCapture.objects.filter(order=order).values_list("scene_id", flat=True))
    missing = [(s, fp) for s, fp in _large_footprints(LARGE_FOOTPRINTS) if s not in have]
    if missing:
        log(f"seeding deliveries: {len(have):,} present, {LARGE_FOOTPRINTS:,} wanted")
        now = timezone.now()
        with transaction.atomic():
            for start in range(0, len(missing), 10):
                chunk = missing[start : start + 10]
                ref = f"bench-batch-{chunk[0][0]}"
                batch = DeliveryBatch.objects.create(order=order, ref=ref, provider="bench", received_at=now)
                DeliveredCapture.objects.bulk_create(
                    [
                        DeliveredCapture(
                            order=order,
                            group=group,
                            batch=batch,
                            scene_id=scene,
                            footprint=fp,
                            acquired_at=now - timedelta(hours=1 + start),
                            delivered_at=now,
                            cloud_cover=5.0,
                            assets={
                                "visual": {
                                    "href": f"https://assets.bench.test/{scene}/visual.tif",
                                    "type": "image/tiff; application=geotiff",
                                    "roles": ["visual"],
                                }
                            },
                            properties={"platform": "bench-sat", "gsd": 0.5},
                        )
                        for scene, fp in chunk
                    ]
                )
                event_delivery_received(
                    order=order, actor=None, batch_ref=ref, delivered=len(chunk), failed=0
                )
        from django.db import connection

        with connection.cursor() as c:
            c.execute("ANALYZE orders_deliveredcapture")
    # A snapshot for the deliveries as they are (writes nothing when the latest one is current).
    coverage_recompute(order_id=order.pk)
    return {"order": order, "group": group}


# --- the server and the client ------------------------------------------------------------------


def start_server() -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "geopera_web.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=os.environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(150):
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}): is port {PORT} in use? (BENCH_PORT)")
        try:
            get("/healthz")
            return proc
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not start")


_local_conns: dict[int, http.client.HTTPConnection] = {}


def _conn() -> http.client.HTTPConnection:
    import threading

    key = threading.get_ident()
    if key not in _local_conns:
        _local_conns[key] = http.client.HTTPConnection("127.0.0.1", PORT, timeout=300)
    return _local_conns[key]


def request(
    method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    import threading

    conn = _conn()
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json", **(headers or {})} if data else dict(headers or {})
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
    except Exception:
        conn.close()
        _local_conns.pop(threading.get_ident(), None)
        raise
    if resp.status >= 400:
        raise RuntimeError(f"{method} {path} -> {resp.status}: {payload[:300]!r}")
    return resp.status, payload


def get(path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    return request("GET", path, headers=headers)


def timed(fn, repeat: int = REPEAT) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def stats(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"median_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2), "n": len(ordered)}


def sql_timer(sql: str, params: list[Any] | tuple | None = ()):
    from django.db import connection

    def run() -> None:
        with connection.cursor() as c:
            c.execute(sql, params)
            c.fetchall()

    return run


ROWS: list[dict[str, Any]] = []


def record(
    what: str, product: dict[str, float], reference: dict[str, float] | None, ref_name: str, note: str = ""
):
    ratio = (
        round(product["median_ms"] / reference["median_ms"], 2)
        if reference and reference["median_ms"]
        else None
    )
    ROWS.append(
        {
            "what": what,
            "product": product,
            "reference": reference,
            "reference_is": ref_name,
            "ratio": ratio,
            "note": note,
        }
    )
    ref = f"{reference['median_ms']:.1f} / {reference['p95_ms']:.1f}" if reference else "—"
    log(f"{what}: {product['median_ms']:.1f} / {product['p95_ms']:.1f} ms (ref {ref}) ratio {ratio}")


# --- the measurements ---------------------------------------------------------------------------


def _statement_of(fn) -> tuple[str, int]:
    """The SQL statement `fn` runs (its longest, with the parameters inlined) and how many it runs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as q:
        fn()
    return max((x["sql"] for x in q.captured_queries), key=len), len(q.captured_queries)


def _workers(master: int) -> list[int]:
    """The worker processes gunicorn spawned (children of its master)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                out.append(int(entry.name))
    return sorted(out)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def bench_inbox(ctx: dict[str, Any]) -> None:
    from urllib.parse import quote

    from django.test import RequestFactory

    from geopera_web.accounts.models import Membership
    from orders.inbox import decisions_page
    from tasking.views.inbox import PAGE_SIZE, _inbox_context

    api = {"Authorization": f"Bearer {ctx['token']}"}
    op = "/v1/op/orders.tasking.decisions.pending"
    org = ctx["org"]
    size = 20
    last_page = max(0, (DECISIONS - 1) // size)

    # The reference is the ideal single statement for the page: the same page with every item's
    # data the API serialises (the decision, its order, a study's options, an approval's requester)
    # and the total. The product runs exactly that statement (orders.inbox.decisions_page, captured
    # here) plus its serialisation, so the ratio is the cost of the framework and the JSON.
    def api_page(**kw: Any) -> Any:
        return decisions_page(org=org, size=size, with_groups=False, with_total=True, **kw)

    first_sql, n_first = _statement_of(lambda: api_page())
    far_sql, _ = _statement_of(lambda: api_page(offset=last_page * size))
    cursor = api_page(offset=max(0, DECISIONS - 2 * size)).next_cursor
    ks_sql, n_ks = _statement_of(lambda: api_page(cursor=cursor))
    ref_first = stats(timed(sql_timer(first_sql, None)))
    ref_far = stats(timed(sql_timer(far_sql, None)))
    ref_ks = stats(timed(sql_timer(ks_sql, None)))
    first = stats(timed(lambda: request("POST", op, {"size": size}, api)))
    far = stats(timed(lambda: request("POST", op, {"size": size, "page": last_page}, api)))
    ks = stats(timed(lambda: request("POST", op, {"size": size, "cursor": cursor}, api)))
    note = f"{n_first} statement(s) for the page"
    record("decisions.pending page 0 (size 20)", first, ref_first, "its page statement (items + total)", note)
    record(f"decisions.pending page {last_page} (OFFSET)", far, ref_far, "its page statement (OFFSET)")
    record(
        "decisions.pending last page (cursor)",
        ks,
        ref_ks,
        "its page statement (keyset)",
        f"{n_ks} statement(s)",
    )
    record(
        "decisions.pending last / first page",
        {"median_ms": ks["median_ms"], "p95_ms": ks["p95_ms"]},
        first,
        "page 0 of the API",
    )
    # The framework's share: the same operation on a page that is empty (a workspace with nothing
    # waiting), against the same statement for it.
    empty_ws = "00000000-0000-4000-8000-000000000000"
    empty_sql, _ = _statement_of(lambda: api_page(workspace_id=empty_ws))
    ref_empty = stats(timed(sql_timer(empty_sql, None)))
    empty = stats(timed(lambda: request("POST", op, {"size": size, "workspaceId": empty_ws}, api)))
    record("decisions.pending empty page (framework floor)", empty, ref_empty, "its page statement")

    # /inbox/: the view's own reads (besides session, user and membership), captured in-process.
    user = Membership.objects.filter(org=org, role="admin").select_related("user").first()

    def view_context(query: str = "") -> None:
        req = RequestFactory().get("/inbox/" + query)
        req.org, req.user = org, user.user
        req.membership, req.memberships = user, [user]
        _inbox_context(req, full_page=True)

    far_rows = decisions_page(org=org, size=PAGE_SIZE, offset=max(0, DECISIONS - 2 * PAGE_SIZE))
    after = far_rows.next_cursor or ""
    inbox_sql, n_inbox = _statement_of(view_context)
    _, n_inbox_far = _statement_of(lambda: view_context(f"?after={quote(after)}"))
    ref_inbox = stats(timed(sql_timer(inbox_sql, None)))
    cookie = {"Cookie": f"sessionid={ctx['session']}"}
    inbox_first = stats(timed(lambda: get("/inbox/", cookie)))
    inbox_far = stats(timed(lambda: get(f"/inbox/?after={quote(after)}", cookie)))
    record(
        "/inbox/ page 1",
        inbox_first,
        ref_inbox,
        "its page statement (rows, counts, badges, wallet, workspaces)",
        f"{n_inbox} + 3 queries (session, user, membership)",
    )
    record(
        "/inbox/ last page (cursor)",
        inbox_far,
        inbox_first,
        "/inbox/ page 1",
        f"{n_inbox_far} + 3 queries",
    )
    since = quote(time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()))
    fresh = stats(timed(lambda: get(f"/inbox/fresh/?since={since}", cookie)))
    healthz = stats(timed(lambda: get("/healthz")))
    record("/inbox/fresh/ (the 15 s poll)", fresh, healthz, "/healthz")

    # Memory: each gunicorn worker's RSS before and after N inbox requests (first and last pages
    # in turn), then N more from 8 clients at once.
    workers = _workers(ctx["server_pid"])
    before = [_rss_mb(w) for w in workers]
    n = max(100, REPEAT * 10)
    paths = ["/inbox/", f"/inbox/?after={quote(after)}"]
    for i in range(n):
        get(paths[i % 2], cookie)
    after_seq = [_rss_mb(w) for w in workers]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: get(paths[i % 2], cookie), range(n)))
    after_c8 = [_rss_mb(w) for w in workers]
    ROWS.append(
        {
            "what": f"gunicorn worker RSS (MB), {len(workers)} workers, {n} /inbox/ requests then {n} at c8",
            "product": {
                "before": " + ".join(map(str, before)),
                "after": " + ".join(map(str, after_seq)),
                "after c8": " + ".join(map(str, after_c8)),
            },
            "reference": None,
            "reference_is": "",
            "ratio": round(sum(after_c8) / sum(before), 2) if sum(before) else None,
            "note": "",
        }
    )
    log(f"worker RSS MB: before {before}, after {n} requests {after_seq}, after {n} more at c8 {after_c8}")


def _page_statement(body: dict[str, Any], limit: int) -> tuple[str, list[Any]]:
    """The statement catalog.search runs for a first page (ids on the sort keys, then the page's
    Items written by PostgreSQL; with the exact count when the planner expects few matches)."""
    from orders.catalog.selectors import (
        STAC_EXTENSIONS,
        build_params,
        catalog_estimate,
        catalog_page_items_sql,
    )
    from orders.catalog.stac_query import parse_fields
    from orders.catalog.stac_sql import item_sql

    params = build_params(body, limit=limit, host="geopera-sim")
    item = item_sql(
        fields=parse_fields(body.get("fields")), base_url="", stac_root=None, extensions=STAC_EXTENSIONS
    )
    assert item is not None
    from django.conf import settings

    with_count = catalog_estimate(params) <= settings.CATALOG_EXACT_COUNT_MAX
    return catalog_page_items_sql(params, limit=limit, item=item, with_count=with_count)


def _plan(sql: str, params: list[Any], *, settings: str = "") -> str:
    """EXPLAIN ANALYZE of a statement, its node lines only (no filters and conditions)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as c:
        for setting in filter(None, settings.split(";")):
            c.execute(f"SET LOCAL {setting}")
        c.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, params)
        lines = [r[0] for r in c.fetchall()]
    keep = ("->", "Sort", "Limit", "Planning", "Execution", "Nested", "Window", "Gather", "Bitmap", "Index")
    return "\n".join(line for line in lines if line.strip().startswith(keep) or "Scan" in line)


def _plan_kind(plan: str) -> str:
    if "orders_capture_footprint" in plan:
        return "GiST"
    return "newest-first B-tree" if "orders_capture_keyset" in plan else "other"


def sql_timer_with(sql: str, params: list[Any], settings: str):
    from django.db import connection, transaction

    def run() -> None:
        with transaction.atomic(), connection.cursor() as c:
            for setting in settings.split(";"):
                c.execute(f"SET LOCAL {setting}")
            c.execute(sql, params)
            c.fetchall()

    return run


# What the archive page's list asks for (static/js/archive.js): what its rows and popups show.
ARCHIVE_LIST_FIELDS = {
    "include": [
        "geometry",
        "assets.thumbnail.href",
        "assets.overview.href",
        "properties.datetime",
        "properties.eo:cloud_cover",
        "properties.view:off_nadir",
        "properties.gsd",
        "properties.price.product_name",
        "properties.price.area_km2",
        "properties.price.credits",
    ]
}


def bench_search(ctx: dict[str, Any]) -> dict[str, Any]:
    api = {"Authorization": f"Bearer {ctx['token']}"}
    op = "/v1/op/catalog.search"
    healthz = stats(timed(lambda: get("/healthz")))
    record("/healthz (framework floor reference)", healthz, None, "—")
    cases = {
        "z4 Australia": [112.0, -44.0, 154.0, -10.0],
        "z9 Sydney": [150.5, -34.3, 151.6, -33.4],
        "z12 suburb": [151.1, -33.95, 151.3, -33.75],
    }
    explain: dict[str, str] = {}
    plans: dict[str, str] = {}
    for name, bbox in cases.items():
        for variant, extra in (("", {}), (", archive list fields", {"fields": ARCHIVE_LIST_FIELDS})):
            body = {
                "host_name": "geopera-sim",
                "bbox": bbox,
                "limit": 100,
                "query": {"eo:cloud_cover": {"lt": 20}},
                **extra,
            }
            sql, sql_params = _page_statement(body, limit=101)
            plan = _plan(sql, sql_params)
            explain[name] = _plan_kind(plan)
            if not variant:
                plans[name] = plan
                print(f"--- EXPLAIN ANALYZE catalog.search {name} (limit 100):\n{plan}", flush=True)
            ref = stats(timed(sql_timer(sql, sql_params)))
            prod = stats(timed(lambda body=body: request("POST", op, body, api)))
            size = len(request("POST", op, body, api)[1])
            record(
                f"catalog.search {name} (limit 100{variant}), plan: {explain[name]}",
                prod,
                ref,
                "its page statement",
                note=f"{size / 100:,.0f} B/item",
            )
        if name == "z4 Australia":
            # The spatial index forced at z4, the id step sorting narrow (acquired_at, id) rows.
            body = {
                "host_name": "geopera-sim",
                "bbox": bbox,
                "limit": 100,
                "query": {"eo:cloud_cover": {"lt": 20}},
            }
            sql, sql_params = _page_statement(body, limit=101)
            forced = "enable_indexscan = off;enable_seqscan = off"
            plan = _plan(sql, sql_params, settings=forced)
            plans["z4 Australia, GiST forced"] = plan
            print(f"--- EXPLAIN ANALYZE z4 with the GiST index forced:\n{plan}", flush=True)
            ref = stats(timed(sql_timer(sql, sql_params)))
            record(
                f"z4 Australia page statement, GiST forced ({_plan_kind(plan)}, footprint-free sort)",
                stats(timed(sql_timer_with(sql, sql_params, forced), repeat=max(3, REPEAT // 4))),
                ref,
                "the planner's plan",
            )
    empty = {"host_name": "geopera-sim", "bbox": [-30.0, -60.0, -29.9, -59.9], "limit": 10}
    sql, sql_params = _page_statement(empty, limit=11)
    floor = stats(timed(lambda: request("POST", op, empty, api)))
    record(
        "catalog.search empty area (framework floor)",
        floor,
        stats(timed(sql_timer(sql, sql_params))),
        "its SQL",
    )
    ROWS.append(
        {
            "what": "framework floor over /healthz (ms)",
            "ratio": None,
            "note": round(floor["median_ms"] - healthz["median_ms"], 2),
        }
    )
    # throughput at concurrency 8, 2 workers
    body = {"host_name": "geopera-sim", "bbox": cases["z9 Sydney"], "limit": 100}
    n = max(40, REPEAT * 2)

    def one(_: int) -> None:
        request("POST", op, body, api)

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(n)))
    rps = n / (time.perf_counter() - started)
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: get("/healthz"), range(n * 4)))
    h_rps = n * 4 / (time.perf_counter() - started)
    ROWS.append(
        {
            "what": "catalog.search z9 throughput c8 (req/s)",
            "product": {"rps": round(rps, 1)},
            "reference": {"rps": round(h_rps, 1)},
            "reference_is": "/healthz c8",
            "ratio": round(rps / h_rps, 3),
        }
    )
    log(f"catalog.search c8: {rps:.1f} req/s; /healthz c8: {h_rps:.1f} req/s")
    return {"explain": explain, "plans": plans}


def bench_stream(ctx: dict[str, Any]) -> None:
    from django.db import connection, transaction

    from orders.catalog.selectors import build_params, catalog_queryset

    params = build_params({}, limit=0, host="geopera-sim")
    qs = catalog_queryset(params)[:STREAM_ITEMS]
    sql, sql_params = qs.query.sql_with_params()

    def ref_run() -> tuple[float, float]:
        with transaction.atomic(), connection.cursor() as plain:
            raw = plain.cursor.connection.cursor(name="bench_stream")
            t = time.perf_counter()
            raw.execute(sql, sql_params)
            raw.fetchmany(1)
            first = time.perf_counter() - t
            n = 1
            while batch := raw.fetchmany(1000):
                n += len(batch)
            total = time.perf_counter() - t
            raw.close()
        return first * 1000, n / total

    def prod_run() -> tuple[float, float]:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=600)
        body = json.dumps({"host_name": "geopera-sim", "limit": STREAM_ITEMS}).encode()
        t = time.perf_counter()
        conn.request(
            "POST",
            "/v1/op/catalog.search_stream",
            body=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {ctx['token']}"},
        )
        resp = conn.getresponse()
        resp.readline()
        first = time.perf_counter() - t
        n = 1
        while resp.readline():
            n += 1
        total = time.perf_counter() - t
        conn.close()
        return first * 1000, n / total

    reps = max(3, REPEAT // 6)
    ref = [ref_run() for _ in range(reps)]
    prod = [prod_run() for _ in range(reps)]
    record(
        f"catalog.search_stream first item ({STREAM_ITEMS:,} items)",
        stats([p[0] for p in prod]),
        stats([r[0] for r in ref]),
        "the SQL's first row (cursor in a transaction)",
    )
    p_ips, r_ips = statistics.median(p[1] for p in prod), statistics.median(r[1] for r in ref)
    ROWS.append(
        {
            "what": "catalog.search_stream items/s",
            "product": {"items_per_s": round(p_ips)},
            "reference": {"rows_per_s": round(r_ips)},
            "reference_is": "the SQL's rows/s",
            "ratio": round(p_ips / r_ips, 2),
        }
    )
    log(f"stream items/s {p_ips:,.0f} vs SQL rows/s {r_ips:,.0f}")


def bench_estimate(ctx: dict[str, Any]) -> None:
    from orders.cart import pricing
    from orders.models import Capture

    api = {"Authorization": f"Bearer {ctx['token']}"}
    ids = list(
        Capture.objects.filter(
            footprint__intersects="SRID=4326;POLYGON((150 -34.5,152 -34.5,152 -33,150 -33,150 -34.5))"
        ).values_list("scene_id", "id")[:300]
    )
    clip = {
        "type": "Polygon",
        "coordinates": [[[150.5, -34.3], [151.6, -34.3], [151.6, -33.4], [150.5, -33.4], [150.5, -34.3]]],
    }
    body = {"captures": [{"id": s, "geometry": clip} for s, _ in ids], "splitByDate": True}
    quote = pricing.archive_quote(captures=body["captures"], split_by_date=True)
    groups = {g.data_product.pk: i for i, g in enumerate(quote.groups)}
    from django.contrib.gis.geos import GEOSGeometry

    hexclip = GEOSGeometry(json.dumps(clip), srid=4326).hexewkb
    hexclip = hexclip.decode() if isinstance(hexclip, bytes) else hexclip
    rows = [(i % max(1, len(groups)), i, pk, hexclip) for i, (_, pk) in enumerate(ids)]
    ref = stats(
        timed(
            sql_timer(
                pricing._GROUP_SQL,
                [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows]],
            )
        )
    )
    prod = stats(timed(lambda: request("POST", "/v1/op/orders.archive.estimate", body, api)))
    record(f"orders.archive.estimate, {len(ids)} captures, clip + splitByDate", prod, ref, "its pricing SQL")


def _mvt_counts(data: bytes) -> dict[str, int]:
    """Features per layer of a Mapbox Vector Tile (a minimal protobuf walk: Tile.layers = 3,
    Layer.name = 1, Layer.features = 2)."""

    def varint(buf: bytes, i: int) -> tuple[int, int]:
        shift = value = 0
        while True:
            b = buf[i]
            i += 1
            value |= (b & 0x7F) << shift
            if b < 0x80:
                return value, i
            shift += 7

    def fields(buf: bytes):
        i = 0
        while i < len(buf):
            key, i = varint(buf, i)
            num, wire = key >> 3, key & 7
            if wire == 0:
                val, i = varint(buf, i)
                yield num, val
            elif wire == 2:
                n, i = varint(buf, i)
                yield num, buf[i : i + n]
                i += n
            elif wire == 1:
                i += 8
            elif wire == 5:
                i += 4
            else:
                raise ValueError(f"wire type {wire}")

    counts: dict[str, int] = {}
    for num, layer in fields(data):
        if num != 3:
            continue
        name, features = "", 0
        for lnum, val in fields(layer):
            if lnum == 1:
                name = val.decode()
            elif lnum == 2:
                features += 1
        counts[name] = counts.get(name, 0) + features
    return counts


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


TIPG_PORT = int(os.environ.get("BENCH_TIPG_PORT", str(PORT + 1)))
TIPG_BIN = Path(os.environ.get("BENCH_TIPG", str(ROOT / "var/tools/tipg/bin/uvicorn")))
TILE_MAX_BYTES = 500_000
# The captures' columns the map's tiles carry, for tipg's tiles (tipg has no join: no credits).
TIPG_PROPERTIES = ["scene_id", "collection", "acquired_at", "cloud_cover", "off_nadir", "gsd"]


def start_tipg() -> subprocess.Popen | None:
    """tipg (its own virtualenv, `make tipg`) on loopback over the bench DB's capture table, with
    its defaults (10,000 features per tile at most) but the footprint as geometry and the columns
    the map uses. Run from an empty directory: tipg reads a `.env` from its working directory."""
    if not TIPG_BIN.exists():
        log(f"tipg not installed ({TIPG_BIN}; `make tipg`): tiles measured without it")
        return None
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-tipg-{DB}"
    workdir.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": f"postgresql://geopera:geopera@127.0.0.1:5432/{DB}",
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.orders_capture"]',
        "TIPG_DB_FUNCTIONS": "[]",
        "TIPG_DB_SPATIAL_EXTENT": "false",
        "TIPG_DB_DATETIME_EXTENT": "false",
        "TIPG_TABLE_CONFIG__public_orders_capture__geomcol": "footprint",
        "TIPG_TABLE_CONFIG__public_orders_capture__datetimecol": "acquired_at",
        "TIPG_TABLE_CONFIG__public_orders_capture__pk": "id",
        "TIPG_TABLE_CONFIG__public_orders_capture__properties": json.dumps(TIPG_PROPERTIES),
    }
    proc = subprocess.Popen(
        [
            str(TIPG_BIN),
            "tipg.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(TIPG_PORT),
            "--workers",
            "2",
            "--log-level",
            "warning",
            # The bench's client keeps one connection per thread, idle while it times the others.
            "--timeout-keep-alive",
            "600",
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"tipg exited ({proc.returncode}): is port {TIPG_PORT} in use?")
        try:
            c = http.client.HTTPConnection("127.0.0.1", TIPG_PORT, timeout=5)
            c.request("GET", "/collections/public.orders_capture")
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                return proc
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("tipg did not start")


_tipg_conns: dict[int, http.client.HTTPConnection] = {}


def tipg_get(path: str) -> bytes:
    import threading

    key = threading.get_ident()
    conn = _tipg_conns.get(key)
    if conn is None:
        conn = _tipg_conns[key] = http.client.HTTPConnection("127.0.0.1", TIPG_PORT, timeout=300)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
    except http.client.RemoteDisconnected:  # an idle keep-alive connection closed: once more
        conn.close()
        conn = _tipg_conns[key] = http.client.HTTPConnection("127.0.0.1", TIPG_PORT, timeout=300)
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
    except Exception:
        conn.close()
        _tipg_conns.pop(key, None)
        raise
    if resp.status != 200:
        raise RuntimeError(f"tipg {path} -> {resp.status}: {body[:300]!r}")
    return body


def _tile_cases() -> list[tuple[str, int, int, int]]:
    """z4–z14, two tiles each: crowded (over Sydney, the catalog's densest area) and sparse (over
    the level-8 summary cell with the fewest captures, i.e. the emptiest place that has any)."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            "SELECT ST_X(ST_Transform(tile_point, 4326)), ST_Y(ST_Transform(tile_point, 4326)) "
            "FROM orders_capture c JOIN (SELECT cx, cy FROM orders_capturedensity WHERE level = 8 "
            "GROUP BY cx, cy HAVING sum(n) > 0 ORDER BY sum(n), cx, cy LIMIT 1) s "
            "ON orders_tile_cell(ST_X(c.tile_point), 256) = s.cx AND orders_tile_cell(-ST_Y(c.tile_point), 256) = s.cy "
            "ORDER BY c.tile_key LIMIT 1"
        )
        row = c.fetchone()
    sparse = (row[0], row[1]) if row else (20.0, -30.0)
    cases = []
    for z in range(4, 15):
        cases.append(("crowded", z, *_tile_of(151.2, -33.87, z)))
        cases.append(("sparse", z, *_tile_of(sparse[0], sparse[1], z)))
    return cases


def bench_tiles(ctx: dict[str, Any]) -> dict[str, Any]:
    """The archive map's vector tiles z4–z14 (a crowded and a sparse tile each) through gunicorn
    (session cookie, no If-None-Match: every request builds the tile), against the same tile
    statement run bare (as the view runs it: JIT off, `tile_fetch`) and against tipg serving
    the same table and tiles; concurrency 1 and 8; the 304 revalidation; bytes per tile (checked
    against 500 KB)."""
    from django.db import connection

    from orders.catalog.selectors import build_params
    from orders.catalog.tiles import TileAddress, capture_tile_sql, summary_level, tile_fetch

    cookie = {"Cookie": f"sessionid={ctx['session']}"}
    params = build_params({}, limit=1, host="geopera-sim")
    tipg = start_tipg()
    props = ",".join(TIPG_PROPERTIES)
    rows: list[dict[str, Any]] = []
    oversize: list[str] = []
    try:
        cases = _tile_cases()

        def bare(sql: str, sql_params: list[Any]):
            def run() -> None:
                with connection.cursor() as c:
                    tile_fetch(c, sql, sql_params)

            return run

        for kind, z, x, y in cases:
            tile = TileAddress(z, x, y)
            path = f"/tiles/captures/{z}/{x}/{y}.mvt"
            tpath = f"/collections/public.orders_capture/tiles/WebMercatorQuad/{z}/{x}/{y}?properties={props}"
            sql, sql_params = capture_tile_sql(tile=tile, params=params)
            _, body = get(path, cookie)
            counts = _mvt_counts(body)
            ref = stats(timed(bare(sql, sql_params)))
            prod = stats(timed(lambda path=path: get(path, cookie)))
            row: dict[str, Any] = {
                "tile": f"z{z} {kind} {z}/{x}/{y}",
                "bytes": len(body),
                "layers": counts,
                "density_from": (
                    ("summary" if summary_level(tile=tile, params=params) is not None else "live")
                    if "density" in counts
                    else None
                ),
                "product": prod,
                "statement": ref,
                "ratio_statement": round(prod["median_ms"] / ref["median_ms"], 2),
                "ratio_statement_p95": round(prod["p95_ms"] / ref["p95_ms"], 2),
            }
            if len(body) > TILE_MAX_BYTES:
                oversize.append(f"{path}: {len(body):,} B")
            if tipg:
                tbody = tipg_get(tpath)
                tp = stats(timed(lambda tpath=tpath: tipg_get(tpath)))
                row.update(
                    tipg=tp,
                    tipg_bytes=len(tbody),
                    tipg_features=sum(_mvt_counts(tbody).values()),
                    ratio_tipg=round(prod["median_ms"] / tp["median_ms"], 2),
                    ratio_tipg_p95=round(prod["p95_ms"] / tp["p95_ms"], 2),
                )
            rows.append(row)
            log(
                f"tile {row['tile']}: {len(body):,} B {counts}; product {prod['median_ms']} / {prod['p95_ms']} ms, "
                f"statement {ref['median_ms']} / {ref['p95_ms']} ms"
                + (
                    f", tipg {row['tipg']['median_ms']} / {row['tipg']['p95_ms']} ms ({row['tipg_bytes']:,} B)"
                    if tipg
                    else ""
                )
            )
        # Concurrency 8: each zoom band's tiles in turn, every tile requested REPEAT times.
        c8: list[dict[str, Any]] = []
        for band, zs in (("z4–z8", range(4, 9)), ("z9–z14", range(9, 15))):
            band_cases = [c for c in cases if c[1] in zs]
            n = len(band_cases) * max(2, REPEAT // 2)

            def measure(fn, band_cases=band_cases, n=n) -> tuple[dict[str, float], float]:
                times: list[float] = []

                def one(i: int) -> None:
                    t = time.perf_counter()
                    fn(band_cases[i % len(band_cases)])
                    times.append((time.perf_counter() - t) * 1000)

                started = time.perf_counter()
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(one, range(n)))
                return stats(times), n / (time.perf_counter() - started)

            stmts = {
                (z, x, y): capture_tile_sql(tile=TileAddress(z, x, y), params=params)
                for _, z, x, y in band_cases
            }

            def run_bare(case, stmts=stmts) -> None:
                bare(*stmts[case[1:]])()

            def run_prod(case) -> None:
                get(f"/tiles/captures/{case[1]}/{case[2]}/{case[3]}.mvt", cookie)

            def run_tipg(case) -> None:
                tipg_get(
                    f"/collections/public.orders_capture/tiles/WebMercatorQuad/{case[1]}/{case[2]}/{case[3]}"
                    f"?properties={props}"
                )

            prod, prod_tps = measure(run_prod)
            ref, ref_tps = measure(run_bare)
            entry = {
                "band": band,
                "product": prod,
                "product_tiles_per_s": round(prod_tps, 1),
                "statement": ref,
                "statement_tiles_per_s": round(ref_tps, 1),
                "ratio_statement": round(prod["median_ms"] / ref["median_ms"], 2),
                "ratio_statement_p95": round(prod["p95_ms"] / ref["p95_ms"], 2),
            }
            if tipg:
                tp, tp_tps = measure(run_tipg)
                entry.update(
                    tipg=tp,
                    tipg_tiles_per_s=round(tp_tps, 1),
                    ratio_tipg=round(prod["median_ms"] / tp["median_ms"], 2),
                    ratio_tipg_p95=round(prod["p95_ms"] / tp["p95_ms"], 2),
                )
            c8.append(entry)
            log(f"c8 {band}: {entry}")
    finally:
        if tipg:
            tipg.terminate()
            tipg.wait(timeout=30)
        for conn in _tipg_conns.values():
            conn.close()
    # The 304 revalidation of the crowded z4 tile.
    _, z, x, y = cases[0]
    path = f"/tiles/captures/{z}/{x}/{y}.mvt"
    c = _conn()
    c.request("GET", path, headers=cookie)
    resp = c.getresponse()
    resp.read()
    etag = resp.getheader("ETag")

    def revalidate() -> None:
        c = _conn()
        c.request("GET", path, headers={**cookie, "If-None-Match": etag})
        r = c.getresponse()
        r.read()
        if r.status != 304:
            raise RuntimeError(f"{path} with If-None-Match -> {r.status}")

    record(
        f"tile z{z} crowded unchanged (304)", stats(timed(revalidate)), rows[0]["product"], "the tile built"
    )
    largest = max(rows, key=lambda r: r["bytes"])
    log(f"largest tile {largest['tile']}: {largest['bytes']:,} B (limit {TILE_MAX_BYTES:,})")
    if oversize:
        log("TILES OVER 500 KB: " + "; ".join(oversize))
    return {
        "tiles": rows,
        "tiles_c8": c8,
        "tiles_oversize": oversize,
        "tiles_largest_bytes": largest["bytes"],
    }


def print_tiles(result: dict[str, Any]) -> None:
    def ms(x: dict[str, float] | None) -> str:
        return f"{x['median_ms']:.1f} / {x['p95_ms']:.1f}" if x else "—"

    print()
    print(
        "| tile | bytes, features | product p50 / p95 (ms) | ST_AsMVT statement p50 / p95 | ratio p50 / p95 "
        "| tipg p50 / p95 (ms) | tipg bytes, features | ratio to tipg p50 / p95 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in result["tiles"]:
        layers = ", ".join(f"{v:,} {k}" for k, v in sorted(r["layers"].items())) or "empty"
        if r["density_from"]:
            layers += f" ({r['density_from']})"
        tipg = r.get("tipg")
        print(
            f"| {r['tile']} | {r['bytes']:,} B, {layers} | {ms(r['product'])} | {ms(r['statement'])} "
            f"| {r['ratio_statement']} / {r['ratio_statement_p95']} | {ms(tipg)} "
            f"| {(str(format(r['tipg_bytes'], ',')) + ' B, ' + format(r['tipg_features'], ',')) if tipg else '—'} "
            f"| {(str(r['ratio_tipg']) + ' / ' + str(r['ratio_tipg_p95'])) if tipg else '—'} |"
        )
    for e in result["tiles_c8"]:
        tipg = e.get("tipg")
        print(
            f"| c8 {e['band']} ({e['product_tiles_per_s']} tiles/s; statement {e['statement_tiles_per_s']}"
            f"{'; tipg ' + str(e['tipg_tiles_per_s']) if tipg else ''}) | — | {ms(e['product'])} | {ms(e['statement'])} "
            f"| {e['ratio_statement']} / {e['ratio_statement_p95']} | {ms(tipg)} | — "
            f"| {(str(e['ratio_tipg']) + ' / ' + str(e['ratio_tipg_p95'])) if tipg else '—'} |"
        )
    over = result["tiles_oversize"]
    print(
        f"\nLargest tile {result['tiles_largest_bytes']:,} B; "
        + ("every tile under 500 KB." if not over else "OVER 500 KB: " + "; ".join(over))
    )


def timed_interleaved(a, b, repeat: int = REPEAT) -> tuple[list[float], list[float]]:
    """`timed` for two functions run turn about (a, b, a, b, …)."""
    a(), b()
    out_a, out_b = [], []
    for _ in range(repeat):
        for fn, out in ((a, out_a), (b, out_b)):
            t = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t) * 1000)
    return out_a, out_b


NAIVE_COVERAGE_SQL = """
SELECT ST_AsEWKB(r), ST_Area(r::geography) / 1e6
FROM (
    SELECT ST_Difference(
        g.geometry,
        (SELECT ST_Union(d.footprint) FROM orders_deliveredcapture d
         WHERE d.order_id = g.order_id AND d.status = 'delivered' AND ST_Intersects(d.footprint, g.geometry))
    ) AS r
    FROM orders_ordergroup g WHERE g.id = %s
) s
"""


def bench_coverage(ctx: dict[str, Any]) -> None:
    """The per-AOI covered-vs-remainder compute (orders.coverage.calculations) on the large AOI,
    against the naive ST_Difference(aoi, ST_Union(all)) measured in the same run; its figures
    checked against the independent shapely + pyproj computation of tests/coverage_reference.py;
    and a recompute with nothing new (the fingerprint only)."""
    from django.db import transaction

    from orders.coverage.calculations import compute_group_coverage
    from orders.coverage.services import coverage_recompute
    from orders.fulfilment.models import DeliveredCapture
    from tests.coverage_reference import independent

    order, group = ctx["large"]["order"], ctx["large"]["group"]
    n = DeliveredCapture.objects.filter(order=order, status="delivered").count()

    def product() -> None:
        compute_group_coverage(order_id=order.pk, group_ids=[group.pk])

    # Interleaved, so that a change in the machine's load falls on both alike.
    prod_ms, ref_ms = timed_interleaved(product, sql_timer(NAIVE_COVERAGE_SQL, [group.pk]))
    prod, ref = stats(prod_ms), stats(ref_ms)
    (cov,) = compute_group_coverage(order_id=order.pk, group_ids=[group.pk])
    footprints = [
        fp.wkt
        for fp in DeliveredCapture.objects.filter(order=order, status="delivered").values_list(
            "footprint", flat=True
        )
    ]
    req, covered, remainder = independent(group.geometry.wkt, footprints)
    error = max(
        abs(cov.requested_km2 - req), abs(cov.covered_km2 - covered), abs(cov.remainder_km2 - remainder)
    )
    record(
        f"coverage compute, {req:,.0f} km² AOI, {n:,} footprints",
        prod,
        ref,
        "the naive ST_Difference(aoi, ST_Union(all))",
        note=f"{cov.percent:.1f} % covered; off the shapely + pyproj figures by {error / req:.1e} of the AOI area",
    )
    ROWS[-1]["correctness"] = {
        "requested_km2": [cov.requested_km2, req],
        "covered_km2": [cov.covered_km2, covered],
        "remainder_km2": [cov.remainder_km2, remainder],
        "max_error_of_aoi": error / req,
    }

    def unchanged() -> None:
        with transaction.atomic():
            if coverage_recompute(order_id=order.pk):
                raise RuntimeError("a recompute with nothing new wrote a snapshot")

    record(
        "coverage recompute, nothing new (fingerprint only)",
        stats(timed(unchanged)),
        prod,
        "the compute",
    )


def _count_queries(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> int:
    """Queries one request runs, counted in this process through Django's test client (the same
    views and middleware gunicorn runs)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(
        HTTP_HOST="127.0.0.1",
        **{
            f"HTTP_{k.upper().replace('-', '_')}": v
            for k, v in (headers or {}).items()
            if k.lower() != "cookie"
        },
    )
    for k, v in (headers or {}).items():
        if k.lower() == "cookie":
            name, _, value = v.partition("=")
            client.cookies[name] = value
    with CaptureQueriesContext(connection) as q:
        if method == "GET":
            resp = client.get(path)
        else:
            resp = client.post(path, data=json.dumps(body), content_type="application/json")
    if resp.status_code >= 400:
        raise RuntimeError(f"{method} {path} -> {resp.status_code} (in process)")
    return len(q.captured_queries)


def bench_deliveries(ctx: dict[str, Any]) -> None:
    """A tasking order with a ≈500 × 500 km AOI and its deliveries: the order page, orders.get and
    orders.list_assets through gunicorn, with the queries each runs, against the SQL they stand on."""
    from orders.fulfilment.models import DeliveredCapture

    order = ctx["large"]["order"]
    n = DeliveredCapture.objects.filter(order=order).count()
    api = {"Authorization": f"Bearer {ctx['token']}"}
    cookie = {"Cookie": f"sessionid={ctx['session']}"}
    body = {"order_id": str(order.pk)}
    # What each stands on, one statement each: the order with its AOIs as GeoJSON; its delivered
    # rows as STAC needs them (GeoJSON footprint and bbox, assets, properties); the page's asset list.
    order_sql = (
        "SELECT o.*, (SELECT json_agg(json_build_object('id', g.id, 'credits', g.credits, 'geometry', "
        "ST_AsGeoJSON(g.geometry)::json) ORDER BY g.position) FROM orders_ordergroup g WHERE g.order_id = o.id) "
        "FROM orders_order o WHERE o.id = %s AND o.org_id = %s"
    )
    assets_sql = (
        "SELECT d.scene_id, ST_AsGeoJSON(d.footprint), Box2D(d.footprint)::text, d.assets, d.properties, "
        "d.acquired_at, d.delivered_at, d.cloud_cover, d.group_id, g.name "
        "FROM orders_deliveredcapture d JOIN orders_ordergroup g ON g.id = d.group_id "
        "WHERE d.order_id = %s AND d.status = 'delivered' ORDER BY d.acquired_at, d.scene_id"
    )
    page_sql = (
        "SELECT d.scene_id, d.assets -> 'visual' ->> 'href' FROM orders_deliveredcapture d "
        "WHERE d.order_id = %s AND d.status = 'delivered' ORDER BY d.acquired_at, d.scene_id"
    )
    org_id = ctx["org"].pk
    cases = [
        (
            "order page /orders/<id>/",
            "GET",
            f"/orders/{order.pk}/",
            None,
            cookie,
            (page_sql, [order.pk]),
            "its asset-list SQL",
        ),
        (
            "orders.get",
            "POST",
            "/v1/op/orders.get",
            body,
            api,
            (order_sql, [order.pk, org_id]),
            "the order + AOIs SQL",
        ),
        (
            "orders.list_assets",
            "POST",
            "/v1/op/orders.list_assets",
            body,
            api,
            (assets_sql, [order.pk]),
            "its delivered-rows SQL",
        ),
    ]
    for what, method, path, payload, headers, (sql, params), ref_name in cases:
        queries = _count_queries(method, path, payload, headers)
        prod_ms, ref_ms = timed_interleaved(
            lambda m=method, p=path, b=payload, h=headers: request(m, p, b, h), sql_timer(sql, params)
        )
        _, data = request(method, path, payload, headers)
        record(
            f"{what}, {n:,} deliveries",
            stats(prod_ms),
            stats(ref_ms),
            ref_name,
            note=f"{queries} queries, {len(data):,} B",
        )
        ROWS[-1]["queries"] = queries


# --- memory: the web workers and PostgreSQL, per section ----------------------------------------


def _worker_rss(server: subprocess.Popen) -> dict[int, float]:
    """{pid: RSS in MB} of each gunicorn worker (the master's children)."""
    out: dict[int, float] = {}
    try:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    except OSError:
        return out
    for pid in children:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out[int(pid)] = round(int(line.split()[1]) / 1024, 1)
        except OSError:
            continue
    return out


def _temp_bytes() -> tuple[int, int]:
    """(temp_files, temp_bytes) of the bench database in pg_stat_database. Backends report their
    statistics when idle at most every few seconds, so the caller waits before reading."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT pg_stat_clear_snapshot()")
        c.execute("SELECT temp_files, temp_bytes FROM pg_stat_database WHERE datname = current_database()")
        files, size = c.fetchone()
    return int(files), int(size)


STATS_WAIT_S = float(os.environ.get("BENCH_STATS_WAIT", "11"))
_LAST_READING: tuple[dict[int, float], tuple[int, int]] | None = None


def run_section(name: str, server: subprocess.Popen, fn, *args: Any) -> Any:
    """Run one section between two readings of the workers' RSS and of PostgreSQL's temp files
    (waiting for idle backends to report theirs), recorded as a row of its own."""
    if ONLY and name not in ONLY:
        return None
    global _LAST_READING
    if _LAST_READING is None:  # the previous section's "after" is this one's "before"
        time.sleep(STATS_WAIT_S)
        _LAST_READING = (_worker_rss(server), _temp_bytes())
    rss_before, (files_before, temp_before) = _LAST_READING
    try:
        return fn(*args)
    finally:
        time.sleep(STATS_WAIT_S)
        rss_after, (files_after, temp_after) = _worker_rss(server), _temp_bytes()
        _LAST_READING = (rss_after, (files_after, temp_after))
        workers = ", ".join(
            f"{rss_before.get(pid, '—')} → {rss_after.get(pid, '—')}"
            for pid in sorted(set(rss_before) | set(rss_after))
        )
        temp = temp_after - temp_before
        ROWS.append(
            {
                "what": f"memory, section {name}",
                "note": f"workers RSS {workers} MB; PostgreSQL temp files +{files_after - files_before} ({temp / 1e6:,.1f} MB)",
                "ratio": None,
                "memory": {
                    "worker_rss_mb_before": rss_before,
                    "worker_rss_mb_after": rss_after,
                    "pg_temp_files": files_after - files_before,
                    "pg_temp_bytes": temp,
                },
            }
        )
        log(f"section {name}: {ROWS[-1]['note']}")


def print_table() -> None:
    print()
    print("| what | product median / p95 (ms) | reference median / p95 (ms) | reference | ratio |")
    print("|---|---|---|---|---|")
    for r in ROWS:
        p, ref = r.get("product"), r.get("reference")

        def fmt(x: Any) -> str:
            if not x:
                return "—"
            if "median_ms" in x:
                return f"{x['median_ms']:.1f} / {x['p95_ms']:.1f}"
            return ", ".join(f"{v:,} {k}" if isinstance(v, int | float) else f"{k} {v}" for k, v in x.items())

        extra = f" ({r['note']})" if r.get("note") not in (None, "") else ""
        print(
            f"| {r['what']}{extra} | {fmt(p)} | {fmt(ref)} | {r.get('reference_is', '')} | {r.get('ratio') if r.get('ratio') is not None else '—'} |"
        )


def main() -> None:
    log(f"database {DB}; captures {CAPTURES:,}; decisions {DECISIONS:,}; repeat {REPEAT}")
    prepare_database()
    import django

    django.setup()
    n_captures = seed_captures()
    ctx = seed_decisions()
    if not ONLY or {"coverage", "deliveries"} & ONLY:
        ctx["large"] = seed_large_order(ctx)
    server = start_server()
    ctx["server_pid"] = server.pid
    extra: dict[str, Any] = {}
    try:
        run_section("inbox", server, bench_inbox, ctx)
        extra = run_section("search", server, bench_search, ctx) or {}
        run_section("stream", server, bench_stream, ctx)
        run_section("estimate", server, bench_estimate, ctx)
        extra.update(run_section("tiles", server, bench_tiles, ctx) or {})
        run_section("coverage", server, bench_coverage, ctx)
        run_section("deliveries", server, bench_deliveries, ctx)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print_table()
    if "tiles" in extra:
        print_tiles(extra)
    out = ROOT / "bench" / "results.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "captures": n_captures,
                "decisions": DECISIONS,
                "repeat": REPEAT,
                "gunicorn_workers": 2,
                "cpus": os.cpu_count(),
                "rows": ROWS,
                **extra,
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
