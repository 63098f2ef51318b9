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
