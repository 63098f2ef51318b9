from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from geopera_web.limits import Rate, rate_check


class PrincipalRateThrottle(SimpleRateThrottle):
    """Requests per API key / user, shared by all web processes through the Redis cache (429).

    A fixed-window counter (one INCR on one small integer key per request, expiring with its
    window), the same as the per-view limits in `geopera_web.limits`: constant cost whatever the
    rate. (DRF's own SimpleRateThrottle reads and rewrites a list of every timestamp in the window
    on every request, which grows to the limit — 1,200 entries at the default.)
    With the cache down the limit fails open (a logged warning; `/readyz` reports the cache)."""

    scope = "principal"

    def get_cache_key(self, request, view) -> str | None:
        principal = request.auth
        if principal is None:
            return f"ip:{self.get_ident(request)}"
        return f"key:{principal.api_key.pk}" if principal.api_key else f"user:{principal.user.pk}"

    def allow_request(self, request, view) -> bool:
        # Read per request (tests and settings may change the rate).
        self.num_requests, self.duration = self.parse_rate(self.get_rate())
        principal = request.auth
        key = getattr(principal, "api_key", None)
        # A key's own limit (per minute) applies under the server-wide one, never above it.
        if key is not None and key.rate_limit and key.rate_limit / 60 < self.num_requests / self.duration:
            self.num_requests, self.duration = key.rate_limit, 60
        ident = self.get_cache_key(request, view)
        rate = Rate(count=self.num_requests, seconds=self.duration)
        # The window length is part of the key: a key's own per-minute counter never shares a
        # counter with a different server-wide window.
        self.retry_after = rate_check(scope=f"api:{self.scope}:{rate.seconds}", ident=ident, rate=rate)
        return self.retry_after is None

    def wait(self) -> float | None:
        # The problem handler answers Retry-After = int(wait) + 1: the seconds until the window resets.
        retry_after = getattr(self, "retry_after", None)
        return None if retry_after is None else max(retry_after - 1, 0)
