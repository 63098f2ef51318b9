"""JSON documents from outside are parsed with a bound on their nesting depth.

`json.loads` recurses once per level: a body of 100,000 `[` raises RecursionError (a 500), and a
document just under the interpreter's limit can still overflow the code that walks it later. Every
JSON the app accepts from a caller (API bodies through DRF, the STAC search body and its query
parameters, AOI uploads, form fields holding GeoJSON) goes through `loads`, which refuses more than
`API_MAX_JSON_DEPTH` levels with a `JSONTooDeep` (a `json.JSONDecodeError`, so callers that already
turn a decoding error into a 400 / form error do so for this one too).

The same walk refuses strings PostgreSQL cannot hold — a NUL (`\\u0000`) or a lone UTF-16 surrogate
(`\\ud800` without its pair) — in any value or object key, at any depth, with a `JSONBadString` that
carries the path to it. Stored, such a string is a 500 (text and jsonb reject NUL; a lone surrogate
cannot be encoded as UTF-8). DRF's parser answers it with a 422 whose `loc` names the field.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils.json import strict_constant

from geopera_web.errors import InvalidInput


class JSONTooDeep(json.JSONDecodeError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"the document is nested more than {limit} levels deep (API_MAX_JSON_DEPTH); flatten it", "", 0
        )

    def __str__(self) -> str:
        return self.msg


# After json.loads a valid surrogate pair is one code point, so any surrogate left is a lone one.
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")


class JSONBadString(json.JSONDecodeError):
    """A NUL or a lone surrogate at `path` (keys and list indexes from the document's root; the
    last step is the offending key itself when `in_key`)."""

    def __init__(self, path: tuple[str | int, ...], character: str, *, in_key: bool) -> None:
        self.path = path
        self.in_key = in_key
        self.nul = character == "\x00"
        what = "A key" if in_key else "The value"
        if self.nul:
            why = "contains a NUL character (\\u0000), which no field accepts. Remove it."
        else:
            why = (
                f"contains a lone UTF-16 surrogate (\\u{ord(character):04x}): half of a surrogate pair, "
                "not a character. Send the whole character (both halves) or remove it."
            )
        self.message = f"{what} {why}"
        super().__init__(self.message, "", 0)

    def __str__(self) -> str:
        return self.message

    def errors(self, root: tuple[str, ...] = ("body",)) -> list[dict[str, Any]]:
        """As HTTPValidationError items."""
        kind = "value_error.nul_character" if self.nul else "value_error.lone_surrogate"
        return [{"loc": [*root, *self.path], "msg": self.message, "type": kind}]

    def as_invalid_input(self, root: tuple[str, ...] = ("body",)) -> InvalidInput:
        return InvalidInput(self.message, status=422, errors=self.errors(root))


def max_depth() -> int:
    return int(getattr(settings, "API_MAX_JSON_DEPTH", 64))


def _bad(text: str) -> str | None:
    found = _BAD_CHARACTER.search(text)
    return found.group() if found else None


def check_depth(value: Any, limit: int | None = None) -> Any:
    """`value` unchanged; JSONTooDeep when its lists/objects nest deeper than `limit`, JSONBadString
    when a string in it (a key too) holds a NUL or a lone surrogate (iterative: the walk itself
    never recurses)."""
    limit = limit or max_depth()
    if isinstance(value, str):
        if (bad := _bad(value)) is not None:
            raise JSONBadString((), bad, in_key=False)
        return value
    if not isinstance(value, dict | list | tuple):
        return value
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(value, 1, ())]
    while stack:
        node, depth, path = stack.pop()
        if depth > limit:
            raise JSONTooDeep(limit)
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            if isinstance(key, str) and (bad := _bad(key)) is not None:
                raise JSONBadString((*path, key), bad, in_key=True)
            if isinstance(child, str):
                if (bad := _bad(child)) is not None:
                    raise JSONBadString((*path, key), bad, in_key=False)
            elif isinstance(child, dict | list | tuple):
                stack.append((child, depth + 1, (*path, key)))
    return value


def check_strings(value: Any) -> Any:
    """`check_depth` for a value that did not come through `loads` (the dispatcher's last check)."""
    return check_depth(value)


def loads(data: str | bytes | bytearray, **kwargs: Any) -> Any:
    """`json.loads` with the nesting bound (RecursionError included) and the string check."""
    limit = max_depth()
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise JSONTooDeep(limit) from None
    return check_depth(value, limit)


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser (strict: no NaN/Infinity) with the nesting bound: too deep is a 400; a NUL
    or lone surrogate in any string is a 422 naming the field."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
            return loads(text, parse_constant=strict_constant if self.strict else None)
        except JSONBadString as exc:
            raise exc.as_invalid_input() from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
