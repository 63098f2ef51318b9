"""The bell's poll (`/notifications/bell/`): the signed-in person's unread count in the active org,
a fragment without the layout, a constant handful of queries however many notifications exist."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from geopera_web.events.models import Notification
from geopera_web.events.notifications import notify_users

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _notify(user, org, n: int) -> None:
    for i in range(n):
        notify_users(users=[user.pk], org_id=org.pk, kind="wallet.low_balance", title=f"Low {i}")


def _polled(c: Client) -> tuple[int, str, object]:
    with CaptureQueriesContext(connection) as queries:
        r = c.get("/notifications/bell/", HTTP_HX_REQUEST="true")
    return len(queries), r.content.decode(), r


def test_the_bell_counts_own_unread_lines_of_the_active_org_only(org, other_org, admin_user, operator_user):
    _notify(admin_user, org, 3)
    _notify(operator_user, org, 2)  # someone else's
    notify_users(users=[admin_user.pk], org_id=other_org.pk, kind="wallet.low_balance", title="elsewhere")
    Notification.objects.filter(user=admin_user, title="Low 0").update(read_at="2026-01-01T00:00Z")
    _, html, r = _polled(_client(admin_user))
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    assert 'data-testid="bell-count">2<' in html
    assert "<html" not in html and "wallet" not in html  # the fragment, not the layout
    assert 'hx-get="/notifications/bell/"' in html and 'hx-trigger="every 30s, poll-resume"' in html


def test_the_poll_interval_is_the_setting(org, admin_user, settings):
    settings.NOTIFICATIONS_POLL_SECONDS = 7
    _, html, _ = _polled(_client(admin_user))
    assert 'hx-trigger="every 7s, poll-resume"' in html
    assert 'hx-trigger="every 7s, poll-resume"' in _client(admin_user).get("/").content.decode()


def test_the_poll_costs_four_queries_however_many_notifications(org, admin_user):
    c = _client(admin_user)
    _notify(admin_user, org, 1)
    few, html_few, _ = _polled(c)
    _notify(admin_user, org, 40)
    many, html_many, _ = _polled(c)
    assert 'bell-count">1<' in html_few and 'bell-count">41<' in html_many
    # session, user, membership, the unread count
    assert few == many == 4


def test_signed_out_poll_stops_polling_and_a_plain_visit_goes_to_login(org):
    r = Client().get("/notifications/bell/", HTTP_HX_REQUEST="true")
    assert r.status_code == 286 and r.content == b""
    r = Client().get("/notifications/bell/")
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_the_bell_is_read_only(org, admin_user):
    assert _client(admin_user).post("/notifications/bell/").status_code == 405
