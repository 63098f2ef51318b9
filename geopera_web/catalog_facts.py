"""Checks for the catalog facts support staff type into the Django admin (sensors, tasking and data
products): a value the database cannot hold, or one that would break the order forms built from it,
is a `ValidationError` on its field (a form error), never a 500 later.

JSON fields: no NaN/Infinity (PostgreSQL's jsonb has neither), no NUL or lone surrogate in any
string or key, nesting bounded (`API_MAX_JSON_DEPTH`), and the shape each field promises."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError

from geopera_web import jsonbounds

LIST_MAX_ITEMS = 50
LABEL_MAX_CHARS = 60  # one entry of a list of labels ("30cm", "GeoTIFF", "pansharpened-rgb")
NAME_MAX_CHARS = 120  # a satellite's or a band's name
# Collection ids and provider hosts are identifiers (STAC ids, adapter keys), not prose.
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def json_safe(value: Any) -> None:
    """NaN/Infinity, NUL/lone surrogates, or nesting beyond the JSON depth bound → ValidationError."""
    try:
        jsonbounds.check_depth(value)
    except jsonbounds.JSONTooDeep as exc:
        raise ValidationError(f"Nested deeper than {exc.limit} levels.", code="too_deep") from None
    except jsonbounds.JSONBadString:
        raise ValidationError("A text holds a NUL or an invalid character.", code="bad_string") from None
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            raise ValidationError("Numbers must be finite (no NaN or Infinity).", code="not_finite")
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _list(value: Any, *, required: bool) -> list[Any]:
    json_safe(value)
    if not isinstance(value, list):
        raise ValidationError('Must be a JSON list, e.g. ["a", "b"].', code="not_list")
    if required and not value:
        raise ValidationError("Must list at least one value.", code="empty")
    if len(value) > LIST_MAX_ITEMS:
        raise ValidationError(f"At most {LIST_MAX_ITEMS} entries.", code="too_many")
    return value


def labels(value: Any, *, required: bool = False, allowed: Iterable[str] | None = None) -> None:
    """A list of short, distinct text labels (optionally from `allowed`)."""
    items = _list(value, required=required)
    allowed_set = set(allowed) if allowed is not None else None
    for item in items:
        if not isinstance(item, str) or not item.strip() or len(item) > LABEL_MAX_CHARS:
            raise ValidationError(
                f"Every entry must be a text of 1–{LABEL_MAX_CHARS} characters.", code="bad_label"
            )
        if allowed_set is not None and item not in allowed_set:
            raise ValidationError(
                f"{item!r} is not one of {', '.join(sorted(allowed_set))}.", code="not_allowed"
            )
    if len(set(items)) != len(items):
        raise ValidationError("Entries must not repeat.", code="repeated")


def _number(value: Any, *, low: float, high: float) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value <= high
    )


def epsg_codes(value: Any) -> None:
    for code in _list(value, required=False):
        if not isinstance(code, int) or isinstance(code, bool) or not 1024 <= code <= 999_999:
            raise ValidationError(
                "Every entry must be an EPSG code (a whole number, e.g. 4326).", code="bad_epsg"
            )


def _name(entry: dict[str, Any]) -> bool:
    name = entry.get("name")
    return isinstance(name, str) and bool(name.strip()) and len(name) <= NAME_MAX_CHARS


def satellites(value: Any) -> None:
    for entry in _list(value, required=False):
        norad = entry.get("norad_id") if isinstance(entry, dict) else None
        if (
            not isinstance(entry, dict)
            or not _name(entry)
            or not (norad is None or (_number(norad, low=1, high=999_999_999) and isinstance(norad, int)))
            or set(entry) - {"name", "norad_id"}
        ):
            raise ValidationError(
                'Every entry must be {"name": …, "norad_id": a whole number or null}.', code="bad_satellite"
            )


def bands(value: Any) -> None:
    for entry in _list(value, required=False):
        ok = isinstance(entry, dict) and _name(entry)
        if ok:
            numbers = {k: v for k, v in entry.items() if k != "name"}
            ok = bool(numbers) and set(numbers) <= {"min_nm", "max_nm", "frequency_ghz"}
            ok = ok and all(_number(v, low=0, high=1_000_000) for v in numbers.values())
            if ok and "min_nm" in numbers and "max_nm" in numbers:
                ok = numbers["min_nm"] <= numbers["max_nm"]
        if not ok:
            raise ValidationError(
                'Every entry must be {"name", "min_nm", "max_nm"} (optical) or {"name", "frequency_ghz"} '
                "(SAR), with finite numbers.",
                code="bad_band",
            )


def identifier(value: str) -> None:
    if not IDENTIFIER.match(value or ""):
        raise ValidationError(
            "Letters, digits, '.', '_' and '-' only (an identifier, at most 100 characters).", code="bad_id"
        )


def collect(checks: dict[str, Any]) -> None:
    """Run `{field: callable}` and raise one ValidationError keyed by field with every failure."""
    errors: dict[str, list[ValidationError]] = {}
    for field, check in checks.items():
        try:
            check()
        except ValidationError as exc:
            errors.setdefault(field, []).append(exc)
    if errors:
        raise ValidationError(errors)
