"""Links from data (delivery metadata, provider hrefs, stored URLs) are rendered only when they are
http(s) or site-relative: a `javascript:`/`data:`/`vbscript:` URL never becomes a clickable link.

`{{ url|safe_href }}` is a template builtin (no `{% load %}`): every `href="{{ … }}"` / `src="{{ … }}"`
in `templates/` goes through it (a test checks). `is_safe_href` is the same rule for Python callers.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django import template

register = template.Library()

_ALLOWED_SCHEMES = ("http", "https")
# Browsers drop ASCII tab/newline and leading C0 controls/spaces before reading a scheme.
_STRIP = re.compile(r"[\x00-\x20\x7f]")


def is_safe_href(value: object) -> bool:
    if value is None:
        return False
    text = _STRIP.sub("", str(value))
    if not text:
        return False
    if text.startswith("//"):
        return True  # protocol-relative: same scheme as the page
    if text.startswith(("/", "?", "#")):
        return True
    scheme, sep, _ = text.partition(":")
    if not sep:
        return True  # a relative path
    if "/" in scheme or "?" in scheme or "#" in scheme:
        return True  # the colon is after the path starts: still relative
    return scheme.lower() in _ALLOWED_SCHEMES


@register.filter(name="safe_href")
def safe_href(value: object) -> str:
    """The URL when it is safe to put in href/src, else "#" (the link goes nowhere)."""
    return str(value) if is_safe_href(value) else "#"


# --- the stricter rule for storing a URL -------------------------------------------------------

MAX_STORED_HREF_LENGTH = 2000


def stored_href_problem(value: object) -> str | None:
    """Why `value` may not be stored as an asset href (None when it may): only an absolute http(s)
    URL with a host is stored — no javascript:/data:/vbscript:, no relative or protocol-relative
    URL (relative to what, once it is ours?), no whitespace or control characters."""
    if not isinstance(value, str) or not value:
        return "the href is missing or not a string"
    if len(value) > MAX_STORED_HREF_LENGTH:
        return f"the href is longer than {MAX_STORED_HREF_LENGTH} characters"
    if _STRIP.search(value):
        return "the href contains spaces or control characters"
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return "the href is not a valid URL"
    if parts.scheme.lower() not in _ALLOWED_SCHEMES:
        shown = f"{parts.scheme}:" if parts.scheme else "a relative URL"
        return f"only absolute http(s) hrefs are accepted, not {shown}"
    if not host:
        return "the href has no host"
    return None


def assets_with_stored_hrefs(assets: object) -> tuple[dict, dict[str, str]]:
    """STAC assets split into those whose href may be stored and {name: why not} for the others."""
    if not isinstance(assets, dict):
        return {}, ({"assets": "assets must be a JSON object"} if assets else {})
    kept: dict = {}
    refused: dict[str, str] = {}
    for name, asset in assets.items():
        problem = (
            stored_href_problem(asset.get("href"))
            if isinstance(asset, dict)
            else "the asset is not an object"
        )
        if problem is None:
            kept[str(name)] = asset
        else:
            refused[str(name)[:100]] = problem
    return kept, refused
