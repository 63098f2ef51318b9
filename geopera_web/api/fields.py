"""Serializer fields shared by operations."""

from __future__ import annotations

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
