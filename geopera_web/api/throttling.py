from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle


class PrincipalRateThrottle(SimpleRateThrottle):
    """Requests per API key / user, shared by all web processes through the Redis cache (429)."""

    scope = "principal"

    def get_cache_key(self, request, view) -> str | None:
        principal = request.auth
        if principal is None:
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        ident = f"key:{principal.api_key.pk}" if principal.api_key else f"user:{principal.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
