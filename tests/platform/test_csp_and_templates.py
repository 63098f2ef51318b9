"""The CSP header, and the template rules that let it hold: no inline <script>, no on*= handlers,
no javascript: URLs, every data-driven href/src through `safe_href`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import Context, Template

from geopera_web.safe_urls import is_safe_href

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
ALL_TEMPLATES = sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.django_db
def test_every_page_sends_a_policy_without_inline_script_or_eval(client, operator_user):
    client.force_login(operator_user)
    for path in ("/", "/login/", "/v1/docs", "/settings/tokens/"):
        header = client.get(path)["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in header.split(";") if d.strip())
        assert directives["script-src"] == "'self'", path
        assert "unsafe-eval" not in header and "object-src 'none'" in header, path


@pytest.mark.parametrize("template", ALL_TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_no_inline_script_handlers_or_javascript_urls(template):
    text = template.read_text()
    inline = [
        m
        for m in re.finditer(r"<script\b([^>]*)>", text)
        if "src=" not in m.group(1) and "json" not in m.group(1)
    ]
    assert not inline, "inline <script>: move it to static/js/"
    assert not re.search(r"\son[a-z]+\s*=", text), "on*= handler: use a data attribute + static/js/"
    assert "javascript:" not in text.lower()
    assert not re.search(r'hx-trigger="[^"]*\[', text), (
        "htmx trigger filters are eval: use data-skip-request-while"
    )
    assert "hx-on" not in text and "js:" not in re.sub(r"\{#.*?#\}", "", text), "htmx eval needs unsafe-eval"
    for m in re.finditer(r'\b(href|src)="(\{\{[^"]*)"', text):
        assert "|safe_href" in m.group(2), f"{m.group(0)}: a link from data goes through |safe_href"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "\x01javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "file:///etc/passwd",
        "",
        None,
    ],
)
def test_unsafe_urls_never_become_links(url):
    assert not is_safe_href(url)
    html = Template('<a href="{{ u|safe_href }}">x</a>').render(Context({"u": url}))
    assert html == '<a href="#">x</a>'


@pytest.mark.parametrize(
    "url",
    ["https://cdn.example/a.tif", "http://x.test/b", "/orders/1/", "?page=2", "#top", "rel/path", "//host/x"],
)
def test_http_and_relative_urls_stay(url):
    assert is_safe_href(url)
    assert Template("{{ u|safe_href }}").render(Context({"u": url})) == Template("{{ u }}").render(
        Context({"u": url})
    )
