"""JSON documents from outside are parsed with a bound on their nesting depth.

`json.loads` recurses once per level: a body of 100,000 `[` raises RecursionError (a 500), and a
document just under the interpreter's limit can still overflow the code that walks it later. Every
JSON the app accepts from a caller (API bodies through DRF, the STAC search body and its query
parameters, AOI uploads, form fields holding GeoJSON) goes through `loads`, which refuses more than
`API_MAX_JSON_DEPTH` levels with a `JSONTooDeep` (a `json.JSONDecodeError`, so callers that already
turn a decoding error into a 400 / form error do so for this one too).
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils.json import strict_constant


class JSONTooDeep(json.JSONDecodeError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"the document is nested more than {limit} levels deep (API_MAX_JSON_DEPTH); flatten it", "", 0
        )

    def __str__(self) -> str:
        return self.msg


def max_depth() -> int:
    return int(getattr(settings, "API_MAX_JSON_DEPTH", 64))


def check_depth(value: Any, limit: int | None = None) -> Any:
    """`value` unchanged, or JSONTooDeep when its lists/objects nest deeper than `limit` (iterative:
    the walk itself never recurses)."""
    limit = limit or max_depth()
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            raise JSONTooDeep(limit)
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return value


def loads(data: str | bytes | bytearray, **kwargs: Any) -> Any:
    """`json.loads` with the nesting bound (RecursionError included)."""
    limit = max_depth()
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise JSONTooDeep(limit) from None
    if isinstance(value, dict | list):
        check_depth(value, limit)
    return value


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser (strict: no NaN/Infinity) with the nesting bound: too deep is a 400."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
            return loads(text, parse_constant=strict_constant if self.strict else None)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
