"""JSON types as the served document declares them. DRF coerces (a number becomes a string id,
0/1 a boolean, "5" an integer, an integer a UUID); an operation's input is read as the document
says or refused with a 422 naming the field — before the serializer sees it.

Types are JSON Schema's: an integer is any number with a zero fractional part, so `63.0` is the
integer 63 (`json_integral_floats` hands it to the serializer as 63), while `63.5` is refused."""

from __future__ import annotations

from typing import Any

from rest_framework import fields as f
from rest_framework import serializers

# (field class, the JSON types it takes, the words for them). Checked in order: the first match wins.
_TYPES: list[tuple[type, tuple[type, ...], str, str]] = [
    (f.BooleanField, (bool,), "a boolean", "bool"),
    (f.IntegerField, (int,), "an integer", "int"),
    (f.ChoiceField, (str,), "a string", "str"),
    (f.FloatField, (int, float), "a number", "float"),
    (f.DecimalField, (int, float), "a number", "float"),
    (f.CharField, (str,), "a string", "str"),
    (f.UUIDField, (str,), "a string", "str"),
    (f.DateTimeField, (str,), "a string", "str"),
    (f.DateField, (str,), "a string", "str"),
    (f.ListField, (list,), "an array", "list"),
    (f.DictField, (dict,), "an object", "dict"),
]


def _json_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def json_type_errors(field: f.Field, value: Any, loc: list[Any]) -> list[dict[str, Any]]:
    """Where `value` (parsed JSON) is not of the type `field` declares, recursively."""
    if value is None:
        return []  # null is the serializer's to accept or refuse (allow_null)
    if isinstance(field, serializers.ListSerializer):
        if not isinstance(value, list):
            return [_error(loc, "an array", value, "list")]
        return [e for i, item in enumerate(value) for e in json_type_errors(field.child, item, [*loc, i])]
    if isinstance(field, serializers.Serializer):
        if not isinstance(value, dict):
            return [_error(loc, "an object", value, "dict")]
        return [
            e
            for name, child in field.fields.items()
            if name in value and not child.read_only
            for e in json_type_errors(child, value[name], [*loc, name])
        ]
    for cls, types, words, code in _TYPES:
        if isinstance(field, cls):
            ok = (isinstance(value, types) or (int in types and _integral_float(value))) and not (
                bool not in types and isinstance(value, bool)
            )
            if not ok:
                return [_error(loc, words, value, code)]
            if isinstance(field, f.ListField):
                return [
                    e for i, item in enumerate(value) for e in json_type_errors(field.child, item, [*loc, i])
                ]
            if isinstance(field, f.DictField):
                return [
                    e for k, item in value.items() for e in json_type_errors(field.child, item, [*loc, k])
                ]
            return []
    return []


def _integral_float(value: Any) -> bool:
    return isinstance(value, float) and value.is_integer()


def json_integral_floats(field: f.Field, value: Any) -> Any:
    """`value` with every integral float read by an IntegerField made an int (JSON Schema's
    integer), recursively; everything else unchanged. Run after `json_type_errors` found none."""
    if isinstance(field, serializers.ListSerializer) and isinstance(value, list):
        return [json_integral_floats(field.child, item) for item in value]
    if isinstance(field, serializers.Serializer) and isinstance(value, dict):
        fields = field.fields
        return {
            k: json_integral_floats(fields[k], v) if k in fields and not fields[k].read_only else v
            for k, v in value.items()
        }
    if isinstance(field, f.ListField) and isinstance(value, list):
        return [json_integral_floats(field.child, item) for item in value]
    if isinstance(field, f.IntegerField) and _integral_float(value):
        return int(value)
    return value


def _error(loc: list[Any], words: str, value: Any, code: str) -> dict[str, Any]:
    return {"loc": loc, "msg": f"Must be {words}, not {_json_name(value)}.", "type": f"type_error.{code}"}
