"""Serializer fields shared by operations."""

from __future__ import annotations

import copy

from rest_framework import serializers

# PostgreSQL's OFFSET is a bigint: a page number beyond any real listing must be a 422, not a 500.
MAX_PAGE_NUMBER = 1_000_000


def page_field(**kwargs) -> serializers.IntegerField:
    """The 0-based `page` of a paged list operation."""
    return serializers.IntegerField(
        required=False,
        default=0,
        min_value=0,
        max_value=MAX_PAGE_NUMBER,
        help_text="0-based page number.",
        **kwargs,
    )


class SettingBoundsMixin:
    """Serializer fields whose bounds are settings, read each time the serializer is built (so the
    environment and `override_settings` move them, and the served OpenAPI document states the value
    in force), never copied at import.

    `setting_bounds = {"limit": {"max_value": "CATALOG_SEARCH_MAX_LIMIT"}}`: the declared field is
    rebuilt with those keyword arguments taken from settings; its `help_text` may name them as
    `{max_value}`, `{max_length}` … (formatted with thousands separators). A key starting with
    `text_` only feeds the help text."""

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
            kwargs.update({k: v for k, v in values.items() if not k.startswith("text_")})
            if "help_text" in kwargs:
                kwargs["help_text"] = str(kwargs["help_text"]).format(
                    **{arg: f"{value:,}" for arg, value in values.items()}
                )
            fields[name] = field.__class__(*copy.deepcopy(field._args), **kwargs)
        return fields
