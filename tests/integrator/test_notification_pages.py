"""The bell (unread count in the top bar), the notifications page and the Webhooks settings page."""

from __future__ import annotations

import pytest
from django.test import Client

from geopera_web.events.models import EventSubscription, Notification
from geopera_web.events.notifications import notify_users

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _notify(user, org, n=1):
    for i in range(n):
        notify_users(
            users=[user.pk], org_id=org.pk, kind="wallet.low_balance", title=f"Low {i}", link="/billing/"
        )


def test_bell_shows_the_unread_count_and_the_page_reads_and_dismisses(org, admin_user):
    _notify(admin_user, org, 3)
    c = _client(admin_user)
    html = c.get("/").content.decode()
    assert 'data-testid="bell-count">3<' in html
    page = c.get("/notifications/").content.decode()
    assert page.count('data-testid="notification"') == 3
    first = Notification.objects.filter(user=admin_user).first()
    assert c.post(f"/notifications/{first.pk}/dismiss").status_code == 302
    assert (
        c.post(
            f"/notifications/{Notification.objects.filter(dismissed_at=None).first().pk}/read", {"open": "1"}
        )["Location"]
        == "/billing/"
    )
    assert 'data-testid="bell-count">1<' in c.get("/").content.decode()
    c.post("/notifications/read-all")
    assert 'data-testid="bell-count">0<' in c.get("/").content.decode()


def test_someone_elses_notification_is_a_404(org, admin_user, operator_user):
    _notify(admin_user, org)
    n = Notification.objects.get()
    assert _client(operator_user).post(f"/notifications/{n.pk}/dismiss").status_code == 404
    n.refresh_from_db()
    assert n.dismissed_at is None


def test_webhooks_page_admins_only_secret_once_and_form_errors(org, admin_user, operator_user):
    assert _client(operator_user).get("/settings/webhooks/").status_code == 403
    c = _client(admin_user)
    assert c.get("/settings/webhooks/").status_code == 200
    r = c.post(
        "/settings/webhooks/", {"event_type": "order.created", "endpoint_url": "https://example.com/hooks"}
    )
    sub = EventSubscription.objects.get()
    assert r.status_code == 200 and sub.secret in r.content.decode()
    assert sub.secret not in c.get("/settings/webhooks/").content.decode()
    bad = c.post("/settings/webhooks/", {"event_type": "order.created", "endpoint_url": "ftp://x"})
    assert bad.status_code == 400 and "http(s)" in bad.content.decode()
    assert EventSubscription.objects.count() == 1


def test_seed_demo_gives_a_log_of_every_status_a_disabled_endpoint_and_unread_notifications():
    from django.core.management import call_command

    from geopera_web.events.demo import DEMO_DISABLED_ENDPOINT, DEMO_ENDPOINT
    from geopera_web.events.models import WebhookDelivery

    call_command("seed_demo")
    rows = WebhookDelivery.objects.count()
    call_command("seed_demo")  # idempotent
    assert WebhookDelivery.objects.count() == rows
    sub = EventSubscription.objects.get(endpoint_url=DEMO_ENDPOINT)
    statuses = list(WebhookDelivery.objects.filter(subscription=sub).values_list("status", flat=True))
    assert set(statuses) == {"pending", "retrying", "succeeded", "failed"} and len(statuses) == 5
    replay = WebhookDelivery.objects.get(subscription=sub, replay_of__isnull=False)
    assert replay.replay_of.status == "failed" and replay.event_id == replay.replay_of.event_id
    disabled = EventSubscription.objects.get(endpoint_url=DEMO_DISABLED_ENDPOINT)
    assert not disabled.active and disabled.disabled_reason and disabled.deliveries.get().status == "failed"
    assert Notification.objects.filter(org=sub.org, read_at__isnull=True).exists()
    # A demo order has watchers, and some people chose their channels (shown on the form).
    from geopera_web.events.models import NotificationPreference, OrderWatcher

    watchers = OrderWatcher.objects.filter(org=sub.org)
    assert watchers.count() == 2 and len({w.order_id for w in watchers}) == 1
    modes = {p.email_mode for p in NotificationPreference.objects.filter(user__memberships__org=sub.org)}
    assert {"immediate", "daily"} <= modes
    # the page shows the log with every status
    c = _client(sub.created_by)
    page = c.get(f"/settings/webhooks/{sub.pk}/").content.decode()
    for status in ("pending", "retrying", "succeeded", "failed"):
        assert f'data-status="{status}"' in page
    assert "(replay)" in page
