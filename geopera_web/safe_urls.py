"""Links from data (delivery metadata, provider hrefs, stored URLs) are rendered only when they are
http(s) or site-relative: a `javascript:`/`data:`/`vbscript:` URL never becomes a clickable link.

`{{ url|safe_href }}` is a template builtin (no `{% load %}`): every `href="{{ … }}"` / `src="{{ … }}"`
in `templates/` goes through it (a test checks). `is_safe_href` is the same rule for Python callers.
"""

from __future__ import annotations

import re

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
