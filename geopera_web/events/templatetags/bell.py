"""`{% notifications_poll_seconds %}`: how often the bell asks for its count (a setting)."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def notifications_poll_seconds() -> int:
    return max(1, int(settings.NOTIFICATIONS_POLL_SECONDS))
