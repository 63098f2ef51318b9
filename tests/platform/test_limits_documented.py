"""Every limit in the README's Limits table is a setting with the stated default, and the modules
that enforce the geometry and catalog limits read those settings."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

README = Path(__file__).resolve().parents[2] / "README.md"


def limits_table() -> list[tuple[str, str]]:
    text = README.read_text()
    section = text.split("- **Limits.**", 1)[1].split("\n- **", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows.append((cells[0], cells[1]))
    return rows


def test_every_documented_limit_is_a_setting_with_its_default():
    rows = limits_table()
    assert len(rows) >= 15
    for names, default in rows:
        for name in re.findall(r"`([A-Z_]+)`", names):
            # Two environment variables feed library settings of another name.
            if name == "LOGIN_FAILURE_LIMIT":
                value = settings.AXES_FAILURE_LIMIT
            elif name == "API_RATE_LIMIT":
                value = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["principal"]
            else:
                value = getattr(settings, name)
            if isinstance(value, int):
                numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", default)]
                assert value in numbers, (name, value, default)
            else:
                assert str(value) in default, (name, value, default)


# Settings that may be read at import: a model's swappable user model is fixed for the process.
IMPORT_TIME_SETTINGS_ALLOWED = {"AUTH_USER_MODEL"}
APP_PACKAGES = ("geopera_web", "orders", "tasking")


def _import_time_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """What runs when a module is imported: module and class bodies, decorators, default arguments."""
    for st in body:
        if isinstance(st, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from st.decorator_list
            yield from st.args.defaults
            yield from (d for d in st.args.kw_defaults if d is not None)
        elif isinstance(st, ast.ClassDef):
            yield from st.decorator_list
            yield from st.bases
            yield from (k.value for k in st.keywords)
            yield from _import_time_nodes(st.body)
        elif isinstance(st, ast.If | ast.Try | ast.With):
            if isinstance(st, ast.If):
                yield st.test
            for part in ("body", "orelse", "finalbody"):
                yield from _import_time_nodes(getattr(st, part, None) or [])
        else:
            yield st


def import_time_setting_reads() -> list[str]:
    root = README.parent
    found = []
    for package in APP_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts or path.name in ("settings.py", "production.py"):
                continue
            tree = ast.parse(path.read_text())
            for node in _import_time_nodes(tree.body):
                for sub in ast.walk(node):
                    name = None
                    if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
                        if sub.value.id == "settings" and sub.attr.isupper():
                            name = sub.attr
                    elif (
                        isinstance(sub, ast.Call)
                        and isinstance(sub.func, ast.Name)
                        and sub.func.id == "getattr"
                        and sub.args
                        and isinstance(sub.args[0], ast.Name)
                        and sub.args[0].id == "settings"
                    ):
                        name = "getattr(settings, ...)"
                    if name and name not in IMPORT_TIME_SETTINGS_ALLOWED:
                        found.append(f"{path.relative_to(root)}:{sub.lineno} {name}")
    return found


def test_no_app_code_copies_a_setting_at_import():
    """A setting copied into a module constant, class attribute or default argument is frozen at import:
    neither override_settings nor a changed environment (in a long-lived worker) moves it."""
    assert import_time_setting_reads() == []


def test_the_scan_sees_an_import_time_read(tmp_path):
    tree = ast.parse(
        "X = settings.FOO\nclass A:\n    y = getattr(settings, 'BAR', 1)\ndef f(z=settings.BAZ):\n"
        "    return settings.OK\n"
    )
    names = {
        getattr(n, "attr", None) or "getattr"
        for node in _import_time_nodes(tree.body)
        for n in ast.walk(node)
        if (isinstance(n, ast.Attribute) and getattr(n.value, "id", "") == "settings")
        or (isinstance(n, ast.Call) and getattr(n.func, "id", "") == "getattr")
    }
    assert names == {"FOO", "getattr", "BAZ"}


# Module and class constants named like a bound (`*MAX*`, `*LIMIT*`) that are not request limits,
# so they stay constants. Every other one must be a setting (a row in the Limits table, read per
# request): a new request bound written as a module constant fails the test below.
CONSTANT_BOUNDS_ALLOWED = {
    # Tied to the database schema: a larger value could not be stored.
    "geopera_web/safe_urls.py:MAX_STORED_HREF_LENGTH": "the asset-href column",
    "orders/catalog/selectors.py:ID_MAX_CHARS": "the scene-id / collection-id columns",
    "orders/fulfilment/uploads.py:SCENE_ID_MAX_CHARS": "DeliveredCapture.scene_id",
    "orders/services.py:MAX_DISPLAY_NAME": "Order.display_name (read off the model field)",
    "tasking/services.py:STUDY_DESCRIPTION_MAX_CHARS": "FeasibilityOption.description",
    # The shape of catalog facts staff type into the admin (model validators the order forms rely
    # on; the migrations reference them), not the work of a request.
    "geopera_web/catalog_facts.py:LIST_MAX_ITEMS": "catalog fact lists",
    "geopera_web/catalog_facts.py:LABEL_MAX_CHARS": "catalog fact labels",
    "geopera_web/catalog_facts.py:NAME_MAX_CHARS": "satellite and band names",
    "orders/catalog/models.py:MAX_AREA_KM2": "the Earth's surface: a larger area is a typo",
    # Facts of a format or of physics.
    "orders/catalog/tiles.py:MAX_ZOOM": "the web-map tile scheme's deepest zoom",
    "tasking/orbits.py:MAX_GROUND_SPEED_KM_S": "a LEO satellite's ground speed (scan margin)",
    "tasking/tle_store.py:MAX_EPOCH_LEAD": "a TLE epoch in the future is a bad feed",
    # Defaults, not bounds (the bound is CATALOG_SEARCH_MAX_LIMIT).
    "orders/catalog/selectors.py:DEFAULT_LIMIT": "catalog.search's default page size",
    "orders/catalog/stac.py:DEFAULT_STAC_LIMIT": "the STAC API's default page size",
    # Tuning and rules that bound no caller's work.
    "orders/coverage/calculations.py:SUBDIVIDE_MAX_VERTICES": "ST_Subdivide's piece size (speed only)",
    "orders/coverage/views.py:_AOI_URL_MAX": "how long a ?aoi= link may grow before it is simplified",
    "tasking/feasibility.py:AUTO_MAX_AREA_KM2": "above it a study needs a person (a business rule)",
    "orders/fulfilment/simulator.py:MAX_STRIPS": "the simulated provider's strips per delivery",
    # Not a request: the worker's fetch of the TLE feed (TLE_SOURCE_URL).
    "tasking/tle_store.py:MAX_FEED_BYTES": "the largest TLE feed the beat task reads",
}
_BOUND_NAME = re.compile(r"(^|_)(MAX|LIMIT)(_|$)")


def bounds_in(source: str) -> dict[str, int]:
    """NAME → line of every module- or class-level assignment of a bound-like name whose value does
    not come from settings."""
    found: dict[str, int] = {}

    def visit(body: list[ast.stmt]) -> None:
        for st in body:
            if isinstance(st, ast.ClassDef):
                visit(st.body)
                continue
            if isinstance(st, ast.Assign):
                targets = st.targets
            elif isinstance(st, ast.AnnAssign):
                targets = [st.target]
            else:
                continue
            for target in targets:
                if not (
                    isinstance(target, ast.Name) and target.id.isupper() and _BOUND_NAME.search(target.id)
                ):
                    continue
                if st.value is not None and any(
                    isinstance(n, ast.Name) and n.id == "settings" for n in ast.walk(st.value)
                ):
                    continue
                found[target.id] = st.lineno

    visit(ast.parse(source).body)
    return found


def constant_bounds() -> dict[str, int]:
    """`path:NAME` → line, over the app packages."""
    root = README.parent
    found: dict[str, int] = {}
    for package in APP_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts or path.name in ("settings.py", "production.py"):
                continue
            for name, line in bounds_in(path.read_text()).items():
                found[f"{path.relative_to(root)}:{name}"] = line
    return found


def test_request_bounds_are_settings_not_module_constants():
    found = constant_bounds()
    unexplained = sorted(name for name in found if name not in CONSTANT_BOUNDS_ALLOWED)
    assert unexplained == [], (
        "A bound-like module constant: make it a setting (geopera_web/settings.py, the README's "
        "Limits table, read per request) or, if it bounds no request's work, add it with a reason to "
        f"CONSTANT_BOUNDS_ALLOWED: {unexplained}"
    )
    assert sorted(set(CONSTANT_BOUNDS_ALLOWED) - set(found)) == []  # the allow-list names what exists


def test_the_constant_scan_sees_a_new_bound():
    source = (
        "MAX_THINGS = 5\nclass A:\n    PAGE_LIMIT: int = 9\n    MAXIMUM = 3\nOK = 1\n"
        "def f():\n    LOCAL_MAX = 2\n"
        "X_MAX = settings.X_MAX\nWINDOW_MAX = timedelta(days=3)\n"
    )
    assert set(bounds_in(source)) == {"MAX_THINGS", "PAGE_LIMIT", "WINDOW_MAX"}


PAGING_FIELDS = {"limit", "size", "offset", "page", "max_depth"}
# Request fields whose list and item lengths are settings (ORDER_MAX_TAGS, ORDER_TAG_MAX_CHARS).
LENGTH_FIELDS = {"tags"}


def _literal(node: ast.expr) -> bool:
    return not any(isinstance(n, ast.Name) for n in ast.walk(node))


def literal_paging_bounds(source: str) -> list[str]:
    """Serializer fields that page or walk (`limit`, `size`, `offset`, `page`, `max_depth`) whose
    `max_value` is written as a number, and `tags` fields with a numeric `max_length` (of the list
    or of its items): such a bound is a setting (`SettingBoundsMixin`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        for st in node.body:
            if not (isinstance(st, ast.Assign) and isinstance(st.value, ast.Call)):
                continue
            names = {t.id for t in st.targets if isinstance(t, ast.Name)}
            paging = names & PAGING_FIELDS and any(
                k.arg == "max_value" and _literal(k.value) for k in st.value.keywords
            )
            lengths = names & LENGTH_FIELDS and any(
                k.arg == "max_length" and _literal(k.value)
                for call in ast.walk(st.value)
                if isinstance(call, ast.Call)
                for k in call.keywords
            )
            if paging or lengths:
                found.append(f"{node.name}.{min(names)}")
    return found


def test_paging_bounds_are_settings():
    root = README.parent
    found = [
        f"{path.relative_to(root)}:{name}"
        for package in APP_PACKAGES
        for path in sorted((root / package).rglob("*.py"))
        if "migrations" not in path.parts
        for name in literal_paging_bounds(path.read_text())
    ]
    assert found == []
    assert literal_paging_bounds(
        "class A:\n    limit = IntegerField(max_value=200)\n    size = IntegerField(max_value=X)\n"
        "    tags = ListField(child=CharField(max_length=60))\n    name = CharField(max_length=9)\n"
    ) == ["A.limit", "A.tags"]
