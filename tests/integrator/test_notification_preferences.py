"""Per-user notification preferences (in the app and/or e-mail: off, immediately or in the daily
digest), the preferences form, and the daily digest: one mail per person per day however often it
runs."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from geopera_web.celery import app as celery_app
from geopera_web.errors import InvalidInput
from geopera_web.events.models import Notification, NotificationDigest, NotificationPreference
from geopera_web.events.notifications import digests_send, preference_set, preferences_for
from geopera_web.events.services import event_emit
from geopera_web.events.tasks import send_notification_digests
from tests.factories import make_user


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP is down")


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _low_balance(org, credits=900) -> None:
    with transaction.atomic():
        event_emit(org=org, type="wallet.low_balance", data={"availableCredits": credits})


# --- the service ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_preference_set_maps_the_three_email_modes_and_is_the_users_own(admin_user, operator_user):
    p = preference_set(user=admin_user, event_type="delivery.received", in_app=False, email="daily")
    assert (p.in_app, p.email, p.digest, p.email_mode) == (False, True, True, "daily")
    p = preference_set(user=admin_user, event_type="delivery.received", in_app=True, email="immediate")
    assert (p.email, p.digest) == (True, False)
    assert NotificationPreference.objects.filter(user=admin_user).count() == 1  # updated, not added
    rows = {r["event_type"]: r for r in preferences_for(user=admin_user)}
    assert rows["delivery.received"]["email"] == "immediate"
    # Nobody else's preferences moved; defaults are in-app only.
    theirs = {r["event_type"]: r for r in preferences_for(user=operator_user)}
    assert theirs["delivery.received"] == theirs["delivery.received"] | {"in_app": True, "email": "off"}
    assert not NotificationPreference.objects.filter(user=operator_user).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("event_type", "email", "loc"),
    [
        ("delivery.received", "weekly", ["delivery.received", "email"]),
        ("order.created", "off", ["order.created"]),  # nobody is notified of it
        ("no.such.type", "off", ["no.such.type"]),
    ],
)
def test_preference_set_refuses_bad_input(admin_user, event_type, email, loc):
    with pytest.raises(InvalidInput) as exc:
        preference_set(user=admin_user, event_type=event_type, in_app=True, email=email)
    assert exc.value.extra["errors"][0]["loc"] == loc
    assert not NotificationPreference.objects.exists()


@pytest.mark.django_db
def test_a_digest_without_email_cannot_be_stored(admin_user):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        NotificationPreference.objects.create(user=admin_user, event_type="x", email=False, digest=True)


# --- the form ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_preferences_form_saves_with_htmx_and_shows_errors(org, admin_user, operator_user):
    c = _client(admin_user)
    page = c.get("/notifications/").content.decode()
    # One row per notifiable kind (watch.matched joined them).
    from geopera_web.events.notifications import NOTIFIABLE

    assert page.count('data-testid="pref-row"') == len(NOTIFIABLE) == 10
    assert 'name="email:delivery.received"' in page

    r = c.post(
        "/notifications/preferences/",
        {
            "email:delivery.received": "daily",
            "email:wallet.low_balance": "immediate",
            "in_app:wallet.low_balance": "on",
        },
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and 'data-testid="prefs-saved"' in r.content.decode()
    assert "<html" not in r.content.decode()  # the partial alone
    prefs = {p.event_type: p for p in NotificationPreference.objects.filter(user=admin_user)}
    assert (prefs["delivery.received"].in_app, prefs["delivery.received"].email_mode) == (False, "daily")
    assert (prefs["wallet.low_balance"].in_app, prefs["wallet.low_balance"].email_mode) == (True, "immediate")

    # One bad row: a 400 with the error on that row, and nothing saved (not even the good row).
    bad = c.post(
        "/notifications/preferences/",
        {
            "email:delivery.received": "off",
            "in_app:delivery.received": "on",
            "email:coverage.updated": "hourly",
        },
        HTTP_HX_REQUEST="true",
    )
    html = bad.content.decode()
    assert bad.status_code == 400 and 'data-testid="pref-error"' in html and "daily digest" in html
    assert (
        NotificationPreference.objects.get(user=admin_user, event_type="delivery.received").email_mode
        == "daily"
    )
    assert not NotificationPreference.objects.filter(event_type="coverage.updated").exists()

    unknown = c.post("/notifications/preferences/", {"email:order.created": "off"}, HTTP_HX_REQUEST="true")
    assert unknown.status_code == 400 and "order.created" in unknown.content.decode()
    empty = c.post("/notifications/preferences/", {}, HTTP_HX_REQUEST="true")
    assert empty.status_code == 400 and "Nothing to save" in empty.content.decode()

    # Without htmx: a redirect back to the page; the operator's own rows are theirs alone.
    r = _client(operator_user).post("/notifications/preferences/", {"email:delivery.received": "immediate"})
    assert r.status_code == 302 and r["Location"] == "/notifications/"
    assert NotificationPreference.objects.get(user=operator_user).email_mode == "immediate"
    assert (
        NotificationPreference.objects.get(user=admin_user, event_type="delivery.received").email_mode
        == "daily"
    )


@pytest.mark.django_db
def test_preferences_form_needs_a_login():
    r = Client().post("/notifications/preferences/", {"email:delivery.received": "off"})
    assert r.status_code == 302 and "/login/" in r["Location"]
    assert not NotificationPreference.objects.exists()


# --- the fan-out and the digest -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_fan_out_honours_each_channel(org, admin_user, mailoutbox):
    quiet = make_user(org=org, role="admin", email="quiet@example.test")
    digest_only = make_user(org=org, role="admin", email="digest@example.test")
    preference_set(user=admin_user, event_type="wallet.low_balance", in_app=True, email="immediate")
    preference_set(user=quiet, event_type="wallet.low_balance", in_app=False, email="off")
    preference_set(user=digest_only, event_type="wallet.low_balance", in_app=False, email="daily")
    with transaction.atomic():
        event_emit(org=org, type="wallet.low_balance", data={"availableCredits": 900})
        assert mailoutbox == []  # not before the commit
    assert [m.to for m in mailoutbox] == [[admin_user.email]]
    assert not Notification.objects.filter(user=quiet).exists()
    # The digest-only line waits for the digest and never shows in the feed or the bell.
    line = Notification.objects.get(user=digest_only)
    assert line.digest_pending and line.dismissed_at is not None
    assert (
        _client(digest_only).get("/notifications/").content.decode().count('data-testid="notification"') == 0
    )


@pytest.mark.django_db(transaction=True)
def test_digest_run_twice_sends_one_mail_and_later_lines_wait_for_tomorrow(org, admin_user, mailoutbox):
    preference_set(user=admin_user, event_type="wallet.low_balance", in_app=True, email="daily")
    _low_balance(org, 900)
    _low_balance(org, 800)
    assert mailoutbox == []  # digest, not immediate
    # Noon, not the wall clock: five minutes after 23:57 is another day, when a new digest is due.
    now = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    assert digests_send(now=now) == 1
    assert digests_send(now=now) == 0  # the same day again: nothing
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [admin_user.email]
    assert "2 updates" in mailoutbox[0].subject and mailoutbox[0].body.count("Credits are running low") == 2

    _low_balance(org, 700)  # after today's digest went out
    assert digests_send(now=now + timedelta(minutes=5)) == 0
    assert len(mailoutbox) == 1
    assert digests_send(now=now + timedelta(days=1)) == 1
    assert "1 update of" in mailoutbox[1].subject and "700" in mailoutbox[1].body
    assert NotificationDigest.objects.filter(user=admin_user, sent_at__isnull=False).count() == 2
    assert not Notification.objects.filter(digest_pending=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_failed_digest_is_sent_on_the_next_run(org, admin_user, mailoutbox, settings):
    preference_set(user=admin_user, event_type="wallet.low_balance", in_app=False, email="daily")
    _low_balance(org)
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    assert digests_send() == 0
    assert NotificationDigest.objects.get().sent_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert digests_send() == 1
    assert digests_send() == 0
    assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_digest_runs_at_once_send_one_mail(org, admin_user, mailoutbox):
    preference_set(user=admin_user, event_type="wallet.low_balance", in_app=True, email="daily")
    _low_balance(org)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(digests_send())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1]
    assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_the_beat_runs_the_digest_task_daily(org, admin_user, mailoutbox):
    entry = django_settings.CELERY_BEAT_SCHEDULE["events-notification-digests"]
    assert entry["task"] in celery_app.tasks and entry["task"].endswith("send_notification_digests")
    assert entry["schedule"].is_due(timezone.now() - timedelta(days=1)).is_due
    preference_set(user=admin_user, event_type="wallet.low_balance", in_app=True, email="daily")
    _low_balance(org)
    send_notification_digests.delay()
    send_notification_digests.delay()
    assert len(mailoutbox) == 1
