"""Serializer fields shared by operations."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any, ClassVar

from django.core.validators import RegexValidator
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from rest_framework import serializers


class PageField(serializers.IntegerField):
    """The 0-based `page` of a paged list operation, at most `API_MAX_PAGE_NUMBER` (PostgreSQL's
    OFFSET is a bigint: a page beyond any real listing is a 422, not a 500). The bound is read each
    time the field is built, and a serializer builds its fields per instance (DRF deep-copies the
    declared ones), so the environment and `override_settings` move it."""

    def __init__(self, **kwargs: Any) -> None:
        from django.conf import settings

        kwargs["max_value"] = settings.API_MAX_PAGE_NUMBER
        kwargs.setdefault(
            "help_text",
            f"0-based page number, at most {settings.API_MAX_PAGE_NUMBER:,} (API_MAX_PAGE_NUMBER).",
        )
        super().__init__(**kwargs)


def page_field(**kwargs: Any) -> serializers.IntegerField:
    """The 0-based `page` of a paged list operation."""
    return PageField(required=False, default=0, min_value=0, **kwargs)


def numbered_page(rows: Any, *, page: int, size: int, wire: Callable[[Any], Any]) -> dict[str, Any]:
    """The answer of a page-numbered list operation: `{"items", "page", "size", "total"}`, the
    items of 0-based `page` of `rows` (a queryset: one count and one sliced query) through `wire`."""
    total = rows.count()
    return {
        "items": [wire(row) for row in rows[page * size : (page + 1) * size]],
        "page": page,
        "size": size,
        "total": total,
    }


# The `size` of paged list operations that refuse a larger one (orders.list caps it instead).
PAGE_SIZE_BOUNDS = {"size": {"max_value": "API_PAGE_MAX_SIZE"}}
PAGE_SIZE_HELP = "Page size, at most {max_value} (API_PAGE_MAX_SIZE)."


class SettingBoundsMixin:
    """Serializer fields whose bounds are settings, read each time the serializer is built (so the
    environment and `override_settings` move them, and the served OpenAPI document states the value
    in force), never copied at import.

    `setting_bounds = {"limit": {"max_value": "CATALOG_SEARCH_MAX_LIMIT"}}`: the declared field is
    rebuilt with those keyword arguments taken from settings; its `help_text` may name them as
    `{max_value}`, `{max_length}` … (formatted with thousands separators). A key starting with
    `text_` only feeds the help text; a key `child.max_length` bounds the field's `child` (a list's
    items), named `{child_max_length}` in the help text."""

    setting_bounds: dict[str, dict[str, str]] = {}

    def get_fields(self) -> dict[str, serializers.Field]:
        from django.conf import settings

        fields = super().get_fields()  # type: ignore[misc]
        for name, bounds in self.setting_bounds.items():
            field = fields[name]
            values = {arg: getattr(settings, setting) for arg, setting in bounds.items()}
            # Deep copies, as DRF's own Field.__deepcopy__ does: a `child` field is bound to its parent.
            kwargs = {
                key: value if key in ("validators", "regex") else copy.deepcopy(value)
                for key, value in field._kwargs.items()
            }
            kwargs.update({k: v for k, v in values.items() if not k.startswith(("text_", "child."))})
            child_values = {k.removeprefix("child."): v for k, v in values.items() if k.startswith("child.")}
            if child_values:
                child = kwargs["child"]
                kwargs["child"] = child.__class__(
                    *copy.deepcopy(child._args), **{**copy.deepcopy(child._kwargs), **child_values}
                )
            if "help_text" in kwargs:
                kwargs["help_text"] = str(kwargs["help_text"]).format(
                    **{arg.replace(".", "_"): f"{value:,}" for arg, value in values.items()}
                )
            fields[name] = field.__class__(*copy.deepcopy(field._args), **kwargs)
        return fields


class JSONSchemaField(serializers.JSONField):
    """A JSON value held to a JSON Schema: the served document declares exactly `json_schema`, and
    the server refuses (422 naming the field) what does not validate against it, so the two cannot
    disagree. Rules a JSON Schema cannot state (a ring's closure, coordinate ranges, vertex limits)
    stay with the code that reads the value."""

    json_schema: ClassVar[dict[str, Any]] = {}
    what: ClassVar[str] = "a JSON value of the documented shape"

    def to_internal_value(self, data: Any) -> Any:
        # A list's child field is one instance for every item: a cart clipped to one AOI repeats
        # the same geometry hundreds of times, so each distinct value is validated once (the
        # schema walk costs far more than writing the value out as a key).
        key = json.dumps(data, sort_keys=True, default=str)
        verdicts = self.__dict__.setdefault("_verdicts", {})
        if key not in verdicts:
            error = best_match(_validator(type(self)).iter_errors(data))
            verdicts[key] = None if error is None else f"Must be {self.what}: {self.explain(data, error)}"
        if verdicts[key] is not None:
            raise serializers.ValidationError(verdicts[key])
        return super().to_internal_value(data)

    def explain(self, data: Any, error: Any) -> str:
        """Why `data` does not validate, for a person (subclasses may say it better)."""
        where = "".join(f"[{p!r}]" for p in error.absolute_path)
        return f"{error.message}{' at ' + where if where else ''}."


_VALIDATORS: dict[type, Draft202012Validator] = {}


def _validator(cls: type[JSONSchemaField]) -> Draft202012Validator:
    if cls not in _VALIDATORS:
        _VALIDATORS[cls] = Draft202012Validator(cls.json_schema)
    return _VALIDATORS[cls]


def _geojson(kind: str, coordinates: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "title": f"GeoJSON {kind}",
        "required": ["type", "coordinates"],
        "properties": {"type": {"const": kind}, "coordinates": coordinates},
    }


# A position is [longitude, latitude] (a height or measure after them is dropped); a linear ring
# has at least 4 positions (the last repeats the first). Ranges, closure and the vertex limit are
# checked by orders.geometry and stated in the field's description.
_POSITION: dict[str, Any] = {"type": "array", "minItems": 2, "items": {"type": "number"}}
_RING: dict[str, Any] = {"type": "array", "minItems": 4, "items": _POSITION}
_POLYGON: dict[str, Any] = {"type": "array", "minItems": 1, "items": _RING}
GEOJSON_POLYGONAL: dict[str, Any] = {
    "anyOf": [
        _geojson("Polygon", _POLYGON),
        _geojson("MultiPolygon", {"type": "array", "minItems": 1, "items": _POLYGON}),
    ]
}


class _WholeMatchValidator(RegexValidator):
    """The whole string matches (Python's `$` also matches before a final newline; JSON Schema's
    does not)."""

    def __call__(self, value: Any) -> None:
        if not self.regex.fullmatch(str(value)):
            raise serializers.ValidationError(self.message, code=self.code)


class PatternField(serializers.RegexField):
    """A string the served document declares with `pattern: regex` and the server checks with the
    same expression, as JSON Schema reads it: untrimmed, matched whole."""

    def __init__(self, regex: str, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(regex, **kwargs)
        self.validators = [
            _WholeMatchValidator(re.compile(regex), message=v.message) if isinstance(v, RegexValidator) else v
            for v in self.validators
        ]


UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def comma_separated_field(
    values: list[str] | None = None, *, item: str | None = None, **kwargs: Any
) -> PatternField:
    """A comma-separated list (no spaces) of `values` (or of strings matching the expression `item`),
    empty meaning "no filter": declared as that pattern and checked with it."""
    one = item if item is not None else "(" + "|".join(re.escape(v) for v in values or []) + ")"
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_null", True)
    kwargs.setdefault("allow_blank", True)
    return PatternField(f"^({one})(,({one}))*$", **kwargs)
