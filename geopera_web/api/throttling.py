from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from geopera_web.ops.degrade import degraded


class PrincipalRateThrottle(SimpleRateThrottle):
    """Requests per API key / user, shared by all web processes through the Redis cache (429).
    With the cache down the limit fails open (a logged warning; `/readyz` reports the cache)."""

    scope = "principal"

    def get_cache_key(self, request, view) -> str | None:
        principal = request.auth
        if principal is None:
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        ident = f"key:{principal.api_key.pk}" if principal.api_key else f"user:{principal.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        principal = request.auth
        key = getattr(principal, "api_key", None)
        if key is not None and key.rate_limit:
            # A key's own limit (per minute) applies under the server-wide one, never above it.
            server_num, server_duration = self.parse_rate(self.get_rate())
            if key.rate_limit / 60 < server_num / server_duration:
                self.num_requests, self.duration = key.rate_limit, 60
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001 - any cache failure: fail open
            degraded("API rate limit", exc)
            return True
