"""Item 12 of issue 16: every page starts with a "Skip to content" link to the main region."""

from __future__ import annotations

from django.test import Client

from tests.factories import make_org, make_user


def test_pages_start_with_a_skip_link_to_main(db):
    client = Client()
    client.force_login(make_user(org=make_org(), role="operator"))
    for path in ("/", "/orders/"):
        html = client.get(path).content.decode()
        assert html.index('class="skip-link" href="#main"') < html.index('<header class="topbar">')
        assert '<main id="main"' in html
    assert 'href="#main"' in Client().get("/login/").content.decode()
