"""CORS policy (django-cors-headers does the protocol; this module only decides who may read).

- `/stac/…` is a public, read-only, cookie-less catalog: every origin may read it, so STAC
  Browser, web maps and notebooks served from anywhere work.
- `/v1/…` answers only the origins listed in `CORS_API_ORIGINS` (none by default). Credentials
  (cookies) are never allowed cross-origin: a page on another origin must send a token or API key,
  so a hostile page can never ride a signed-in user's session.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def public_cors_request(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    """`check_request_enabled` receiver: any origin may read the public paths."""
    return bool(re.match(settings.CORS_PUBLIC_URLS_REGEX, request.path))
