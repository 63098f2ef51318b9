"""The fixed-window rate-limit counter (`geopera_web.limits.rate_check`) in the real Redis: every
counter it touches has a TTL, so no key stays in Redis for good."""

from __future__ import annotations

import time
import uuid

from django.core.cache import cache

from geopera_web.limits import Rate, rate_check


def _window_key(scope: str, ident: str, rate: Rate) -> str:
    return f"rl:{scope}:{ident}:{int(time.time()) // rate.seconds}"


def _ttl(key: str) -> int:
    return cache._cache.get_client(key).ttl(cache.make_and_validate_key(key))


def test_a_counter_left_without_a_ttl_gets_one_on_the_next_hit():
    # What the old add-then-incr left behind when the key expired between its EXISTS and its INCR:
    # a counter re-created by INCR, with no TTL.
    rate = Rate(count=100, seconds=3600)
    scope, ident = f"test-{uuid.uuid4().hex}", "ip:203.0.113.9"
    key = _window_key(scope, ident, rate)
    cache._cache.get_client(key, write=True).set(cache.make_and_validate_key(key), 5)
    assert _ttl(key) == -1  # no expiry
    try:
        assert rate_check(scope=scope, ident=ident, rate=rate) is None
        assert cache.get(key) == 6
        assert 0 < _ttl(key) <= rate.seconds + 1
    finally:
        cache.delete(key)


def test_every_hit_counts_once_and_the_limit_holds():
    rate = Rate(count=3, seconds=3600)
    scope, ident = f"test-{uuid.uuid4().hex}", "user:1"
    key = _window_key(scope, ident, rate)
    try:
        answers = [rate_check(scope=scope, ident=ident, rate=rate) for _ in range(5)]
        assert answers[:3] == [None, None, None]
        assert all(isinstance(a, int) and 1 <= a <= 3600 for a in answers[3:])
        assert cache.get(key) == 5 and 0 < _ttl(key) <= rate.seconds + 1
    finally:
        cache.delete(key)
