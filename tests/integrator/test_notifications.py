"""Notifications: fed by committed events, routed by role, per-user preferences, and the feed's
operations (tenancy: another person's notification is a 404)."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from geopera_web.events.models import Event, Notification, NotificationPreference
from geopera_web.events.notifications import digests_send, events_notify
from geopera_web.events.services import event_emit
from geopera_web.ops.sweeper import sweeps_run
from tests.concurrency import run_concurrently
from tests.conftest import caller_for_user
from tests.factories import make_study, make_tasking_request, make_user

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


def test_pending_decision_goes_to_every_admin_not_to_operators(org, admin_user, operator_user, staff_user):
    second_admin = make_user(org=org, email="admin2@example.test", role="admin")
    order = make_tasking_request(org, operator_user)
    make_study(order, staff_user, deadline=timezone.now() + timedelta(days=2))
    to = set(Notification.objects.filter(kind="decision.pending").values_list("user_id", flat=True))
    assert to == {admin_user.pk, second_admin.pk}
    n = Notification.objects.filter(kind="decision.pending").first()
    assert "waits for your decision" in n.title and n.link == "/inbox/"


def test_status_changes_go_to_the_orders_creator(org, admin_user, operator_user):
    with transaction.atomic():
        event_emit(
            org=org,
            type="delivery.received",
            data={
                "orderId": "7f0c2d55-7d3e-4d47-9c41-2f7d1e6a0c11",
                "createdBy": operator_user.pk,
                "displayName": "Harbour",
            },
        )
    assert list(Notification.objects.values_list("user_id", "kind")) == [
        (operator_user.pk, "delivery.received")
    ]


def test_no_notification_for_a_rolled_back_change(org, admin_user):
    with pytest.raises(Boom), transaction.atomic():
        event_emit(org=org, type="wallet.low_balance", data={"availableCredits": 5})
        raise Boom
    assert not Notification.objects.exists()


def test_preferences_email_now_digest_or_in_app_off(org, admin_user, mailoutbox):
    second = make_user(org=org, email="digest@example.test", role="admin")
    third = make_user(org=org, email="quiet@example.test", role="admin")
    NotificationPreference.objects.create(user=admin_user, event_type="wallet.low_balance", email=True)
    NotificationPreference.objects.create(
        user=second, event_type="wallet.low_balance", email=True, digest=True
    )
    NotificationPreference.objects.create(user=third, event_type="wallet.low_balance", in_app=False)
    with transaction.atomic():
        event_emit(org=org, type="wallet.low_balance", data={"availableCredits": 900})
    assert [m.to for m in mailoutbox] == [[admin_user.email]]  # immediately, after commit
    feed_users = set(Notification.objects.filter(dismissed_at__isnull=True).values_list("user_id", flat=True))
    assert feed_users == {admin_user.pk, second.pk}
    assert digests_send() == 1
    assert mailoutbox[-1].to == [second.email] and "Credits are running low" in mailoutbox[-1].body
    assert digests_send() == 0  # sent once


def test_feed_operations_and_tenancy(org, admin_user, other_admin):
    with transaction.atomic():
        for n in range(3):
            event_emit(org=org, type="wallet.low_balance", data={"availableCredits": n})
    api = caller_for_user(admin_user, org)
    listing = api.post("notifications.list", {}).json()
    assert listing["total"] == 3 and listing["unread"] == 3
    assert api.post("notifications.unread_count", {}).json() == {"unread": 3}
    first, second, _ = (n["id"] for n in listing["notifications"])
    assert api.post("notifications.mark_read", {"notification_id": first}).json()["read"] is True
    assert api.post("notifications.unread_count", {}).json() == {"unread": 2}
    assert api.post("notifications.dismiss", {"notification_id": second}).json()["dismissed"] is True
    assert api.post("notifications.list", {}).json()["total"] == 2
    assert api.post("notifications.list", {"unread_only": True}).json()["total"] == 1
    assert api.post("notifications.mark_all_read", {}).json() == {"marked_count": 1}
    assert api.post("notifications.unread_count", {}).json() == {"unread": 0}

    other = caller_for_user(other_admin)
    assert other.post("notifications.mark_read", {"notification_id": first}).status_code == 404
    assert other.post("notifications.dismiss", {"notification_id": first}).status_code == 404
    assert other.post("notifications.list", {}).json()["total"] == 0
    assert api.post("notifications.mark_read", {"notification_id": "not-a-uuid"}).status_code == 404


def test_status_titles_read_as_words(org, operator_user):
    with transaction.atomic():
        event_emit(
            org=org,
            type="order.status_changed",
            data={
                "toStatus": "partially_fulfilled/QUOTATION_ACCEPTED",
                "createdBy": operator_user.pk,
                "displayName": "Harbour",
            },
        )
        event_emit(org=org, type="decision.pending", data={"decisionKind": "approval"})
    assert Notification.objects.get(kind="order.status_changed").title == "Harbour is now partially fulfilled"


# --- durability: the "notified" marker, the sweep, once per person per event ---------------------


def _committed_without_fan_out(org, type_: str = "wallet.low_balance", age_seconds: float = 600) -> Event:
    """An event whose transaction committed but whose after-commit fan-out never ran (the process
    died in between): created directly, so nothing is queued for it."""
    event = Event.objects.create(org=org, type=type_, payload={"availableCredits": 7})
    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(seconds=age_seconds))
    return event


def test_the_marker_is_set_with_the_rows_and_a_second_fan_out_adds_nothing(org, admin_user):
    second = make_user(org=org, email="admin2@example.test", role="admin")
    with transaction.atomic():
        event = event_emit(org=org, type="wallet.low_balance", data={"availableCredits": 5})
    event.refresh_from_db()
    assert event.notified_at is not None
    assert sorted(Notification.objects.filter(event=event).values_list("user_id", flat=True)) == sorted(
        [admin_user.pk, second.pk]
    )
    assert events_notify([event.pk]) == []  # a redelivery: already notified
    assert Notification.objects.filter(event=event).count() == 2


def test_the_sweep_notifies_a_committed_event_left_unnotified_once(org, admin_user, settings):
    settings.SWEEP_GRACE_SECONDS = 60
    old = _committed_without_fan_out(org)
    young = _committed_without_fan_out(org, age_seconds=1)  # its own fan-out may still be running
    assert sweeps_run()["event notifications"] == 1
    assert list(Notification.objects.values_list("event_id", "user_id")) == [(old.pk, admin_user.pk)]
    old.refresh_from_db()
    young.refresh_from_db()
    assert old.notified_at is not None and young.notified_at is None
    assert sweeps_run()["event notifications"] == 0
    assert Notification.objects.filter(event=old).count() == 1


def test_an_event_without_recipients_is_marked_too(org):
    event = _committed_without_fan_out(org, type_="order.created")
    assert events_notify([event.pk]) == []
    event.refresh_from_db()
    assert event.notified_at is not None  # the sweep will not pick it up again


def test_a_failed_fan_out_leaves_the_event_unnotified_for_the_sweep(org, admin_user):
    event = _committed_without_fan_out(org)
    with mock.patch("geopera_web.events.notifications.notify_many", side_effect=Boom), pytest.raises(Boom):
        events_notify([event.pk])
    event.refresh_from_db()
    assert event.notified_at is None and not Notification.objects.exists()
    assert len(events_notify([event.pk])) == 1


def test_the_database_refuses_a_second_line_for_one_person_and_event(org, admin_user):
    event = _committed_without_fan_out(org)
    events_notify([event.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(user=admin_user, org=org, event=event, kind=event.type, title="again")
    # lines without an event (a disabled webhook) are not constrained
    for _ in range(2):
        Notification.objects.create(user=admin_user, org=org, kind="webhook.disabled", title="x")


def test_racing_fan_outs_of_one_event_notify_each_person_once(org, admin_user):
    second = make_user(org=org, email="admin3@example.test", role="admin")
    events = [_committed_without_fan_out(org) for _ in range(3)]
    # The in-process consumer, a redelivered task and the sweep's task, all at once.
    results = run_concurrently(lambda: len(events_notify([e.pk for e in events])), threads=4)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(results) == [0, 0, 0, 6]  # one of them wrote every line, the others waited and found none
    lines = sorted(Notification.objects.values_list("event_id", "user_id"))
    assert lines == sorted((e.pk, u.pk) for e in events for u in (admin_user, second))


def test_digest_lines_follow_the_setting(org, admin_user, mailoutbox, settings):
    NotificationPreference.objects.create(
        user=admin_user, event_type="wallet.low_balance", email=True, digest=True
    )
    for n in range(3):
        with transaction.atomic():
            event_emit(org=org, type="wallet.low_balance", data={"availableCredits": n})
    settings.NOTIFICATION_DIGEST_MAX_LINES = 2
    assert digests_send() == 1
    body = mailoutbox[-1].body
    assert body.count("Credits are running low") == 2 and "… and 1 more" in body
