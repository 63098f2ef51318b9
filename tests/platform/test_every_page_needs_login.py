"""Every page of the product, requested without signing in, sends you to the login page (or is
refused): walks the URL configuration, so a page added without a guard fails here."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# Deliberately public: sign-in itself, the health probe, the favicon redirect, the public STAC catalog (metadata and list
# prices only), scene quicklooks, the API (which answers 401 itself) and its documentation.
PUBLIC = re.compile(r"^(login/|logout/|healthz|readyz|favicon\.ico|stac|archive/quicklook/|v1/|admin/)")


def _routes(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _concrete(route: str) -> str:
    path = re.sub(r"<uuid:[a-z_]+>", str(uuid.uuid4()), route)
    path = re.sub(r"<(str|slug|path):[a-z_]+>", "x", path)
    return "/" + path


ROUTES = sorted({r for r in _routes(get_resolver().url_patterns) if not PUBLIC.match(r) and "(?P" not in r})


def test_there_are_pages_to_check():
    assert len(ROUTES) > 30


@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_visitors_are_sent_to_sign_in(route):
    client = Client()
    for method in (client.get, client.post):
        response = method(_concrete(route))
        assert response.status_code in (302, 404, 405), (route, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith("/login/"), (route, response["Location"])
