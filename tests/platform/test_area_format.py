"""Areas (km²) are written one way on every page: thousands separators, fixed decimals — the
`|area` builtin filter in templates and `geopera.formatArea` in the pages' scripts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import Context, Template

from geopera_web.areas import format_area

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (1234567.891, 2, "1,234,567.89"),
        (12345.67, 1, "12,345.7"),
        (2500.4, 0, "2,500"),
        (25.0, "-1", "25"),
        (2.5, "-1", "2.5"),
        (999.999, 2, "1,000.00"),
        (None, 1, "—"),
        ("not a number", 1, "—"),
        (float("nan"), 1, "—"),
    ],
)
def test_format_area(value, digits, text):
    assert format_area(value, digits) == text


def test_area_is_a_template_builtin():
    html = Template("{{ a|area }} · {{ a|area:2 }} · {{ a|area:0 }}").render(Context({"a": 12345.678}))
    assert html == "12,345.7 · 12,345.68 · 12,346"


def test_templates_format_every_km2_figure_through_area():
    bare = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for m in re.finditer(r"\{\{\s*([\w.]*_km2)\s*(\|[^}]*)?\}\}", path.read_text()):
            if "credits_per_km2" in m.group(1):
                continue  # a rate in credits, not an area
            if not (m.group(2) or "").startswith("|area"):
                bare.append(f"{path.relative_to(ROOT)}: {m.group(0)}")
    assert not bare, "km² figures without |area:\n" + "\n".join(bare)


def test_scripts_format_every_km2_figure_through_format_area():
    bare = []
    for path in sorted((ROOT / "static" / "js").glob("*.js")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "km²" in line and re.search(r"toFixed|toLocaleString", line):
                bare.append(f"{path.name}:{number}: {line.strip()[:120]}")
    assert not bare, "km² figures not through geopera.formatArea:\n" + "\n".join(bare)
